// Single sign-on against a real OpenID provider (oidc-provider) started on the
// loopback interface. Its development login and consent pages are driven with
// fetch, as a browser would: follow redirects, carry cookies, submit the forms.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { testBackends } from "@tradestream/store";
import Provider, { type AccountClaims } from "oidc-provider";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import { AuthService } from "./service.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";

const pglite = (await testBackends()).find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

const clientId = "tradestream-web";
const clientSecret = "a-test-client-secret-that-is-long-enough";
const loginAs = "jane";

let server: Server;
let issuer: string;
let redirectUri: string;
let claims: AccountClaims;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  issuer = `http://127.0.0.1:${port}`;
  redirectUri = `http://127.0.0.1:${port + 1}/auth/sso/callback`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" }],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ ...claims, sub: id }) }),
    claims: { openid: ["sub"], profile: ["preferred_username", "name"], email: ["email"], groups: ["groups"] },
    scopes: ["openid", "profile", "email", "groups"],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ["a-cookie-signing-key-for-tests-only"] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  server.on("request", provider.callback());
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
});

/** Follows the provider's redirects and forms until it redirects to our callback; returns that URL. */
async function signInAtProvider(authorizationUrl: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop += 1) {
    if (url.startsWith(redirectUri)) return new URL(url);
    const response = await fetch(url, {
      method: form === undefined ? "GET" : "POST",
      redirect: "manual",
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join("; "), ...(form === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" }) },
      ...(form === undefined ? {} : { body: form.toString() }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location !== null) {
      url = new URL(location, url).href;
      form = undefined;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (response.status !== 200 || action === undefined || prompt === undefined) {
      throw new Error(`unexpected provider page (${response.status}): ${html.slice(0, 300)}`);
    }
    url = new URL(action.replace(/&#x2F;/g, "/").replace(/&amp;/g, "&"), url).href;
    form = prompt === "login" ? new URLSearchParams({ prompt, login: loginAs, password: "any" }) : new URLSearchParams({ prompt });
  }
  throw new Error("the provider never redirected back");
}

let h: Harness;
beforeEach(async () => {
  claims = { sub: loginAs, preferred_username: "Jane.Doe", email: "jane@example.com", name: "Jane Doe", groups: ["authorized-traders", "unknown-group"] };
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
    claims = { ...claims, groups: ["auditors"] };
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
