/**
 * Single sign-on through the gateway against a real OpenID provider: the browser
 * is sent to the provider by /api/v1/auth/sso/start, signs in there, comes back
 * to /api/v1/auth/sso/callback and gets tokens; the provider's groups claim
 * decides the roles, an admin assigns the trading account.
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
  provider = await startTestProvider(() => `http://127.0.0.1:${String(port)}/api/v1/auth/sso/callback`, {
    sub: "jdoe",
    preferred_username: "jdoe",
    name: "J. Doe",
    groups: ["authorized-traders", "not-ours"],
  });
  platform = await startPlatform(testConfig({
    seed: 6,
    port,
    oidc: { issuer: provider.issuer, clientId: testClientId, clientSecret: testClientSecret, redirectUri: provider.redirectUri },
  }));
});

afterAll(async () => {
  await platform.close();
  await provider.close();
});

describe("single sign-on through the gateway", () => {
  it("redirects to the provider, returns tokens on the callback, maps groups to roles", async () => {
    const start = await fetch(`${platform.url}/api/v1/auth/sso/start`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const location = start.headers.get("location") ?? "";
    expect(location.startsWith(provider.issuer)).toBe(true);
    const callback = await provider.signIn(location, "jdoe");
    expect(callback.pathname).toBe("/api/v1/auth/sso/callback");
    const tokens = await fetch(callback);
    expect(tokens.status).toBe(200);
    const body = (await tokens.json()) as { accessToken: string; user: { userId: number; groups: string[] } };
    expect(body.user.groups).toEqual(["authorized-traders"]);
    const jdoe = new ApiClient(platform.url, body.accessToken);
    const me = await jdoe.get<{ roles: string[]; method: string; accountIds: number[] }>("/api/v1/auth/me");
    expect(me.body).toMatchObject({ roles: ["trader"], method: "sso", accountIds: [] });
    // No account yet: trading is refused until an admin assigns one.
    const refused = await jdoe.post<{ error: { code: string } }>("/api/v1/orders", { symbol: "MC", side: "buy", type: "limit", price: "599.00", quantity: "1", clientOrderId: "sso-1" });
    expect(refused.body.error.code).toBe("not_owner");
    const admin = await ApiClient.signIn(platform.url, "admin1");
    expect((await admin.request("PATCH", `/api/v1/admin/users/${String(body.user.userId)}`, { accountIds: [1003] })).status).toBe(200);
    const placed = await jdoe.post<{ order: { accountId: number } }>("/api/v1/orders", { symbol: "MC", side: "buy", type: "limit", price: "599.00", quantity: "1", clientOrderId: "sso-1" });
    expect(placed.status).toBe(201);
    expect(placed.body.order.accountId).toBe(1003);
  });

  it("refuses a callback whose state was never issued", async () => {
    const response = await fetch(`${platform.url}/api/v1/auth/sso/callback?code=forged&state=forged-state-value`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("sso_failed");
  });
});
