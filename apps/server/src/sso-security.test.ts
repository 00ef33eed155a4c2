/**
 * The browser single sign-on, attacked: a callback URL from someone else's flow
 * (login CSRF), a replayed or late hand-over cookie, a cross-site or non-JSON
 * hand-over request, redirects that could leave the site, and what the log
 * sees. A real identity provider (the test one) completes the flows.
 */
import { startTestProvider, testClientId, testClientSecret, type TestProvider } from "@tradestream/auth/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { roomyRateLimits, testConfig } from "./test-platform.ts";
import { defaultGatewayConfig } from "@tradestream/gateway";

let provider: TestProvider;
let platform: Platform;

beforeAll(async () => {
  const port = await freePort();
  provider = await startTestProvider(() => `http://127.0.0.1:${String(port)}/api/v1/auth/sso/callback`, { sub: "bjones", preferred_username: "bjones", name: "B. Jones", groups: ["authorized-traders"] });
  platform = await startPlatform(testConfig({
    seed: 41,
    port,
    oidc: { issuer: provider.issuer, clientId: testClientId, clientSecret: testClientSecret, redirectUri: provider.redirectUri },
    gateway: { ...defaultGatewayConfig, rateLimits: roomyRateLimits },
  }));
});

afterAll(async () => {
  await platform.close();
  await provider.close();
});

const pair = (cookie: string | undefined): string => (cookie ?? "").split(";")[0] ?? "";
const cookieNamed = (response: Response, name: string): string | undefined => response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
const json = { "content-type": "application/json" };

/** A browser flow up to the callback: the flow cookie and the provider's callback URL. */
async function browserFlow(): Promise<{ flow: string; callback: URL }> {
  const start = await fetch(`${platform.url}/api/v1/auth/sso/start?client=browser`, { redirect: "manual" });
  expect(start.status).toBe(302);
  const flow = pair(cookieNamed(start, "ts_sso_client"));
  return { flow, callback: await provider.signIn(start.headers.get("location") ?? "", "bjones") };
}

async function landed(): Promise<string> {
  const { flow, callback } = await browserFlow();
  const response = await fetch(callback, { redirect: "manual", headers: { cookie: flow } });
  expect(response.headers.get("location")).toBe("/?sso=done");
  return pair(cookieNamed(response, "ts_sso_session"));
}

describe("browser single sign-on, attacked", () => {
  it("binds the flow to the browser that started it: someone else's callback URL does not sign this browser in", async () => {
    // The attacker runs a flow of their own and stops at the callback URL…
    const attacker = await browserFlow();
    // …the victim has started a flow (their flow cookie), and is sent to the attacker's callback URL.
    const victim = await fetch(`${platform.url}/api/v1/auth/sso/start?client=browser`, { redirect: "manual" });
    const victimFlow = pair(cookieNamed(victim, "ts_sso_client"));
    const response = await fetch(attacker.callback, { redirect: "manual", headers: { cookie: victimFlow } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/?sso_error=sso_failed");
    expect(cookieNamed(response, "ts_sso_session")).toBeUndefined();
    // A flow cookie that names no state at all (the old "browser" marker) is no binding either.
    const marker = await fetch(attacker.callback, { redirect: "manual", headers: { cookie: "ts_sso_client=browser" } });
    expect(marker.headers.get("location")).toBe("/?sso_error=sso_failed");
  });

  it("hands the tokens over once: a replayed hand-over cookie finds nothing", async () => {
    const session = await landed();
    expect(session).not.toMatch(/eyJ/); // no JSON or JWT in the cookie
    const first = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { ...json, cookie: session }, body: "{}" });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { accessToken?: string }).accessToken).toEqual(expect.any(String));
    const replay = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { ...json, cookie: session }, body: "{}" });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: "unauthenticated" } });
    const forged = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { ...json, cookie: `ts_sso_session=${"A".repeat(43)}` }, body: "{}" });
    expect(forged.status).toBe(401);
  });

  it("refuses a cross-site or non-JSON hand-over (CSRF) and does not spend the handle", async () => {
    const session = await landed();
    const attempts: Array<Record<string, string>> = [
      { cookie: session, "content-type": "text/plain" },
      { cookie: session, "content-type": "application/x-www-form-urlencoded" },
      { cookie: session, ...json, origin: "https://evil.example" },
      { cookie: session, ...json, origin: "null" },
      { cookie: session, ...json, "sec-fetch-site": "cross-site" },
      { cookie: session, ...json, "sec-fetch-site": "same-site" },
    ];
    for (const headers of attempts) {
      const response = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers, body: "{}" });
      // A form body is refused by the edge before the route (415); everything else by the route (403).
      expect([403, 415], JSON.stringify(headers)).toContain(response.status);
      expect(await response.json()).toMatchObject({ error: { code: expect.stringMatching(/^(forbidden|unsupported_media_type)$/) as unknown } });
    }
    const own = await fetch(`${platform.url}/api/v1/auth/sso/session`, { method: "POST", headers: { ...json, cookie: session, origin: platform.url, "sec-fetch-site": "same-origin" }, body: "{}" });
    expect(own.status).toBe(200);
  });

  it("redirects only to the site's own root, whatever the provider sends back", async () => {
    const { flow } = await browserFlow();
    const state = decodeURIComponent(/ts_sso_client=(.*)/.exec(flow)?.[1] ?? "");
    expect(state).not.toBe("");
    for (const query of ["error=access_denied&state=x", "code=x&state=x&redirect=https://evil.example", "state=%2F%2Fevil.example"]) {
      const response = await fetch(`${platform.url}/api/v1/auth/sso/callback?${query}`, { redirect: "manual", headers: { cookie: flow } });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toMatch(/^\/\?sso_error=[a-z_]+$/);
    }
  });

  it("answers a failed non-browser callback with the one error shape and a 4xx", async () => {
    for (const query of ["", "?code=x", "?state=forged", `?state=${"s".repeat(5000)}&code=x`]) {
      const response = await fetch(`${platform.url}/api/v1/auth/sso/callback${query}`, { redirect: "manual" });
      expect(response.status, query).toBeGreaterThanOrEqual(400);
      expect(response.status, query).toBeLessThan(500);
      expect(await response.json()).toMatchObject({ error: { code: expect.any(String) as unknown, message: expect.any(String) as unknown } });
    }
  });
});
