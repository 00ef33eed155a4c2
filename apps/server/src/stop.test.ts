/**
 * Stopping `tradestream start` cleanly, however the signal arrives: `npm start`
 * and a terminal's Ctrl-C deliver it to every process of the group and the
 * wrappers relay it again, so the platform sees it twice. One clean stop runs
 * (snapshots written, exit 0), and the next start replays nothing.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "./test-client.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tradestream-stop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the CLI on `dir`, waits for /ready, sends `signals`, and returns its exit code and log. */
async function runUntilSignalled(signals: readonly NodeJS.Signals[]): Promise<{ code: number | null; log: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "main.ts"), "start", "--data-dir", dir, "--port", String(port), "--no-simulator", "--no-feed"], {
    env: { ...process.env, LOG_LEVEL: "info", TRADESTREAM_END_OF_DAY: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${String(port)}/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the platform did not become ready:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const signal of signals) child.kill(signal);
  return { code: await exited, log };
}

describe("stopping the platform", () => {
  it("stops cleanly once when SIGTERM arrives twice, and the next start replays nothing", async () => {
    const first = await runUntilSignalled(["SIGTERM", "SIGTERM"]);
    expect(first.code).toBe(0);
    expect(first.log).toContain('"msg":"stopped"');
    expect(readdirSync(join(dir, "snapshots", "read-models")).filter((name) => name.endsWith(".bin"))).toHaveLength(1);

    const second = await runUntilSignalled(["SIGINT", "SIGINT"]);
    expect(second.code).toBe(0);
    const rebuilt = /"msg":"read models rebuilt","fromSnapshotSeq":(\d+),"commands":(\d+)/.exec(second.log);
    expect(Number(rebuilt?.[1])).toBeGreaterThan(0);
    expect(rebuilt?.[2]).toBe("0");
  }, 120_000);
});
