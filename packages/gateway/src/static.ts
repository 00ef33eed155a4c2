/**
 * The trader dashboard on the platform's own origin: the built single-page app
 * (apps/dashboard/dist) at `/`, every unknown browser path answered with its
 * index.html (the app routes on the client), and `/config.json` generated from
 * the gateway's settings so one build runs anywhere. API, WebSocket, docs and
 * probe paths are never shadowed: an unknown one still answers the JSON 404.
 *
 * Files are read from the directory at request time (a rebuilt dashboard is
 * served without a restart) and confined to it: a path that resolves outside
 * the directory is refused. Hashed assets are cached for a year; index.html and
 * config.json are revalidated on every load, so a new build is picked up at once.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "./api-error.ts";
import type { GatewayContext } from "./app.ts";

export interface DashboardConfig {
  /** The built dashboard (index.html and assets/). */
  readonly dir: string;
  /** How often the dashboard repaints batched live updates, in milliseconds (config.json `refreshRate`). */
  readonly refreshRateMs: number;
  /** The currency amounts are shown in when an amount names none (config.json `currency`). */
  readonly currency: string;
  /** The API origin the dashboard talks to; "" = the origin it was loaded from. */
  readonly apiUrl: string;
}

export const defaultDashboardConfig: Omit<DashboardConfig, "dir"> = { refreshRateMs: 500, currency: "EUR", apiUrl: "" };

/** Largest file served from the dashboard directory; the build's files are far smaller. */
const dashboardFileBytesMax = 8 * 1024 * 1024;

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** Paths that belong to the API and the platform, never to the single-page app. */
const reservedPrefixes = ["/api/", "/ws", "/docs", "/openapi.json", "/metrics", "/health", "/ready"];

/** The body of /config.json: what the dashboard reads at start-up. */
export function dashboardClientConfig(config: Omit<DashboardConfig, "dir">, ssoEnabled: boolean): Record<string, unknown> {
  return { apiUrl: config.apiUrl, refreshRate: config.refreshRateMs, currency: config.currency, sso: ssoEnabled };
}

async function fileIn(dir: string, urlPath: string): Promise<{ path: string; size: number } | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const root = normalize(dir);
  const path = normalize(join(root, decoded));
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size } : null;
  } catch {
    return null;
  }
}

async function sendFile(reply: FastifyReply, file: { path: string; size: number }, immutable: boolean): Promise<FastifyReply> {
  if (file.size > dashboardFileBytesMax) throw new ApiError("not_found");
  const body = await readFile(file.path);
  void reply.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return reply.type(contentTypes[extname(file.path).toLowerCase()] ?? "application/octet-stream").send(body);
}

export function registerDashboardRoutes(app: FastifyInstance, context: GatewayContext, config: DashboardConfig): void {
  const publicRoute = { auth: "public" } as const;

  app.get("/config.json", { schema: { hide: true }, config: publicRoute }, async (_request, reply) => {
    void reply.header("cache-control", "no-cache");
    return reply.type("application/json; charset=utf-8").send(dashboardClientConfig(config, context.deps.auth.ssoEnabled));
  });

  const serve = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const urlPath = request.url.split("?")[0] ?? "/";
    if (reservedPrefixes.some((prefix) => urlPath === prefix.replace(/\/$/, "") || urlPath.startsWith(prefix))) throw new ApiError("not_found", `No route ${request.method} ${urlPath}.`);
    if (urlPath !== "/") {
      const file = await fileIn(config.dir, urlPath);
      if (file !== null) return sendFile(reply, file, urlPath.startsWith("/assets/"));
      // A missing asset is a 404; any other path is a client-side route of the app.
      if (urlPath.startsWith("/assets/") || extname(urlPath) !== "") throw new ApiError("not_found", `No file ${urlPath}.`);
    }
    const index = await fileIn(config.dir, "/index.html");
    if (index === null) {
      return reply.code(503).type("text/plain; charset=utf-8").send("The dashboard is not built. Build it with: npm run build -w @tradestream/dashboard\n");
    }
    return sendFile(reply, index, false);
  };
  app.get("/", { schema: { hide: true }, config: publicRoute }, serve);
  app.get("/*", { schema: { hide: true }, config: publicRoute }, serve);
}
