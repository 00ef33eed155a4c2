/**
 * Sign-in (password + TOTP, SSO), tokens, second-factor enrolment, API keys.
 *
 * The browser single sign-on: `sso/start?client=browser` binds the flow to the
 * browser with an HttpOnly cookie holding a hash of the OAuth state, so a callback
 * URL from someone else's flow cannot sign this browser in (login CSRF). The
 * callback never puts a token in a URL: the tokens wait in this process, under a
 * random handle that an HttpOnly, SameSite=Strict cookie scoped to the exchange
 * route carries, and `POST sso/session` hands them over once, within a minute,
 * only to a same-origin JSON request. A handle already used, expired or unknown
 * answers 401; the tokens are never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { UserView } from "@tradestream/auth";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { anyObject, errorResponse } from "../schemas.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 423: errorResponse, 429: errorResponse };
const signIn = { auth: "public", limit: "auth" } as const;
const secretString = { type: "string", minLength: 1, maxLength: 1024 } as const;

const ssoCookiePath = "/api/v1/auth/sso";
const ssoSessionPath = "/api/v1/auth/sso/session";
const ssoClientCookie = "ts_sso_client";
const ssoSessionCookie = "ts_sso_session";
/** How long a browser may take at the identity provider. */
const ssoBrowserFlowS = 600;
/** How long the dashboard has to collect the tokens after the callback. */
export const ssoSessionCookieS = 60;
/** Browser sign-ons whose tokens wait to be collected at once; past it a callback is refused (429) rather than memory grown. */
export const ssoHandoffsMax = 10_000;
/** Longest cookie value read; ours are 43 characters. */
const ssoCookieCharsMax = 128;

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function setCookie(reply: FastifyReply, request: FastifyRequest, cookie: { name: string; value: string; path: string; maxAgeS: number; sameSite: "Lax" | "Strict" }): void {
  const secure = request.protocol === "https" ? "; Secure" : "";
  void reply.header("set-cookie", `${cookie.name}=${cookie.value}; Path=${cookie.path}; Max-Age=${String(cookie.maxAgeS)}; HttpOnly; SameSite=${cookie.sameSite}${secure}`);
}

function sha256Url(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Tokens of completed browser sign-ons, each collected at most once (keyed by the hash of the cookie's handle). */
class SsoHandoffs {
  private readonly waiting = new Map<string, { body: Record<string, unknown>; expiresAtMs: number }>();

  /** A fresh handle for the body, or null when too many wait. */
  put(body: Record<string, unknown>, nowMs: number): string | null {
    for (const [key, entry] of this.waiting) if (entry.expiresAtMs <= nowMs) this.waiting.delete(key);
    if (this.waiting.size >= ssoHandoffsMax) return null;
    const handle = randomBytes(32).toString("base64url");
    this.waiting.set(sha256Url(handle), { body, expiresAtMs: nowMs + ssoSessionCookieS * 1000 });
    return handle;
  }

  /** The body, once: a second take of the same handle, or a late one, finds nothing. */
  take(handle: string, nowMs: number): Record<string, unknown> | null {
    const key = sha256Url(handle);
    const entry = this.waiting.get(key);
    this.waiting.delete(key);
    return entry === undefined || entry.expiresAtMs <= nowMs ? null : entry.body;
  }
}

/**
 * The token hand-over is for the dashboard on this origin only: a JSON request
 * (a cross-site form cannot send one, and a cross-origin script must pass a CORS
 * preflight first, which never allows credentials here) that the browser marks
 * `Sec-Fetch-Site: same-origin`. A browser too old to send that header is held
 * to its Origin header instead, compared by host only: a proxy that ends TLS
 * changes the scheme the gateway sees.
 */
function requireSameOriginJson(request: FastifyRequest): void {
  const refused = (): ApiError => new ApiError("forbidden", "The single sign-on can only be collected by the dashboard on this origin, with a JSON request.");
  const contentType = request.headers["content-type"] ?? "";
  if (!/^application\/json\s*(?:;|$)/i.test(contentType)) throw refused();
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined) {
    if (site !== "same-origin") throw refused();
    return;
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw refused();
  }
  if (host !== request.host) throw refused();
}

export function userDto(user: UserView): Record<string, unknown> {
  return { userId: user.userId, username: user.username, displayName: user.displayName, groups: user.groups, accountIds: user.accountIds, mfaEnrolled: user.mfaEnrolled, sso: user.sso, disabled: user.disabled };
}

export function registerAuthRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { auth } = context.deps;
  const handoffs = new SsoHandoffs();

  app.post<{ Body: { username: string; password: string } }>(
    "/api/v1/auth/login",
    {
      config: signIn,
      schema: {
        tags: ["auth"],
        summary: "Sign in with username and password",
        description: "Users with a second factor get {mfaRequired: true, mfaToken}; finish with POST /api/v1/auth/mfa. Repeated failures lock the user with back-off (423).",
        security: [],
        body: { type: "object", additionalProperties: false, required: ["username", "password"], properties: { username: { type: "string", minLength: 1, maxLength: 64 }, password: secretString } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const result = await auth.login(request.body.username, request.body.password, context.meta(request));
      context.metrics.authEvents.inc({ method: "password", result: result.status });
      if (result.status === "mfa_required") return { mfaRequired: true, mfaToken: result.mfaToken, expiresIn: result.expiresIn };
      return { mfaRequired: false, ...result.tokens, user: userDto(result.user) };
    },
  );

  app.post<{ Body: { mfaToken: string; code: string } }>(
    "/api/v1/auth/mfa",
    {
      config: signIn,
      schema: {
        tags: ["auth"],
        summary: "Finish sign-in with a TOTP code or a recovery code",
        security: [],
        body: { type: "object", additionalProperties: false, required: ["mfaToken", "code"], properties: { mfaToken: secretString, code: { type: "string", minLength: 6, maxLength: 32 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const result = await auth.verifyMfa(request.body.mfaToken, request.body.code, context.meta(request));
      context.metrics.authEvents.inc({ method: "password", result: "ok" });
      return { ...result.tokens, user: userDto(result.user) };
    },
  );

  app.post<{ Body: { refreshToken: string } }>(
    "/api/v1/auth/refresh",
    {
      config: signIn,
      schema: {
        tags: ["auth"],
        summary: "Exchange a refresh token for new tokens (rotation; a reused token revokes its whole family)",
        security: [],
        body: { type: "object", additionalProperties: false, required: ["refreshToken"], properties: { refreshToken: secretString } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => auth.refresh(request.body.refreshToken, context.meta(request)),
  );

  app.post(
    "/api/v1/auth/logout",
    { schema: { tags: ["auth"], summary: "Sign out: revokes the session (refresh family and its access tokens)", response: { 200: anyObject, ...errors } } },
    async (request) => {
      const principal = context.principal(request);
      if (principal.sessionId === null) throw new ApiError("validation_failed", "API-key requests have no session to sign out of; revoke the key instead.");
      await auth.logout(principal.sessionId, context.meta(request));
      return { status: "signed_out" };
    },
  );

  app.get("/api/v1/auth/me", { schema: { tags: ["auth"], summary: "Who am I: user, groups, roles, accounts", response: { 200: anyObject, ...errors } } }, async (request) => {
    const principal = context.principal(request);
    const user = await auth.getUser(principal.userId);
    return { ...userDto(user), roles: principal.roles, method: principal.method };
  });

  app.post("/api/v1/auth/totp/enrol", { schema: { tags: ["auth"], summary: "Start TOTP enrolment: secret, otpauth URI and QR code (SVG)", response: { 200: anyObject, ...errors } } }, async (request) => {
    const principal = context.principal(request);
    const enrolment = await auth.beginTotpEnrolment(principal.userId);
    return enrolment;
  });

  app.post<{ Body: { code: string } }>(
    "/api/v1/auth/totp/confirm",
    {
      schema: {
        tags: ["auth"],
        summary: "Confirm TOTP enrolment with a code; returns 10 single-use recovery codes (shown once)",
        body: { type: "object", additionalProperties: false, required: ["code"], properties: { code: { type: "string", minLength: 6, maxLength: 8, pattern: "^[0-9]+$" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => auth.confirmTotpEnrolment(context.principal(request).userId, request.body.code),
  );

  app.get<{ Querystring: { client?: "browser" } }>(
    "/api/v1/auth/sso/start",
    {
      config: signIn,
      schema: {
        tags: ["auth"],
        summary: "Start single sign-on: redirects to the identity provider (authorization code + PKCE)",
        description: "With client=browser the callback lands back in the dashboard, which collects the tokens with POST /api/v1/auth/sso/session; without it the callback answers the tokens as JSON.",
        security: [],
        querystring: { type: "object", additionalProperties: false, properties: { client: { type: "string", enum: ["browser"] } } },
        response: { 302: { type: "null" }, ...errors },
      },
    },
    async (request, reply) => {
      if (!auth.ssoEnabled) throw new ApiError("sso_not_configured");
      const start = await auth.ssoStart();
      // The flow is bound to this browser: the callback must bring back the state this cookie names.
      if (request.query.client === "browser") setCookie(reply, request, { name: ssoClientCookie, value: sha256Url(start.state), path: ssoCookiePath, maxAgeS: ssoBrowserFlowS, sameSite: "Lax" });
      return reply.redirect(start.authorizationUrl, 302);
    },
  );

  app.get(
    "/api/v1/auth/sso/callback",
    { config: signIn, schema: { tags: ["auth"], summary: "Single sign-on callback: returns tokens (or, for a browser flow, lands back in the dashboard)", security: [], response: { 200: anyObject, 303: { type: "null" }, ...errors } } },
    async (request, reply) => {
      if (!auth.ssoEnabled) throw new ApiError("sso_not_configured");
      const binding = cookieOf(request, ssoClientCookie);
      const url = new URL(request.url, `${request.protocol}://${request.host}`);
      if (binding === undefined || binding === "") {
        const result = await auth.ssoCallback(url, context.meta(request));
        context.metrics.authEvents.inc({ method: "sso", result: "ok" });
        return { ...result.tokens, user: userDto(result.user) };
      }
      setCookie(reply, request, { name: ssoClientCookie, value: "", path: ssoCookiePath, maxAgeS: 0, sameSite: "Lax" });
      const state = url.searchParams.get("state");
      if (state === null || binding.length > ssoCookieCharsMax || !sameText(binding, sha256Url(state))) {
        // A callback from a flow this browser did not start (login CSRF): its state is left alone.
        context.metrics.authEvents.inc({ method: "sso", result: "state_mismatch" });
        return reply.redirect("/?sso_error=sso_failed", 303);
      }
      try {
        const result = await auth.ssoCallback(url, context.meta(request));
        context.metrics.authEvents.inc({ method: "sso", result: "ok" });
        // The tokens never travel in a URL (URLs are logged and kept in history) nor in a cookie:
        // they wait here under a random handle that only POST /api/v1/auth/sso/session redeems, once.
        const handle = handoffs.put({ ...result.tokens, user: userDto(result.user) }, Date.now());
        if (handle === null) return reply.redirect("/?sso_error=rate_limited", 303);
        setCookie(reply, request, { name: ssoSessionCookie, value: handle, path: ssoSessionPath, maxAgeS: ssoSessionCookieS, sameSite: "Strict" });
        return reply.redirect("/?sso=done", 303);
      } catch (error) {
        const code = error instanceof Error && "code" in error && typeof error.code === "string" && /^[a-z_]{1,40}$/.test(error.code) ? error.code : "sso_failed";
        if (!(error instanceof Error && "code" in error)) {
          context.deps.logger.warn("sso: the browser callback failed", { requestId: String(request.id), error: error instanceof Error ? error.name : "unknown" });
        }
        return reply.redirect(`/?sso_error=${code}`, 303);
      }
    },
  );

  app.post(
    "/api/v1/auth/sso/session",
    { config: signIn, schema: { tags: ["auth"], summary: "Collect the tokens of a browser single sign-on (once, within a minute of the callback; a same-origin JSON request)", security: [], response: { 200: anyObject, ...errors } } },
    async (request, reply) => {
      requireSameOriginJson(request);
      const handle = cookieOf(request, ssoSessionCookie);
      setCookie(reply, request, { name: ssoSessionCookie, value: "", path: ssoSessionPath, maxAgeS: 0, sameSite: "Strict" });
      if (handle === undefined || handle === "" || handle.length > ssoCookieCharsMax) throw new ApiError("unauthenticated", "No single sign-on to collect; start again.");
      const body = handoffs.take(handle, Date.now());
      if (body === null) throw new ApiError("unauthenticated", "The single sign-on was already collected or has expired; start again.");
      return body;
    },
  );

  app.get("/api/v1/api-keys", { schema: { tags: ["auth"], summary: "Your API keys (never the secrets)", response: { 200: anyObject, ...errors } } }, async (request) => ({
    items: await auth.listApiKeys(context.principal(request).userId),
  }));

  app.post<{ Body: { label: string } }>(
    "/api/v1/api-keys",
    {
      schema: {
        tags: ["auth"],
        summary: "Create an API key; the secret is shown once",
        body: { type: "object", additionalProperties: false, required: ["label"], properties: { label: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9 ._-]+$" } } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const principal = context.principal(request);
      if (principal.method === "api_key") throw new ApiError("forbidden", "An API key cannot create API keys; sign in as a person.");
      const key = await auth.createApiKey(principal.userId, request.body.label, context.meta(request));
      return reply.code(201).send(key);
    },
  );

  app.delete<{ Params: { keyId: string } }>(
    "/api/v1/api-keys/:keyId",
    {
      schema: {
        tags: ["auth"],
        summary: "Revoke an API key",
        params: { type: "object", required: ["keyId"], properties: { keyId: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      await auth.revokeApiKey(context.principal(request).userId, request.params.keyId, context.meta(request));
      return { status: "revoked" };
    },
  );
}
