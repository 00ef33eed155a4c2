/**
 * The OpenID Connect relying party: authorization code flow with PKCE (S256) and
 * a nonce, against the corporate identity provider found by discovery. This module
 * speaks the protocol only; who the signed-in person becomes is AuthService's job.
 *
 * Plain HTTP is allowed only for an issuer on the loopback interface (a provider
 * started by a test or on a developer's machine); anything else must be HTTPS.
 */
import * as client from "openid-client";

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** Confidential clients authenticate with client_secret_basic; without a secret the client is public. */
  readonly clientSecret?: string | undefined;
  readonly redirectUri: string;
  /** The claim carrying directory group names; default "groups". */
  readonly groupsClaim?: string | undefined;
  /** Default "openid profile email groups". */
  readonly scope?: string | undefined;
  /** Outbound requests to the identity provider go through this (the platform passes its egress allow-list); default: the global fetch. */
  readonly fetch?: ((url: string, init: RequestInit) => Promise<Response>) | undefined;
}

export const oidcScopeDefault = "openid profile email groups";
export const oidcGroupsClaimDefault = "groups";

export interface OidcChecks {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface OidcIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** ID token claims overlaid with the userinfo response. */
  readonly claims: Readonly<Record<string, unknown>>;
}

const loopbackHosts: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === "http:" && loopbackHosts.has(parsed.hostname);
}

export class OidcClient {
  readonly #options: OidcConfig;
  #configuration: Promise<client.Configuration> | null = null;

  constructor(options: OidcConfig) {
    this.#options = options;
  }

  get groupsClaim(): string {
    return this.#options.groupsClaim ?? oidcGroupsClaimDefault;
  }

  static newChecks(): OidcChecks {
    return { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
  }

  async authorizationUrl(checks: OidcChecks): Promise<URL> {
    const configuration = await this.#configure();
    return client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.#options.redirectUri,
      scope: this.#options.scope ?? oidcScopeDefault,
      response_type: "code",
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: "S256",
      state: checks.state,
      nonce: checks.nonce,
    });
  }

  /** Validates the authorization response, redeems the code and returns who signed in. */
  async complete(callbackUrl: URL, checks: OidcChecks): Promise<OidcIdentity> {
    const configuration = await this.#configure();
    const tokens = await client.authorizationCodeGrant(
      configuration,
      callbackUrl,
      { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
      // Sent explicitly: behind a proxy the URL the server saw may differ from the registered one.
      { redirect_uri: this.#options.redirectUri },
    );
    const idToken = tokens.claims();
    if (idToken === undefined) throw new Error("The identity provider returned no ID token.");
    let claims: Record<string, unknown> = { ...idToken };
    if (configuration.serverMetadata().userinfo_endpoint !== undefined) {
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
      claims = { ...claims, ...userinfo, sub: idToken.sub, iss: idToken.iss };
    }
    return { issuer: idToken.iss, subject: idToken.sub, claims };
  }

  #configure(): Promise<client.Configuration> {
    if (this.#configuration === null) {
      const options = this.#options;
      const outbound = options.fetch;
      const pending = client.discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        options.clientSecret === undefined ? client.None() : client.ClientSecretBasic(options.clientSecret),
        {
          ...(isLoopbackHttp(options.issuer) ? { execute: [client.allowInsecureRequests] } : {}),
          // Kept by the configuration for every later request (token, userinfo, keys).
          ...(outbound === undefined ? {} : { [client.customFetch]: (url: string, init: client.CustomFetchOptions) => outbound(url, init as RequestInit) }),
        },
      );
      this.#configuration = pending;
      // A failed discovery (provider down at start-up) is retried on the next sign-in.
      void pending.catch(() => {
        if (this.#configuration === pending) this.#configuration = null;
      });
    }
    return this.#configuration;
  }
}
