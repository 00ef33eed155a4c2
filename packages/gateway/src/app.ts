/**
 * The HTTP edge: one Fastify instance with the platform's rules applied to
 * every route — request ids, security headers, CORS, body limits, per-IP and
 * per-user rate limits, authentication (bearer token or signed API-key request),
 * schema validation, one error shape, metrics — and the routes of /api/v1, the
 * WebSocket endpoint /ws, /health, /ready, /metrics and the OpenAPI document.
 */
import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { AuthError, signatureHeaders, type AuthService, type Principal } from "@tradestream/auth";
import type { CardVault, PaymentsService } from "@tradestream/ledger";
import type { MarketDataProjection } from "@tradestream/marketdata";
import type { OrdersProjection } from "@tradestream/orders";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ApiError, errorBody } from "./api-error.ts";
import { GatewayMetrics } from "./metrics.ts";
import { OrderService, type TradingPort } from "./order-service.ts";
import { RateLimiter, type RateLimit } from "./rate-limit.ts";
import { registerAccountRoutes } from "./routes/accounts.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerMarketRoutes, type FeedPort } from "./routes/markets.ts";
import { registerOpsRoutes } from "./routes/ops.ts";
import { registerLedgerRoutes, type LedgerPort } from "./routes/ledger.ts";
import { registerPaymentRoutes } from "./routes/payments.ts";
import { registerDashboardRoutes, type DashboardConfig } from "./static.ts";
import { registerOrderRoutes } from "./routes/orders.ts";
import { WsHub, type WsOptions } from "./ws.ts";

export { defaultDashboardConfig, type DashboardConfig } from "./static.ts";

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

/** When the trading day closes: the schedule as configured, the next close, and when the current day began. */
export interface TradingDayInfo {
  /** "17:30 Europe/Paris Mon-Fri, holidays euronext"; null when the day ends only on demand. */
  readonly closesAt: string | null;
  /** ISO time of the next scheduled close (when DAY orders expire), or null. */
  readonly nextCloseAt: string | null;
  /** ISO time of the last end of day (the current day's start), or null before the first. */
  readonly startedAt: string | null;
}

export interface GatewayDeps {
  readonly trading: TradingPort;
  readonly market: MarketDataProjection;
  readonly orders: OrdersProjection;
  readonly auth: AuthService;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics | undefined;
  readiness(): Promise<Readiness>;
  /** Operational status for SRE (sequence numbers, queue depth, uptime…). */
  status?(): Record<string, unknown>;
  /** The trading day's schedule, for anyone (GET /api/v1/trading-day); none when the platform has no close. */
  tradingDay?(): TradingDayInfo;
  /** The books of record; their routes are served when present. */
  readonly ledger?: LedgerPort | undefined;
  /** Deposits and withdrawals through the payment provider; served when present. */
  readonly payments?: PaymentsService | undefined;
  /** The card vault behind POST /api/v1/payments/cards. */
  readonly vault?: CardVault | undefined;
  /** The external market-data feed (the ingestor): its candles, tickers and status are served when present. */
  readonly feed?: FeedPort | undefined;
}

export interface GatewayConfig {
  readonly bodyLimitBytes: number;
  /** Origins allowed by CORS; empty = no cross-origin access. "*" allows any origin (never with credentials). */
  readonly corsOrigins: readonly string[];
  readonly rateLimits: { readonly ip: RateLimit; readonly user: RateLimit; readonly auth: RateLimit };
  /** Trust X-Forwarded-For from a reverse proxy for the client IP. */
  readonly trustProxy: boolean;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** Log every request (else only failures, auth and admin events). */
  readonly accessLog: boolean;
  readonly version: string;
  readonly ws: WsOptions;
  /** The trader dashboard served at `/` with a generated /config.json; absent = not served. */
  readonly dashboard?: DashboardConfig | undefined;
}

export const defaultGatewayConfig: GatewayConfig = {
  bodyLimitBytes: 64 * 1024,
  corsOrigins: [],
  rateLimits: { ip: { ratePerS: 2_000, burst: 4_000 }, user: { ratePerS: 1_000, burst: 2_000 }, auth: { ratePerS: 5, burst: 20 } },
  trustProxy: false,
  accessLog: false,
  version: "0.1.0",
  ws: { heartbeatMs: 15_000, conflateBytes: 1024 * 1024, disconnectBytes: 8 * 1024 * 1024, maxMessageBytes: 16 * 1024, ordersPerSecond: 1_000 },
};

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
    rawBody: string;
  }
  interface FastifyContextConfig {
    /** "public": no sign-in needed. Default: a signed-in principal is required. */
    auth?: "public" | "user";
    /** Rate-limit bucket: "auth" for sign-in routes, "none" for probes. */
    limit?: "auth" | "none";
    /** Tokens the request takes from the caller's per-user bucket (default 1): a batch takes one per order. */
    userCost?: (request: FastifyRequest) => number;
  }
}

export interface GatewayContext {
  readonly deps: GatewayDeps;
  readonly config: GatewayConfig;
  readonly orderService: OrderService;
  readonly metrics: GatewayMetrics;
  readonly ws: WsHub;
  /** The signed-in principal; throws unauthenticated when there is none. */
  principal(request: FastifyRequest): Principal;
  meta(request: FastifyRequest): { ip: string; userAgent: string | undefined; requestId: string };
  /** Records an admin or auth action in the audit trail. */
  audit(request: FastifyRequest, action: string, target: string, outcome: "ok" | "denied" | "error", detail?: Record<string, unknown>): Promise<void>;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly context: GatewayContext;
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const dangerousKeys = /"(?:__proto__|constructor|prototype)"\s*:/;

/** JSON.parse, refusing prototype-polluting keys (only checked when present). */
function parseJson(text: string): unknown {
  if (!dangerousKeys.test(text)) return JSON.parse(text) as unknown;
  return JSON.parse(text, (key, value: unknown) => {
    if (key === "__proto__" || key === "constructor" || key === "prototype") throw new ApiError("validation_failed", `Field name ${key} is not allowed.`);
    return value;
  }) as unknown;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function createGateway(deps: GatewayDeps, config: GatewayConfig = defaultGatewayConfig): Promise<Gateway> {
  const metrics = deps.metrics ?? new GatewayMetrics();
  const app = Fastify({
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    ...(config.tls === undefined ? {} : { https: { cert: config.tls.cert, key: config.tls.key } }),
    genReqId: (raw) => {
      const incoming = raw.headers["x-request-id"];
      return typeof incoming === "string" && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: false } },
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  const ipLimiter = new RateLimiter(config.rateLimits.ip);
  const userLimiter = new RateLimiter(config.rateLimits.user);
  const authLimiter = new RateLimiter(config.rateLimits.auth);
  const orderService = new OrderService(deps.trading, deps.market, deps.orders, metrics);
  const ws = new WsHub({ auth: deps.auth, market: deps.market, orders: deps.orders, orderService, metrics, logger: deps.logger, options: config.ws, feed: deps.feed });

  const meta = (request: FastifyRequest): { ip: string; userAgent: string | undefined; requestId: string } => ({
    ip: request.ip,
    userAgent: header(request, "user-agent"),
    requestId: String(request.id),
  });

  const context: GatewayContext = {
    deps,
    config,
    orderService,
    metrics,
    ws,
    principal(request) {
      if (request.principal === null) throw new ApiError("unauthenticated");
      return request.principal;
    },
    meta,
    async audit(request, action, target, outcome, detail) {
      const actor = request.principal?.username ?? "anonymous";
      try {
        await deps.auth.audit.record({ actor, action, target, outcome, ip: request.ip, requestId: String(request.id), detail });
      } catch (error) {
        deps.logger.error("audit record failed", { action, target, requestId: String(request.id), error: String(error) });
      }
    },
  };

  app.decorateRequest("principal", null);
  app.decorateRequest("rawBody", "");

  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    request.rawBody = text;
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJson(text));
    } catch (error) {
      done(error instanceof ApiError ? error : new ApiError("invalid_json", "The request body is not valid JSON."), undefined);
    }
  });

  // Callback-style hooks where nothing is awaited: an async hook costs every request a promise and a turn of the microtask queue.
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", String(request.id));
    applySecurityHeaders(request, reply, config);
    if (applyCors(request, reply, config)) {
      // A preflight is answered here; the request goes no further.
      void reply.code(204).send();
      return;
    }
    if (request.routeOptions.config.limit === "none") {
      done();
      return;
    }
    const retry = (request.routeOptions.config.limit === "auth" ? authLimiter : ipLimiter).take(request.ip);
    if (retry > 0) {
      metrics.rateLimited.inc({ scope: request.routeOptions.config.limit === "auth" ? "auth" : "ip" });
      done(new ApiError("rate_limited", undefined, retry));
      return;
    }
    done();
  });

  app.addHook("preHandler", async (request) => {
    request.principal = await authenticate(request, deps.auth, metrics);
    if (request.principal !== null) {
      const cost = request.routeOptions.config.userCost?.(request) ?? 1;
      const retry = userLimiter.take(String(request.principal.userId), cost);
      if (retry > 0) {
        metrics.rateLimited.inc({ scope: "user" });
        throw new ApiError("rate_limited", undefined, retry);
      }
    } else if (request.routeOptions.config.auth !== "public" && !request.is404) {
      // Unknown routes answer 404 to everyone.
      throw new ApiError("unauthenticated");
    }
  });

  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    metrics.countRequest(route, request.method, reply.statusCode, seconds);
    if (config.accessLog || reply.statusCode >= 500) {
      const fields = { requestId: String(request.id), method: request.method, route, status: reply.statusCode, ms: Math.round(seconds * 1e4) / 10, ip: request.ip, user: request.principal?.username };
      if (reply.statusCode >= 500) deps.logger.error("request", fields);
      else deps.logger.info("request", fields);
    }
    done();
  });

  app.setErrorHandler(async (error: FastifyError | ApiError | AuthError | Error, request, reply) => {
    const send = (status: number, body: unknown, retryAfterS: number | null): FastifyReply => {
      if (retryAfterS !== null) void reply.header("retry-after", String(retryAfterS));
      return reply.code(status).type("application/json").send(body);
    };
    if (error instanceof ApiError) return send(error.status, errorBody(error.code, error.message), error.retryAfterS);
    if (error instanceof AuthError) {
      metrics.authEvents.inc({ method: request.principal?.method ?? "request", result: error.code });
      const api = new ApiError(error.code, error.message, error.retryAfterS);
      return send(api.status, errorBody(api.code, api.message), api.retryAfterS);
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation !== undefined) {
      const first = fastifyError.validation[0];
      const where = `${fastifyError.validationContext ?? "request"}${first?.instancePath ?? ""}`;
      const missing = first?.keyword === "required" ? ` (missing ${String((first.params as { missingProperty?: string }).missingProperty)})` : "";
      const extra = first?.keyword === "additionalProperties" ? ` (${String((first.params as { additionalProperty?: string }).additionalProperty)})` : "";
      return send(400, errorBody("validation_failed", `${where} ${first?.message ?? "is not valid"}${missing}${extra}.`), null);
    }
    switch (fastifyError.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return send(413, errorBody("body_too_large", `The request body is larger than ${String(config.bodyLimitBytes)} bytes.`), null);
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return send(415, errorBody("unsupported_media_type"), null);
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
      case "FST_ERR_CTP_INVALID_JSON_BODY":
        return send(400, errorBody("invalid_json"), null);
      default:
        break;
    }
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) return send(400, errorBody("validation_failed", error.message), null);
    deps.logger.error("request failed", { requestId: String(request.id), method: request.method, route: request.routeOptions.url, error: error.stack ?? String(error) });
    return send(500, errorBody("internal_error", `Something went wrong on the server; the request was not carried out. Quote request id ${String(request.id)}.`), null);
  });

  app.setNotFoundHandler({ preHandler: async () => undefined }, async (request, reply) => {
    return reply.code(404).send(errorBody("not_found", `No route ${request.method} ${request.url.split("?")[0] ?? ""}.`));
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "TradeStream API",
        version: config.version,
        description:
          "Order entry, market data, accounts and administration. Prices and quantities are decimal strings on the instrument's tick and lot grid. " +
          "Errors have one shape: {\"error\":{\"code\",\"message\"}}. Authenticate with a bearer access token (POST /api/v1/auth/login) or sign requests with an API key " +
          "(headers x-ts-key, x-ts-timestamp, x-ts-nonce, x-ts-signature = hex HMAC-SHA256 over timestamp, nonce, method, path and body hash).",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          apiKey: { type: "apiKey", in: "header", name: signatureHeaders.keyId },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
      tags: [
        { name: "auth", description: "Sign-in, tokens, second factor, single sign-on, API keys" },
        { name: "orders", description: "Order entry and the order blotter" },
        { name: "accounts", description: "Balances, positions and account summaries" },
        { name: "markets", description: "Instruments, books, trades, candles, tickers (public)" },
        { name: "admin", description: "Instruments, accounts, users, kill switch, audit trail (by role)" },
        { name: "ledger", description: "Books of record: trial balance, statements, reconciliation" },
        { name: "payments", description: "Deposits and withdrawals through the payment provider" },
        { name: "ops", description: "Health, readiness, metrics" },
      ],
    },
  });
  // The API document and its UI are public: their routes (added by the plugin) declare it like any other.
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/docs")) route.config = { ...route.config, auth: "public" };
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  app.get("/openapi.json", { schema: { hide: true }, config: { auth: "public" } }, async () => app.swagger());

  registerOpsRoutes(app, context);
  registerAuthRoutes(app, context);
  registerOrderRoutes(app, context);
  registerAccountRoutes(app, context);
  registerMarketRoutes(app, context);
  registerAdminRoutes(app, context);
  if (deps.ledger !== undefined) registerLedgerRoutes(app, context, deps.ledger);
  if (deps.payments !== undefined) registerPaymentRoutes(app, context, deps.payments, deps.vault);
  if (config.dashboard !== undefined) registerDashboardRoutes(app, context, config.dashboard);

  ws.attach(app.server);

  return {
    app,
    context,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      ws.close();
      await app.close();
    },
  };
}

async function authenticate(request: FastifyRequest, auth: AuthService, metrics: GatewayMetrics): Promise<Principal | null> {
  const authorization = header(request, "authorization");
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match?.[1] === undefined) throw new ApiError("unauthenticated", "The Authorization header must be 'Bearer <access token>'.");
    return auth.authenticateAccessToken(match[1]);
  }
  const keyId = header(request, signatureHeaders.keyId);
  if (keyId === undefined) return null;
  const timestamp = header(request, signatureHeaders.timestamp);
  const nonce = header(request, signatureHeaders.nonce);
  const signature = header(request, signatureHeaders.signature);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    metrics.authEvents.inc({ method: "api_key", result: "signature_invalid" });
    throw new ApiError("signature_invalid", `A signed request needs the headers ${signatureHeaders.timestamp}, ${signatureHeaders.nonce} and ${signatureHeaders.signature}.`);
  }
  return auth.authenticateSignature({ keyId, timestamp, nonce, signature, method: request.method, path: request.url, body: request.rawBody }, { ip: request.ip, userAgent: header(request, "user-agent"), requestId: String(request.id) });
}

/**
 * The request path as the router matches it: percent-decoded (the router decodes
 * `/%61pi/v1/…` to `/api/v1/…`) and lower-cased, so no spelling of an API path
 * escapes the API's headers.
 */
function headerPath(url: string): string {
  const path = url.split("?")[0] ?? "/";
  try {
    return decodeURIComponent(path).toLowerCase();
  } catch {
    return path.toLowerCase();
  }
}

/** Responses that are data, never a page: they get a policy that allows nothing. */
const dataPathPrefixes = ["/api/", "/health", "/ready", "/metrics", "/openapi.json"];

function applySecurityHeaders(request: FastifyRequest, reply: FastifyReply, config: GatewayConfig): void {
  const path = headerPath(request.url);
  void reply.header("x-content-type-options", "nosniff");
  void reply.header("referrer-policy", "no-referrer");
  void reply.header("cross-origin-opener-policy", "same-origin");
  void reply.header("cross-origin-resource-policy", "same-origin");
  if (config.tls !== undefined) void reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
  // The API document's UI sets its own policy (its routes are /docs…).
  if (!request.url.startsWith("/docs")) {
    void reply.header("x-frame-options", "DENY");
    const data = dataPathPrefixes.some((prefix) => path.startsWith(prefix)) || path === "/api";
    void reply.header("content-security-policy", data ? dataSecurityPolicy : contentSecurityPolicy(request, config));
  }
  if (path.startsWith("/api/") || path === "/api") void reply.header("cache-control", "no-store");
}

/** JSON and text answers load nothing, are framed nowhere and submit nowhere. */
const dataSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const hostPattern = /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$/;

/**
 * Scripts, styles and everything else only from the platform's own origin (no inline
 * script, no eval). The dashboard also needs its own WebSocket (named explicitly, as
 * older browsers do not count ws: as 'self') and data: images (the TOTP QR code).
 * Over TLS only the wss: address is named.
 */
function contentSecurityPolicy(request: FastifyRequest, config: GatewayConfig): string {
  const host = header(request, "host");
  const schemes = config.tls === undefined ? ["ws", "wss"] : ["wss"];
  const sockets = host !== undefined && hostPattern.test(host) ? schemes.map((scheme) => ` ${scheme}://${host}`).join("") : "";
  return `default-src 'self'; connect-src 'self'${sockets}; img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'`;
}

/** Sets CORS headers for an allowed origin; true when the request was a preflight that is now answered. */
function applyCors(request: FastifyRequest, reply: FastifyReply, config: GatewayConfig): boolean {
  const origin = header(request, "origin");
  if (origin === undefined || config.corsOrigins.length === 0) return false;
  const any = config.corsOrigins.includes("*");
  if (!any && !config.corsOrigins.includes(origin)) return false;
  void reply.header("access-control-allow-origin", any ? "*" : origin);
  void reply.header("vary", "Origin");
  if (request.method !== "OPTIONS") return false;
  void reply.header("access-control-allow-methods", "GET, POST, PATCH, DELETE");
  void reply.header("access-control-allow-headers", `authorization, content-type, x-request-id, ${Object.values(signatureHeaders).join(", ")}`);
  void reply.header("access-control-max-age", "600");
  return true;
}
