// Installs the workspace's dependencies on first use, so that `npm start` and
// `npm test` work on a fresh clone. It uses only Node's standard library because
// it runs before anything else is installed.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules", ".package-lock.json");
if (!existsSync(marker)) {
  const hasLock = existsSync(join(root, "package-lock.json"));
  const args = hasLock ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"];
  console.error(`tradestream: installing dependencies (npm ${args[0]}) …`);
  const result = spawnSync("npm", args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
