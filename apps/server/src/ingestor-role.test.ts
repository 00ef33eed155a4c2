/** The ingestor role on its own: /health, /ready, /status and Prometheus /metrics; and the CLI starting it. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startIngestorRole } from "./ingestor-role.ts";
import { freePort } from "./test-client.ts";
import { until } from "./test-platform.ts";

const here = dirname(fileURLToPath(import.meta.url));


describe("ingestor role", () => {
  it("answers /health and /ready and exports per-source metrics", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ingestor-role-"));
    const file = join(dir, "ticks.ndjson");
    writeFileSync(file, `${JSON.stringify({ type: "trade", symbol: "SAP", seq: 1, tsUs: 1_714_555_800_000_000, price: "230.00", size: 1 })}\nnot json\n${JSON.stringify({ type: "trade", symbol: "SAP", seq: 2, tsUs: 1_714_555_800_000_001, price: "230.001", size: 1 })}\n`);
    const role = await startIngestorRole({ port: 0, host: "127.0.0.1", seed: 1, env: { INGESTOR_FEED: "simulated,replay", INGESTOR_SIM_RATE: "400", INGESTOR_REPLAY_FILE: file, LOG_LEVEL: "error" } });
    try {
      expect(await (await fetch(`${role.url}/health`)).json()).toEqual({ status: "ok", role: "ingestor" });
      expect((await fetch(`${role.url}/ready`)).status).toBe(200);
      expect((await fetch(`${role.url}/nope`)).status).toBe(404);
      await until(() => role.ingestor.status().sources[0]?.published !== undefined && (role.ingestor.status().sources[0]?.published ?? 0) > 20, "simulated ticks", 20_000, 50);
      const metrics = await (await fetch(`${role.url}/metrics`)).text();
      const value = (pattern: RegExp): number => Number(pattern.exec(metrics)?.[1] ?? Number.NaN);
      expect(value(/tradestream_ingestor_messages_in_total\{source="simulated"\} (\d+)/)).toBeGreaterThan(20);
      expect(value(/tradestream_ingestor_messages_out_total\{source="simulated"\} (\d+)/)).toBeGreaterThan(20);
      expect(value(/tradestream_ingestor_messages_in_total\{source="replay:ticks.ndjson"\} (\d+)/)).toBe(3);
      expect(value(/tradestream_ingestor_messages_out_total\{source="replay:ticks.ndjson"\} (\d+)/)).toBe(1);
      expect(value(/tradestream_ingestor_dead_lettered_total\{source="replay:ticks.ndjson",reason="malformed"\} (\d+)/)).toBe(1);
      expect(value(/tradestream_ingestor_dead_lettered_total\{source="replay:ticks.ndjson",reason="price_off_tick"\} (\d+)/)).toBe(1);
      expect(value(/tradestream_ingestor_reconnects_total\{source="simulated"\} (\d+)/)).toBe(0);
      expect(metrics).toMatch(/tradestream_ingestor_lag_seconds\{source="simulated"\} /);
      expect(metrics).toMatch(/tradestream_ingestor_stale_instruments 0/);
      expect(metrics).toMatch(/process_cpu_user_seconds_total/);
      const status = (await (await fetch(`${role.url}/status`)).json()) as { instruments: unknown[] };
      expect(status.instruments).toHaveLength(5);
    } finally {
      await role.close();
    }
  });

  it("starts from the command line with --role ingestor", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "main.ts"), "start", "--role", "ingestor", "--port", String(port), "--duration-s", "60"], { env: { ...process.env, INGESTOR_FEED: "simulated", LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      await until(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${String(port)}/health`)).status === 200;
        } catch {
          return false;
        }
      }, "the ingestor role to listen", 20_000, 50);
      const metrics = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      expect(metrics).toContain("tradestream_ingestor_messages_in_total");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    expect(child.exitCode).toBe(0);
  });
});
