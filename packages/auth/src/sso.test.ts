// Single sign-on against a real OpenID provider (oidc-provider, testing-oidc.ts)
// started on the loopback interface.
import { testBackends } from "@tradestream/store";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import { AuthService } from "./service.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";
import { startTestProvider, testClientId, testClientSecret, type TestProvider } from "./testing-oidc.ts";

const pglite = (await testBackends()).find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

const loginAs = "jane";

let provider: TestProvider;
let issuer: string;
let redirectUri: string;
const clientId = testClientId;
const clientSecret = testClientSecret;

beforeAll(async () => {
  provider = await startTestProvider((_issuer, port) => `http://127.0.0.1:${String(port + 1)}/auth/sso/callback`, { sub: loginAs });
  issuer = provider.issuer;
  redirectUri = provider.redirectUri;
});

afterAll(async () => {
  await provider.close();
});

const signInAtProvider = (authorizationUrl: string): Promise<URL> => provider.signIn(authorizationUrl, loginAs);

let h: Harness;
beforeEach(async () => {
  provider.claims = { sub: loginAs, preferred_username: "Jane.Doe", email: "jane@example.com", name: "Jane Doe", groups: ["authorized-traders", "unknown-group"] };
  h = await openHarness(await pglite.open(), { now: Date.now, oidc: { issuer, clientId, clientSecret, redirectUri } });
});
afterEach(async () => {
  await h.close();
});

describe("single sign-on", () => {
  it("provisions the user on first sign-in with known groups only, and issues working tokens", async () => {
    expect(h.auth.ssoEnabled).toBe(true);
    const start = await h.auth.ssoStart();
    const authorization = new URL(start.authorizationUrl);
    expect(authorization.origin).toBe(issuer);
    expect(authorization.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorization.searchParams.get("state")).toBe(start.state);
    expect(authorization.searchParams.get("nonce")).toMatch(/.{20,}/);

    const result = await h.auth.ssoCallback(await signInAtProvider(start.authorizationUrl), meta);
    expect(result.user).toMatchObject({ username: "jane.doe", displayName: "Jane Doe", groups: ["authorized-traders"], accountIds: [], sso: true, mfaEnrolled: false });
    const stored = await h.sql.query("SELECT groups, account_ids FROM auth_users WHERE user_id = $1", [result.user.userId]);
    expect(stored).toEqual([{ groups: ["authorized-traders"], account_ids: [] }]);
    const principal = await h.auth.authenticateAccessToken(result.tokens.accessToken);
    expect(principal).toMatchObject({ username: "jane.doe", roles: ["trader"], method: "sso" });
    expect((await h.auth.authenticateAccessToken((await h.auth.refresh(result.tokens.refreshToken, meta)).accessToken)).method).toBe("sso");

    const [signIn] = await h.auth.audit.list({ limit: 1, action: "sso_login" });
    expect(signIn).toMatchObject({ actor: "jane.doe", outcome: "ok", detail: { subject: `${issuer}|${loginAs}`, ignoredGroups: ["unknown-group"] } });
    expect(h.logLines.some((line) => line.includes("unknown-group"))).toBe(true);
  });

  it("recognises the subject again, replaces its groups, and keeps the accounts an administrator assigned", async () => {
    const first = await h.auth.ssoCallback(await signInAtProvider((await h.auth.ssoStart()).authorizationUrl), meta);
    await h.auth.updateUser(first.user.userId, { accountIds: [1001] }, "admin1");
    provider.claims = { ...provider.claims, groups: ["auditors"] };
    const second = await h.auth.ssoCallback(await signInAtProvider((await h.auth.ssoStart()).authorizationUrl), meta);
    expect(second.user).toMatchObject({ userId: first.user.userId, groups: ["auditors"], accountIds: [1001] });
    expect((await h.auth.listUsers()).length).toBe(1);
  });

  it("never takes over a local user with the same name", async () => {
    const local = await h.auth.createUser({ username: "jane.doe", password: "a local passphrase", groups: ["fin-compliance-leads"], accountIds: [] });
    const result = await h.auth.ssoCallback(await signInAtProvider((await h.auth.ssoStart()).authorizationUrl), meta);
    expect(result.user.userId).not.toBe(local.userId);
    expect(result.user.username).toBe("jane.doe-2");
    expect(result.user.groups).toEqual(["authorized-traders"]);
  });

  it("refuses a tampered state, a reused state and a disabled user", async () => {
    const callback = await signInAtProvider((await h.auth.ssoStart()).authorizationUrl);
    const tampered = new URL(callback);
    tampered.searchParams.set("state", `${callback.searchParams.get("state") ?? ""}x`);
    await expect(h.auth.ssoCallback(tampered, meta)).rejects.toMatchObject({ code: "sso_failed" });
    const result = await h.auth.ssoCallback(callback, meta);
    await expect(h.auth.ssoCallback(callback, meta)).rejects.toMatchObject({ code: "sso_failed" });

    await h.auth.updateUser(result.user.userId, { disabled: true }, "admin1");
    const again = await signInAtProvider((await h.auth.ssoStart()).authorizationUrl);
    await expect(h.auth.ssoCallback(again, meta)).rejects.toMatchObject({ code: "user_disabled" });
  });

  it("refuses a state that was issued but swapped with another sign-in's", async () => {
    const a = await h.auth.ssoStart();
    const b = await h.auth.ssoStart();
    const callback = await signInAtProvider(a.authorizationUrl);
    // The callback carries a's code but claims b's state: b's PKCE verifier and nonce do not match.
    callback.searchParams.set("state", b.state);
    await expect(h.auth.ssoCallback(callback, meta)).rejects.toMatchObject({ code: "sso_failed" });
  });

  it("reports sso_not_configured without an OIDC configuration", async () => {
    const plain = await AuthService.open({ sql: h.sql, secret: h.secret });
    expect(plain.ssoEnabled).toBe(false);
    await expect(plain.ssoStart()).rejects.toBeInstanceOf(AuthError);
    await expect(plain.ssoStart()).rejects.toMatchObject({ code: "sso_not_configured" });
  });
});
