/**
 * Single sign-on from the dashboard: /api/v1/auth/sso/start?client=browser marks
 * the flow, the provider's callback lands back on the dashboard (303 to
 * /?sso=done) without any token in a URL, and the page collects the tokens once
 * with POST /api/v1/auth/sso/session from a short-lived, HttpOnly cookie.
 */
import { startTestProvider, testClientId, testClientSecret, type TestProvider } from "@tradestream/auth/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient, freePort } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

let provider: TestProvider;
let platform: Platform;

beforeAll(async () => {
  const port = await freePort();
  provider = await startTestProvider(() => `http://127.0.0.1:${String(port)}/api/v1/auth/sso/callback`, { sub: "asmith", preferred_username: "asmith", name: "A. Smith", groups: ["authorized-traders"] });
  platform = await startPlatform(testConfig({
    seed: 7,
    port,
    oidc: { issuer: provider.issuer, clientId: testClientId, clientSecret: testClientSecret, redirectUri: provider.redirectUri },
  }));
});

afterAll(async () => {
  await platform.close();
  await provider.close();
});

const cookiesOf = (response: Response): string[] => response.headers.getSetCookie();
const pair = (cookie: string): string => cookie.split(";")[0] ?? "";

describe("single sign-on from the dashboard", () => {
  it("offers SSO in config.json when an identity provider is configured", async () => {
    expect(((await (await fetch(`${platform.url}/config.json`)).json()) as { sso: boolean }).sso).toBe(true);
  });

  it("lands back on the dashboard and hands the tokens over once, never in a URL", async () => {
    const start = await fetch(`${platform.url}/api/v1/auth/sso/start?client=browser`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const flow = cookiesOf(start).find((cookie) => cookie.startsWith("ts_sso_client="));
    expect(flow).toMatch(/HttpOnly/);
    expect(flow).toMatch(/SameSite=Lax/);
    const callback = await provider.signIn(start.headers.get("location") ?? "", "asmith");
    const landed = await fetch(callback, { redirect: "manual", headers: { cookie: pair(flow ?? "") } });
    expect(landed.status).toBe(303);
    expect(landed.headers.get("location")).toBe("/?sso=done");
    const session = cookiesOf(landed).find((cookie) => cookie.startsWith("ts_sso_session="));
    expect(session).toMatch(/Path=\/api\/v1\/auth\/sso\/session; Max-Age=60; HttpOnly; SameSite=Strict/);
    // The cookie carries an opaque handle, never the tokens themselves.
    expect(pair(session ?? "").length).toBeLessThan(80);
    const collected = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { cookie: pair(session ?? ""), "content-type": "application/json" }, body: "{}" });
    expect(collected.status).toBe(200);
    expect(cookiesOf(collected).some((cookie) => cookie.startsWith("ts_sso_session=;"))).toBe(true);
    const tokens = (await collected.json()) as { accessToken: string; user: { username: string } };
    expect(tokens.user.username).toBe("asmith");
    const me = await new ApiClient(platform.url, tokens.accessToken).get<{ method: string }>("/api/v1/auth/me");
    expect(me.body.method).toBe("sso");
    // Without the cookie (collected, or never set) there is nothing to hand over.
    expect((await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
  });

  it("sends a failed browser sign-on back to the dashboard with the error code", async () => {
    const landed = await fetch(`${platform.url}/api/v1/auth/sso/callback?code=forged&state=forged-state-value`, { redirect: "manual", headers: { cookie: "ts_sso_client=browser" } });
    expect(landed.status).toBe(303);
    expect(landed.headers.get("location")).toBe("/?sso_error=sso_failed");
  });
});
