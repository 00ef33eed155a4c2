/** Sign-in (password + TOTP, SSO), tokens, second-factor enrolment, API keys. */
import type { UserView } from "@tradestream/auth";
import type { FastifyInstance } from "fastify";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { anyObject, errorResponse } from "../schemas.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 423: errorResponse, 429: errorResponse };
const signIn = { auth: "public", limit: "auth" } as const;
const secretString = { type: "string", minLength: 1, maxLength: 1024 } as const;

export function userDto(user: UserView): Record<string, unknown> {
  return { userId: user.userId, username: user.username, displayName: user.displayName, groups: user.groups, accountIds: user.accountIds, mfaEnrolled: user.mfaEnrolled, sso: user.sso, disabled: user.disabled };
}

export function registerAuthRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { auth } = context.deps;

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

  app.get(
    "/api/v1/auth/sso/start",
    { config: signIn, schema: { tags: ["auth"], summary: "Start single sign-on: redirects to the identity provider (authorization code + PKCE)", security: [], response: { 302: { type: "null" }, ...errors } } },
    async (_request, reply) => {
      if (!auth.ssoEnabled) throw new ApiError("sso_not_configured");
      const start = await auth.ssoStart();
      return reply.redirect(start.authorizationUrl, 302);
    },
  );

  app.get(
    "/api/v1/auth/sso/callback",
    { config: signIn, schema: { tags: ["auth"], summary: "Single sign-on callback: returns tokens", security: [], response: { 200: anyObject, ...errors } } },
    async (request) => {
      if (!auth.ssoEnabled) throw new ApiError("sso_not_configured");
      const url = new URL(request.url, `${request.protocol}://${request.host}`);
      const result = await auth.ssoCallback(url, context.meta(request));
      context.metrics.authEvents.inc({ method: "sso", result: "ok" });
      return { ...result.tokens, user: userDto(result.user) };
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
