// Engine benchmark: `npm run bench:engine`.
//
// Measures, in one process run:
// - book1k / book20k: throughput of the matching + risk engine on a seeded,
//   exchange-core-like order flow (see workload.ts) with ~1,000 / ~20,000 resting
//   orders, then the peer `nodejs-order-book` fed the same flow; then per-command
//   latency percentiles in a separate pass (each command timed with
//   process.hrtime.bigint(); the timer's own overhead, reported as timerOverheadNs,
//   is included in every sample). `opsPerSec` and the latencies are the engine
//   writing its events into reused objects (`applyInPlace`, no allocation for the
//   usual command); `keepingOpsPerSec` is `apply`, new event objects per command,
//   measured in runs alternating with the others;
// - replay: decode + applyInPlace of the codec-encoded book1k stream, as the shard
//   replays its journal (its `Replayer`: a run of records decoded, then applied;
//   records side by side in 4 MiB buffers, as the journal's reads hold them); `withEventHashCommandsPerSec` adds the event-stream hash
//   the shard folds in as it replays;
// - memory: heap bytes per resting order with 1,000,000 resting orders (in a child
//   process started with --expose-gc, so the heap holds nothing else);
// - journal: durable append throughput and ack latency (bench/journal.ts).
//
// Prints a human summary on stderr, one JSON object on stdout, and appends the JSON
// as one line to bench/results/engine.jsonl.
//
// Flags: --commands N (measured commands per book, default 1,000,000), --runs N
// (throughput runs, median reported, default 3), --skip-peer, --skip-journal,
// --skip-memory, --skip-replay, --only book1k|book20k, --no-write, --memory-only.

import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, encodeSnapshot, fixtures } from "../packages/engine/src/index.ts";
import { EventStreamHash, Replayer } from "../packages/shard/src/index.ts";
import { parseBenchArgs } from "./cli.ts";
import { measureJournal } from "./journal.ts";
import { engineLatency, engineThroughput, freshEngine, fullGc, journalRecords, peerLatency, peerThroughput, restingOrders, type EngineLatency } from "./measure.ts";
import { applyPeer, newPeerBook, toPeerOps, type PeerOp } from "./peer.ts";
import { median, timerOverheadNs, type LatencySummary } from "./stats.ts";
import { generateWorkload, referencePriceTicks, setupCommands, type Workload, type WorkloadStats } from "./workload.ts";
import { gitCommit, gitDirty } from "./record.ts";

const here = dirname(fileURLToPath(import.meta.url));

const flags = parseBenchArgs({
  script: "bench/engine.bench.ts",
  npmScript: "bench:engine",
  summary: `Engine benchmark: throughput and per-command latency of the matching + risk engine on
book1k and book20k (~1,000 / ~20,000 resting orders) against the peer nodejs-order-book,
codec replay, heap bytes per resting order, and durable journal appends (docs/BENCHMARKS.md).
Prints a summary on stderr, one JSON object on stdout, and appends it to bench/results/engine.jsonl.`,
  options: {
    commands: { type: "string", value: "N", default: "1000000", description: "measured commands per book, and for the replay; warm-up is min(N, 300000)" },
    runs: { type: "string", value: "N", default: "3", description: "throughput runs per book, engine and peer; the median is reported" },
    "skip-peer": { type: "boolean", description: "leave out the peer order book, nodejs-order-book" },
    "skip-journal": { type: "boolean", description: "leave out the durable journal append benchmark" },
    "skip-memory": { type: "boolean", description: "leave out the heap bytes per resting order, measured in a child process" },
    "skip-replay": { type: "boolean", description: "leave out the decode + apply replay of the book1k stream" },
    only: { type: "string", value: "book1k|book20k", defaultText: "both", description: "measure one book size only" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/engine.jsonl" },
    "memory-only": { type: "boolean", description: "internal, run by the memory child: build the 1,000,000-order book and print its heap growth as JSON" },
  },
});

const measuredCommands = Number(flags.commands);
const runs = Math.max(1, Number(flags.runs));
const warmupCommands = Math.min(measuredCommands, 300_000);
const accounts = 100;
const memoryOrders = 1_000_000;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

interface BookResult {
  opsPerSec: number;
  keepingOpsPerSec: number;
  peerOpsPerSec: number | null;
  ratioVsPeer: number | null;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  peer: (LatencySummary & { errors: number }) | null;
  runs: { engineOpsPerSec: number[]; keepingOpsPerSec: number[]; peerOpsPerSec: number[] };
  commands: number;
  prefillOrders: number;
  mix: { passive: number; cancels: number; markets: number; iocs: number };
  rejects: number;
  rejectRate: number;
  trades: number;
  expectedTrades: number;
  /** The engine traded and rested exactly what the workload's own simulation predicted (and the peer rested the same). */
  consistent: boolean;
  resting: { target: number; mean: number; min: number; max: number; atEnd: number; engineAtEnd: number; peerAtEnd: number | null };
  mid: { start: number; end: number; min: number; max: number };
}

interface EngineSide {
  runs: number[];
  keepingRuns: number[];
  latency: EngineLatency;
  engineResting: number;
  stats: WorkloadStats;
  commands: number;
  prefillOrders: number;
}

/** Warm-up, throughput runs and the latency pass of the engine; only the engine's own data is alive meanwhile. */
function benchEngineSide(name: string, targetResting: number, seed: number): EngineSide {
  log(`[${name}] generating ${fmt(warmupCommands)} warm-up + ${fmt(measuredCommands)} measured commands (target ${fmt(targetResting)} resting)…`);
  warmUpEngine(generateWorkload({ seed: seed + 1_000, targetResting, commands: warmupCommands, accounts }));
  const workload = generateWorkload({ seed, targetResting, commands: measuredCommands, accounts });
  const runsOut: number[] = [];
  const keepingRuns: number[] = [];
  let engineResting = -1;
  for (let run = 0; run < runs; run++) {
    const result = engineThroughput(workload, "in-place");
    runsOut.push(result.opsPerSec);
    engineResting = result.resting;
    const keeping = engineThroughput(workload, "keeping");
    keepingRuns.push(keeping.opsPerSec);
    if (keeping.resting !== result.resting || keeping.events !== result.events) throw new Error(`[${name}] apply and applyInPlace disagree`);
    log(`[${name}] engine run ${run + 1}/${runs}: ${fmt(result.opsPerSec)} ops/s in place, ${fmt(keeping.opsPerSec)} ops/s keeping events`);
  }
  const latency = engineLatency(workload);
  log(`[${name}] engine latency p50 ${latency.p50Ns} ns, p99 ${latency.p99Ns} ns, p99.9 ${latency.p999Ns} ns, max ${fmt(latency.maxNs)} ns`);
  return { runs: runsOut, keepingRuns, latency, engineResting, stats: workload.stats, commands: workload.stream.length, prefillOrders: workload.prefill.length };
}

function warmUpEngine(warm: Workload): void {
  const inPlace = new Engine();
  for (const command of [...warm.setup, ...warm.prefill, ...warm.stream]) inPlace.applyInPlace(command);
  const engine = freshEngine([...warm.setup, ...warm.prefill, ...warm.stream]);
  if (inPlace.nextOrderId !== engine.nextOrderId) throw new Error("warm-up: apply and applyInPlace disagree");
  if (engine.nextOrderId - 1 !== warm.prefill.length + warm.stats.passive + warm.stats.markets + warm.stats.iocs) {
    throw new Error("warm-up: the engine did not accept every order");
  }
}

interface PeerSide {
  runs: number[];
  latency: LatencySummary;
  errors: number;
  resting: number;
}

/**
 * The same (regenerated, deterministic) streams mapped to the peer's calls; the
 * engine's command objects are dropped before anything is timed, so each side is
 * measured with only its own data on the heap.
 */
function benchPeerSide(name: string, targetResting: number, seed: number): PeerSide {
  const warm = peerOpsOf(generateWorkload({ seed: seed + 1_000, targetResting, commands: warmupCommands, accounts }));
  const measured = peerOpsOf(generateWorkload({ seed, targetResting, commands: measuredCommands, accounts }));
  const warmBook = newPeerBook();
  for (const op of warm.prefill) applyPeer(warmBook, op);
  for (const op of warm.stream) applyPeer(warmBook, op);
  const runsOut: number[] = [];
  let errors = 0;
  let resting = -1;
  for (let run = 0; run < runs; run++) {
    const result = peerThroughput(measured.prefill, measured.stream);
    runsOut.push(result.opsPerSec);
    errors = result.errors;
    resting = result.resting;
    log(`[${name}] peer run ${run + 1}/${runs}: ${fmt(result.opsPerSec)} ops/s`);
  }
  const latency = peerLatency(measured.prefill, measured.stream);
  log(`[${name}] peer latency p50 ${latency.p50Ns} ns, p99 ${latency.p99Ns} ns, p99.9 ${latency.p999Ns} ns`);
  return { runs: runsOut, latency, errors, resting };
}

function peerOpsOf(workload: Workload): { prefill: PeerOp[]; stream: PeerOp[] } {
  const prefill = toPeerOps(workload.prefill, workload.firstOrderId);
  return { prefill: prefill.ops, stream: toPeerOps(workload.stream, prefill.nextOrderId).ops };
}

function benchBook(name: string, targetResting: number, seed: number): BookResult {
  const engineSide = benchEngineSide(name, targetResting, seed);
  const peerSide = flags["skip-peer"] ? null : benchPeerSide(name, targetResting, seed);
  const engineRuns = engineSide.runs;
  const peerRuns = peerSide?.runs ?? [];
  const latency = engineSide.latency;
  const engineResting = engineSide.engineResting;
  const peerResting = peerSide?.resting ?? null;
  const peer = peerSide === null ? null : { ...peerSide.latency, errors: peerSide.errors };
  const opsPerSec = Math.round(median(engineRuns));
  const peerOpsPerSec = peerRuns.length > 0 ? Math.round(median(peerRuns)) : null;
  const s = engineSide.stats;
  if (engineResting !== s.restingAtEnd) throw new Error(`[${name}] engine rests ${engineResting} orders, the simulation ${s.restingAtEnd}`);
  if (peerResting !== null && peerResting !== s.restingAtEnd) log(`[${name}] WARNING: peer rests ${peerResting} orders, the simulation ${s.restingAtEnd}`);
  return {
    opsPerSec,
    keepingOpsPerSec: Math.round(median(engineSide.keepingRuns)),
    peerOpsPerSec,
    ratioVsPeer: peerOpsPerSec === null ? null : round2(opsPerSec / peerOpsPerSec),
    p50Ns: latency.p50Ns,
    p99Ns: latency.p99Ns,
    p999Ns: latency.p999Ns,
    maxNs: latency.maxNs,
    peer,
    runs: { engineOpsPerSec: engineRuns, keepingOpsPerSec: engineSide.keepingRuns, peerOpsPerSec: peerRuns },
    commands: engineSide.commands,
    prefillOrders: engineSide.prefillOrders,
    mix: { passive: s.passive, cancels: s.cancels, markets: s.markets, iocs: s.iocs },
    rejects: latency.rejects,
    rejectRate: latency.rejects / engineSide.commands,
    trades: latency.trades,
    expectedTrades: s.expectedTrades,
    consistent: latency.trades === s.expectedTrades && latency.resting === s.restingAtEnd && (peerResting === null || peerResting === s.restingAtEnd),
    resting: {
      target: targetResting,
      mean: s.restingMean,
      min: s.restingMin,
      max: s.restingMax,
      atEnd: s.restingAtEnd,
      engineAtEnd: latency.resting,
      peerAtEnd: peerResting,
    },
    mid: { start: s.midStart, end: s.midEnd, min: s.midMin, max: s.midMax },
  };
}

/**
 * Decode + applyInPlace of every record of a codec-encoded workload (setup and prefill included),
 * as the shard replays its journal; then the same with the event-stream hash folded in.
 */
function benchReplay(seed: number): { commandsPerSec: number; withEventHashCommandsPerSec: number; records: number; bytes: number } {
  log("[replay] encoding…");
  const warm = journalRecords(generateWorkload({ seed: seed + 1_000, targetResting: 1_000, commands: warmupCommands, accounts }));
  const workload = generateWorkload({ seed, targetResting: 1_000, commands: measuredCommands, accounts });
  const records = journalRecords(workload);
  // The state the stream leads to, applied from the commands themselves: each replay must reach it.
  const expected = encodeSnapshot(freshEngine([...workload.setup, ...workload.prefill, ...workload.stream]));
  const replayOnce = (hashed: boolean, from: readonly Uint8Array[]): number => {
    const engine = new Engine();
    const replayer = new Replayer(engine, hashed ? new EventStreamHash() : null, 0, 0);
    fullGc();
    const start = process.hrtime.bigint();
    for (let i = 0; i < from.length; i++) replayer.push(i + 1, from[i] as Uint8Array);
    replayer.flush();
    const elapsedNs = Number(process.hrtime.bigint() - start);
    if (hashed === false && Buffer.compare(encodeSnapshot(engine), expected) !== 0) throw new Error("[replay] the replayed engine's state differs from the stream's");
    return Math.round((from.length * 1e9) / elapsedNs);
  };
  replayOnce(true, warm);
  const commandsPerSec = replayOnce(false, records);
  const withEventHashCommandsPerSec = replayOnce(true, records);
  let bytes = 0;
  for (const record of records) bytes += record.length;
  return { commandsPerSec, withEventHashCommandsPerSec, records: records.length, bytes };
}

interface MemoryResult {
  bytesPerRestingOrder: number;
  orders: number;
  heapDeltaBytes: number;
}

/**
 * Heap in use plus the backing stores of typed arrays, which live outside the V8 heap (the
 * engine keeps its client-order-id tables in them) and so are missing from `heapUsed`.
 */
function engineBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Runs in the child: builds a book of `memoryOrders` resting orders and reports the heap growth. */
function measureMemoryHere(): MemoryResult {
  const engine = freshEngine(setupCommands(accounts));
  fullGc();
  const before = engineBytes();
  for (let i = 0; i < memoryOrders; i++) {
    const isBuy = (i & 1) === 0;
    const offset = (i >> 1) % 4_000;
    const price = isBuy ? referencePriceTicks - 1 - offset : referencePriceTicks + 1 + offset;
    const command = fixtures.limit(1 + (i % accounts), isBuy ? "buy" : "sell", price, 10, { tsUs: i, clientOrderId: `m${i}` });
    if (engine.apply(command)[0]?.type !== "OrderAccepted") throw new Error(`memory: order ${i} was not accepted`);
  }
  fullGc();
  const after = engineBytes();
  const resting = restingOrders(engine);
  if (resting !== memoryOrders) throw new Error(`memory: ${resting} orders rest, expected ${memoryOrders}`);
  return { bytesPerRestingOrder: Math.round((after - before) / memoryOrders), orders: memoryOrders, heapDeltaBytes: after - before };
}

function measureMemoryInChild(): MemoryResult {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", "--max-old-space-size=4096", script, "--memory-only"], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`memory child failed (${child.status}): ${child.stderr}`);
  const line = child.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as MemoryResult;
}


function fmt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

async function main(): Promise<void> {
  if (flags["memory-only"]) {
    process.stdout.write(`${JSON.stringify(measureMemoryHere())}\n`);
    return;
  }
  const started = Date.now();
  const overheadNs = timerOverheadNs();
  const only = flags.only;
  const book1k = only === undefined || only === "book1k" ? benchBook("book1k", 1_000, 42) : null;
  const book20k = only === undefined || only === "book20k" ? benchBook("book20k", 20_000, 4_242) : null;
  const replay = flags["skip-replay"] ? null : benchReplay(42);
  if (replay !== null) log(`[replay] ${fmt(replay.commandsPerSec)} commands/s, ${fmt(replay.withEventHashCommandsPerSec)} with the event-stream hash (${fmt(replay.records)} records, ${fmt(replay.bytes)} bytes)`);
  let memory: MemoryResult | null = null;
  if (!flags["skip-memory"]) {
    log(`[memory] building a book of ${fmt(memoryOrders)} resting orders in a child process…`);
    memory = measureMemoryInChild();
    log(`[memory] ${memory.bytesPerRestingOrder} bytes per resting order`);
  }
  let journal: Awaited<ReturnType<typeof measureJournal>> | null = null;
  if (!flags["skip-journal"]) {
    log("[journal] measuring durable appends…");
    journal = await measureJournal();
    log(`[journal] ${fmt(journal.durableCommandsPerSec)} durable commands/s, ack p99 ${journal.ackP99Ms} ms`);
  }

  const cpu = cpus();
  const result = {
    timestamp: new Date().toISOString(),
    node: process.version,
    commit: gitCommit(),
    dirty: gitDirty(["packages", "bench"]),
    machine: { cpus: cpu.length, model: cpu[0]?.model ?? "unknown", platform: `${process.platform}-${process.arch}` },
    config: { measuredCommands, warmupCommands, runs, accounts, memoryOrders, seeds: { book1k: 42, book20k: 4_242 } },
    timerOverheadNs: overheadNs,
    book1k,
    book20k,
    journal,
    replay,
    memory,
    durationSec: Math.round((Date.now() - started) / 100) / 10,
  };

  log("");
  log("── TradeStream engine benchmark ──────────────────────────────────────");
  for (const [name, r] of [["book1k", book1k], ["book20k", book20k]] as const) {
    if (r === null) continue;
    const peer = r.peerOpsPerSec === null ? "" : `  peer ${fmt(r.peerOpsPerSec)} ops/s  (${r.ratioVsPeer}×)`;
    log(`${name.padEnd(8)} ${fmt(r.opsPerSec).padStart(11)} ops/s${peer}`);
    log(`         ${fmt(r.keepingOpsPerSec)} ops/s keeping the events (apply: new event objects per command)`);
    log(`         p50 ${r.p50Ns} ns  p99 ${r.p99Ns} ns  p99.9 ${r.p999Ns} ns  (timer overhead ≈${overheadNs} ns included)`);
    log(`         rejects ${r.rejects} (${(r.rejectRate * 100).toFixed(3)}%), trades ${fmt(r.trades)} (simulated ${fmt(r.expectedTrades)}), resting mean ${fmt(r.resting.mean)}${r.consistent ? "" : "  INCONSISTENT"}`);
  }
  if (replay !== null) log(`replay   ${fmt(replay.commandsPerSec).padStart(11)} commands/s (decode + apply), ${fmt(replay.withEventHashCommandsPerSec)} with the event-stream hash`);
  if (memory !== null) log(`memory   ${String(memory.bytesPerRestingOrder).padStart(11)} bytes per resting order (${fmt(memory.orders)} orders)`);
  if (journal !== null) log(`journal  ${fmt(journal.durableCommandsPerSec).padStart(11)} durable commands/s, ack p99 ${journal.ackP99Ms} ms`);

  const json = JSON.stringify(result);
  process.stdout.write(`${json}\n`);
  if (!flags["no-write"]) {
    const dir = join(here, "results");
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, "engine.jsonl"), `${json}\n`);
  }
}

await main();
