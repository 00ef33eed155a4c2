// End-to-end benchmark: `npm run bench:e2e`.
//
// Starts the server as its own process (embedded defaults: file journal with
// fdatasync, PGlite; demo data; simulator off), creates trading accounts and
// users for many clients through the admin API, then runs the load generator
// (bench/e2e-load.ts) as a separate process: WebSocket and REST order entry at a
// fixed offered rate and at maximum, and fan-out to many WebSocket subscribers.
// Latency is from scheduled send to durable acknowledgement. After the fan-out phase the
// same fan-out is measured from a bare socket server (bench/fanout-floor.ts) as
// `fanout.floor`: the bound this machine's loopback TCP puts on any server.
//
// Prints one JSON object on stdout and appends it to bench/results/e2e.jsonl:
// {"ws":{"ordersPerSec","p50Ms","p99Ms","p999Ms",…},"rest":{…},"fanout":{"subscribers","deliveryP99Ms",…}}
// where ordersPerSec is the maximum (closed-loop) throughput and the percentiles
// are those of the fixed-rate run (no coordinated omission).
//
// Flags: --duration-s N (per phase, default 10), --clients N (default 32),
// --ws-rate N (default 20000/s), --rest-rate N (default 5000/s), --subscribers N
// (default 10000), --fanout-rate N (trades/s, default 10), --skip ws,ws-fixed,ws-max,ws-batch,rest,rest-fixed,rest-max,rest-batch,fanout,
// --batch N (orders per message in the batch phases, default 10; 1 leaves them out),
// --warmup-s N (unrecorded warm-up load first, default 3), --no-write, --profile FILE (write a CPU profile of the server during the load phases to FILE).
// Environment: E2E_SERVER_NODE_FLAGS and E2E_LOAD_NODE_FLAGS pass Node flags to the server and to the load
// generator (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile the load generator too);
// E2E_SERVER_LOG=FILE appends the server's log and Node's diagnostics (stderr, stdout) to FILE.

import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { placeBatchMax } from "@tradestream/gateway";
import { ApiClient, freePort } from "../apps/server/src/test-client.ts";
import { parseBenchArgs } from "./cli.ts";
import type { LoadConfig } from "./e2e-load.ts";
import { measureFanoutFloor } from "./fanout-floor.ts";
import { recordResult } from "./record.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

const flags = parseBenchArgs({
  script: "bench/e2e.bench.ts",
  npmScript: "bench:e2e",
  summary: `End-to-end benchmark: starts the server as its own process (file journal, PGlite, demo data,
simulator off), creates --clients trading users, then a separate load-generator process drives it:
WebSocket and REST order entry at a fixed offered rate (latency from scheduled send to durable ack)
and at maximum, then fan-out of trades to many WebSocket subscribers (docs/BENCHMARKS.md).
Prints one JSON object on stdout and appends it to bench/results/e2e.jsonl.`,
  options: {
    "duration-s": { type: "string", value: "N", default: "10", description: "seconds of load per WebSocket/REST phase" },
    clients: { type: "string", value: "N", default: "32", description: "trading accounts and users created; each has a WebSocket and a REST client" },
    "ws-rate": { type: "string", value: "N", default: "20000", description: "orders/s offered over WebSocket in the fixed-rate phase, all clients together" },
    "rest-rate": { type: "string", value: "N", default: "5000", description: "orders/s offered over REST in the fixed-rate phase, all clients together" },
    "ws-window": { type: "string", value: "N", default: "32", description: "orders in flight per WebSocket connection in the maximum, closed-loop phase" },
    batch: { type: "string", value: "N", default: "10", description: "orders per message in the batch phases (WebSocket place_batch/cancel_batch, REST POST /api/v1/orders/batch and /cancel-batch), at most the API's 20; 1 leaves them out" },
    "rest-sockets": { type: "string", value: "N", default: "4", description: "keep-alive HTTP connections per REST client, also its requests in flight at maximum" },
    subscribers: { type: "string", value: "N", default: "10000", description: "WebSocket subscribers to the SAP book and trades in the fan-out phase" },
    "fanout-rate": { type: "string", value: "N", default: "10", description: "trades/s crossed during the fan-out phase" },
    "fanout-duration-s": { type: "string", value: "N", default: "15", description: "seconds of trading in the fan-out phase" },
    skip: { type: "string", value: "LIST", default: "", defaultText: "none", description: "comma-separated phases to leave out: ws, ws-fixed, ws-max, ws-batch, rest, rest-fixed, rest-max, rest-batch, fanout" },
    "warmup-s": { type: "string", value: "N", default: "3", description: "seconds of unrecorded WebSocket and REST warm-up load first; 0 for none" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/e2e.jsonl" },
    profile: { type: "string", value: "FILE", defaultText: "none", description: "write a CPU profile of the server during the load phases to FILE" },
  },
});

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${String(child.exitCode)}`);
    try {
      const response = await fetch(`${url}/ready`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("server did not become ready in 120 s");
}

/**
 * The journal's fdatasync latency over the whole run, from the server's histogram:
 * every acknowledgement waits for one (or for the one in flight, then its own), so
 * this bounds the order latency percentiles from below. Percentiles are bucket
 * upper bounds ("at most").
 */
function fsyncSummary(metrics: string): { count: number; meanMs: number; p50MsAtMost: number; p99MsAtMost: number; over5Ms: number; over25Ms: number; over100Ms: number } | null {
  const name = "tradestream_journal_fsync_duration_seconds";
  const buckets: Array<{ le: number; count: number }> = [];
  let sum = Number.NaN;
  let count = 0;
  const bucketLine = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`);
  for (const line of metrics.split("\n")) {
    const bucket = bucketLine.exec(line);
    if (bucket !== null) buckets.push({ le: bucket[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(bucket[1]), count: Number(bucket[2]) });
    else if (line.startsWith(`${name}_sum `)) sum = Number(line.slice(name.length + 5));
    else if (line.startsWith(`${name}_count `)) count = Number(line.slice(name.length + 7));
  }
  if (count === 0) return null;
  const at = (p: number): number => (buckets.find((b) => b.count >= p * count)?.le ?? Number.POSITIVE_INFINITY) * 1000;
  // How many took longer than a bound (a bucket's upper edge): each such sync holds every order that waits for it.
  const over = (ms: number): number => count - (buckets.find((b) => b.le * 1000 === ms)?.count ?? count);
  return { count, meanMs: Math.round((sum / count) * 1e5) / 100, p50MsAtMost: at(0.5), p99MsAtMost: at(0.99), over5Ms: over(5), over25Ms: over(25), over100Ms: over(100) };
}

async function main(): Promise<void> {
  const clients = Number(flags.clients);
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  const dataDir = mkdtempSync(join(tmpdir(), "tradestream-e2e-"));
  const profile = flags["profile"];
  const nodeFlags = (process.env.E2E_SERVER_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
  const server = spawn(process.execPath, [...nodeFlags, "--import", "tsx", join(root, "apps/server/src/main.ts"), "start", "--data-dir", dataDir, "--no-simulator", "--port", String(port)], {
    cwd: root,
    env: { ...process.env, ...(profile === undefined ? {} : { TRADESTREAM_CPU_PROFILE: profile }), TRADESTREAM_RATE_LIMITS: "ip=10000000/10000000,user=10000000/10000000,auth=100000/100000", TRADESTREAM_WS_ORDERS_PER_S: "10000000" },
    stdio: ["ignore", process.env.E2E_SERVER_LOG === undefined ? "ignore" : "pipe", "pipe"],
  });
  let serverLog = "";
  const serverLogFile = process.env.E2E_SERVER_LOG;
  // Node's own diagnostics (--trace-gc and the like) go to stdout.
  server.stdout?.on("data", (chunk: Buffer) => {
    if (serverLogFile !== undefined) appendFileSync(serverLogFile, chunk);
  });
  server.stderr?.on("data", (chunk: Buffer) => {
    serverLog = (serverLog + chunk.toString()).slice(-20_000);
    if (serverLogFile !== undefined) appendFileSync(serverLogFile, chunk);
  });
  try {
    await waitReady(url, server);
    process.stderr.write(`server ready at ${url}; creating ${String(clients)} trading clients\n`);
    const admin = await ApiClient.signIn(url, "admin1");
    const tokens: string[] = [];
    for (let i = 0; i < clients; i += 1) {
      const accountId = 5_000 + i;
      const username = `bench-${String(i)}`;
      const password = `bench-password-${String(i)}`;
      const steps = [
        await admin.post("/api/v1/admin/accounts", { accountId, firmId: 50, openOrdersMax: 100_000, ordersPerSecondMax: 1_000_000 }),
        await admin.post(`/api/v1/admin/accounts/${String(accountId)}/deposits`, { currency: "EUR", amount: "100000000.00" }),
        await admin.post(`/api/v1/admin/accounts/${String(accountId)}/deposits`, { symbol: "SAP", quantity: "1000000" }),
        await admin.post("/api/v1/admin/users", { username, password, groups: ["authorized-traders"], accountIds: [accountId] }),
      ];
      for (const step of steps) if (step.status >= 300) throw new Error(`setup failed: ${String(step.status)} ${JSON.stringify(step.body)}`);
      const login = await new ApiClient(url).post<{ accessToken: string }>("/api/v1/auth/login", { username, password });
      tokens.push(login.body.accessToken);
    }
    const config: LoadConfig = {
      url,
      tokens,
      wsClients: clients,
      restClients: clients,
      restSocketsPerClient: Number(flags["rest-sockets"]),
      durationS: Number(flags["duration-s"]),
      wsRate: Number(flags["ws-rate"]),
      restRate: Number(flags["rest-rate"]),
      wsWindow: Number(flags["ws-window"]),
      subscribers: Number(flags.subscribers),
      fanoutRate: Number(flags["fanout-rate"]),
      fanoutDurationS: Number(flags["fanout-duration-s"]),
      symbol: "SAP",
      referenceTicks: 23_000,
      tickSize: "0.01",
      skip: flags.skip.split(",").filter((s) => s !== ""),
      warmupS: Number(flags["warmup-s"]),
      batch: Math.min(placeBatchMax, Math.max(1, Number(flags.batch))),
    };
    process.stderr.write("running the load generator (separate process)\n");
    if (profile !== undefined) server.kill("SIGUSR2");
    const loadFlags = (process.env.E2E_LOAD_NODE_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
    const load = spawn(process.execPath, [...loadFlags, "--import", "tsx", join(here, "e2e-load.ts")], { cwd: root, env: { ...process.env, E2E_CONFIG: JSON.stringify(config) }, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    load.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number>((resolve) => load.on("exit", (exitCode) => resolve(exitCode ?? 1)));
    if (profile !== undefined) {
      server.kill("SIGUSR2");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    if (code !== 0) throw new Error(`load generator exited with ${String(code)}`);
    const journalFsync = fsyncSummary(await (await fetch(`${url}/metrics`)).text());
    const phases = JSON.parse(output.trim()) as Record<string, Record<string, number | null>>;
    const summary = (fixed: Record<string, number | null> | undefined, max: Record<string, number | null> | undefined): Record<string, unknown> | null =>
      fixed === undefined && max === undefined
        ? null
        : { ordersPerSec: max?.ordersPerSec ?? null, p50Ms: fixed?.p50Ms ?? null, p99Ms: fixed?.p99Ms ?? null, p999Ms: fixed?.p999Ms ?? null, offeredPerSec: fixed?.offeredPerSec ?? null, fixedRate: fixed ?? null, max: max ?? null };
    // The same fan-out from a bare socket server (no WebSocket, no platform): what this machine allows at all.
    const floor = phases.fanout === undefined ? null : await measureFanoutFloor(Number(flags.subscribers), Math.max(10, Math.round(Number(flags["fanout-duration-s"]) * Number(flags["fanout-rate"]))), Number(flags["fanout-rate"]));
    const result = {
      bench: "e2e",
      time: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      clients,
      ws: summary(phases.wsFixed, phases.wsMax),
      rest: summary(phases.restFixed, phases.restMax),
      // Orders sent --batch to a message (not what the targets name: those are single orders).
      batch: phases.wsBatchMax === undefined && phases.restBatchMax === undefined ? null : { ordersPerMessage: config.batch, ws: phases.wsBatchMax ?? null, rest: phases.restBatchMax ?? null },
      fanout: phases.fanout === undefined ? null : { ...phases.fanout, floor },
      ledgerCatchUpMs: phases.ledgerCatchUpMs ?? null,
      journalFsync,
    };
    recordResult("e2e", result, !flags["no-write"]);
  } catch (error) {
    process.stderr.write(`${serverLog}\n`);
    throw error;
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`e2e benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
