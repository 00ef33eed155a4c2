// What every benchmark records beside its figures, and where: one JSON object on
// stdout and, unless the run says otherwise, the same line appended to
// bench/results/<name>.jsonl (the history docs/BENCHMARKS.md quotes from).

import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The checked-out commit (short), or null outside a git checkout. */
export function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** Uncommitted changes under the given repository paths (git runs at the repository's root), or null outside a checkout. */
export function gitDirty(paths: readonly string[]): boolean | null {
  try {
    return execFileSync("git", ["status", "--porcelain", "--", ...paths], { cwd: join(here, ".."), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
  } catch {
    return null;
  }
}

export function machine(): { cpus: number; model: string; platform: string } {
  const cpu = cpus();
  return { cpus: cpu.length, model: cpu[0]?.model ?? "unknown", platform: `${process.platform}-${process.arch}` };
}

/** Prints the result as one JSON line and appends it to bench/results/<name>.jsonl when `write`. */
export function recordResult(name: string, result: object, write: boolean): void {
  const line = JSON.stringify(result);
  process.stdout.write(`${line}\n`);
  if (!write) return;
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${name}.jsonl`), `${line}\n`);
}
