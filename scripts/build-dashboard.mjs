// Builds the trader dashboard (apps/dashboard → apps/dashboard/dist) when dist is
// missing or older than any of its sources, so `npm start` always serves the
// current dashboard and an unchanged one costs nothing. Standard library only.
// `--check` prints whether a build is needed and exits 1 if so, without building.
import { existsSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const app = join(root, "apps", "dashboard");
const builtIndex = join(app, "dist", "index.html");
const sources = ["src", "public", "index.html", "vite.config.ts", "package.json", "tsconfig.json"].map((name) => join(app, name));

function newestMtimeMs(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

export function dashboardIsStale() {
  if (!existsSync(builtIndex)) return true;
  const builtMs = statSync(builtIndex).mtimeMs;
  return sources.some((source) => newestMtimeMs(source) > builtMs);
}

const stale = dashboardIsStale();
if (process.argv.includes("--check")) {
  console.error(stale ? "tradestream: the dashboard needs a build" : "tradestream: the dashboard is up to date");
  process.exit(stale ? 1 : 0);
}
if (stale) {
  console.error("tradestream: building the dashboard (apps/dashboard) …");
  const vite = join(root, "node_modules", ".bin", process.platform === "win32" ? "vite.cmd" : "vite");
  // A test runner's NODE_ENV=test would otherwise give a development build of React.
  const result = spawnSync(vite, ["build", "--mode", "production", "--logLevel", "warn"], { cwd: app, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
