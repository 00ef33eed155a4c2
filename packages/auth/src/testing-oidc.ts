/**
 * A real OpenID provider (oidc-provider) on the loopback interface for tests,
 * with its development login and consent pages, and a "browser" that signs in at
 * it with fetch: follow redirects, carry cookies, submit the forms.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type AccountClaims } from "oidc-provider";

export const testClientId = "tradestream-web";
export const testClientSecret = "a-test-client-secret-that-is-long-enough";

export interface TestProvider {
  readonly issuer: string;
  readonly redirectUri: string;
  /** The claims the provider returns for the next sign-in (sub is the login name). */
  claims: AccountClaims;
  /** Follows the provider's redirects and forms as `login` until it redirects to redirectUri; returns that URL. */
  signIn(authorizationUrl: string, login: string): Promise<URL>;
  close(): Promise<void>;
}

export async function startTestProvider(redirectUri: (issuer: string, port: number) => string, claims: AccountClaims): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${String(port)}`;
  const redirect = redirectUri(issuer, port);
  const state: TestProvider = {
    issuer,
    redirectUri: redirect,
    claims,
    signIn: (authorizationUrl, login) => signInAt(authorizationUrl, login, redirect),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error)))),
  };
  const provider = new Provider(issuer, {
    clients: [{ client_id: testClientId, client_secret: testClientSecret, redirect_uris: [redirect], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" }],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ ...state.claims, sub: id }) }),
    claims: { openid: ["sub"], profile: ["preferred_username", "name"], email: ["email"], groups: ["groups"] },
    scopes: ["openid", "profile", "email", "groups"],
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ["a-cookie-signing-key-for-tests-only"] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  server.on("request", provider.callback());
  return state;
}

async function signInAt(authorizationUrl: string, login: string, redirectUri: string): Promise<URL> {
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
      throw new Error(`unexpected provider page (${String(response.status)}): ${html.slice(0, 300)}`);
    }
    url = new URL(action.replace(/&#x2F;/g, "/").replace(/&amp;/g, "&"), url).href;
    form = prompt === "login" ? new URLSearchParams({ prompt, login, password: "any" }) : new URLSearchParams({ prompt });
  }
  throw new Error("the provider never redirected back");
}
