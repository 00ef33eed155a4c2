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
import { readFile, realpath, stat } from "node:fs/promises";
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

/** Paths that belong to the API and the platform, never to the single-page app (compared decoded and lower-cased). */
const reservedPrefixes = ["/api/", "/ws", "/docs", "/openapi.json", "/metrics", "/health", "/ready"];

/** Longest URL path looked up on disk; the build's paths are far shorter, and a longer one is a client-side route or nonsense. */
export const dashboardPathCharsMax = 1_024;

/** The body of /config.json: what the dashboard reads at start-up. */
export function dashboardClientConfig(config: Omit<DashboardConfig, "dir">, ssoEnabled: boolean): Record<string, unknown> {
  return { apiUrl: config.apiUrl, refreshRate: config.refreshRateMs, currency: config.currency, sso: ssoEnabled };
}

/** The URL path percent-decoded once, or null when it cannot be (malformed escapes, NUL). */
function decodedPath(urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  return decoded.includes("\0") ? null : decoded;
}

/**
 * Whether a path belongs to the platform rather than the app. The router matches
 * percent-decoded paths (`/%61pi/v1/…` is `/api/v1/…`), so the check is made on
 * the decoded path too, and case-insensitively: a reserved path answers the JSON
 * 404, never the app's index.html.
 */
export function isReservedPath(urlPath: string): boolean {
  const candidates = [urlPath, decodedPath(urlPath) ?? urlPath].map((path) => path.toLowerCase().replace(/\/{2,}/g, "/"));
  return candidates.some((path) => reservedPrefixes.some((prefix) => path === prefix.replace(/\/$/, "") || path.startsWith(prefix)));
}

function within(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The file a URL path names inside the directory, or null. The check is made on
 * the lexical path (no `..` out of the directory) and again on the real path, so
 * a symbolic link inside the build that points elsewhere is not followed out of
 * it. Dot-files and dot-directories are never served.
 */
async function fileIn(dir: string, urlPath: string): Promise<{ path: string; size: number; relative: string } | null> {
  if (urlPath.length > dashboardPathCharsMax) return null;
  const decoded = decodedPath(urlPath);
  if (decoded === null) return null;
  if (decoded.split(/[\\/]/).some((segment) => segment.startsWith("."))) return null;
  const root = normalize(dir);
  const path = normalize(join(root, decoded));
  if (!within(root, path)) return null;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(path);
    if (!within(realRoot, real)) return null;
    const info = await stat(real);
    return info.isFile() ? { path: real, size: info.size, relative: real.slice(realRoot.length).split(sep).join("/") } : null;
  } catch {
    return null;
  }
}

async function sendFile(reply: FastifyReply, file: { path: string; size: number; relative: string }): Promise<FastifyReply> {
  if (file.size > dashboardFileBytesMax) throw new ApiError("not_found");
  const body = await readFile(file.path);
  // Only the build's hashed assets are immutable; what is immutable is decided by where the file is, not by how the URL was spelt.
  void reply.header("cache-control", file.relative.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
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
    if (isReservedPath(urlPath)) throw new ApiError("not_found", `No route ${request.method} ${urlPath.slice(0, 200)}.`);
    if (urlPath !== "/") {
      const file = await fileIn(config.dir, urlPath);
      if (file !== null) return sendFile(reply, file);
      // A missing asset is a 404; any other path is a client-side route of the app.
      if (urlPath.startsWith("/assets/") || extname(urlPath) !== "") throw new ApiError("not_found", `No file ${urlPath.slice(0, 200)}.`);
    }
    const index = await fileIn(config.dir, "/index.html");
    if (index === null) {
      return reply.code(503).type("text/plain; charset=utf-8").send("The dashboard is not built. Build it with: npm run build -w @tradestream/dashboard\n");
    }
    return sendFile(reply, index);
  };
  app.get("/", { schema: { hide: true }, config: publicRoute }, serve);
  app.get("/*", { schema: { hide: true }, config: publicRoute }, serve);
}
