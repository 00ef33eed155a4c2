// Read-model benchmark: how fast the platform's read models follow the engine.
//
// The gateway answers queries and feeds WebSockets from two projections of the
// engine's events, the public market data (L2 book, trades, candles, tickers) and
// the private orders view (orders, fills, balances, positions, with their indexes).
// Both run on the gateway's thread for every command, and at start-up they are
// rebuilt by replaying the journal, so their speed bounds both the live path and
// the restart time.
//
// The stream is the engine benchmark's `book1k` workload (setup, prefill and
// --commands commands: passive adds, cancels, crossing orders). Its events are
// generated once by the engine (untimed), then each projection is timed on its own
// over the same events, and the engine with both as the start-up replay runs them.
// Each figure is the median of --runs runs, in commands per second.
//
// A restart restores the read models from their newest snapshot instead of
// replaying the whole journal: after the runs, the last replay's projections are
// snapshotted --runs times as the server does it — captured (the pause the gateway's thread
// takes), then the orders encoded in steps (which the server runs in slices
// between other work) — and restored (what start-up does in place of the
// replay); `snapshot` reports the median milliseconds of each, the bytes, and
// what the state held.
//
// Prints one JSON object on stdout
// {"engineOnlyPerSec","marketDataPerSec","ordersPerSec","replayPerSec","snapshot":{…},…}
// and appends it to bench/results/readmodels.jsonl (unless --no-write).

import type { Command, EngineEvent } from "@tradestream/contracts";
import { Engine } from "../packages/engine/src/index.ts";
import { MarketDataProjection } from "../packages/marketdata/src/index.ts";
import { OrdersProjection } from "../packages/orders/src/index.ts";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseBenchArgs } from "./cli.ts";
import { gitCommit, machine, recordResult } from "./record.ts";
import { median } from "./stats.ts";
import { generateWorkload } from "./workload.ts";

const flags = parseBenchArgs({
  script: "bench/readmodels.bench.ts",
  npmScript: "bench:readmodels",
  summary: `Read-model benchmark: how fast the gateway's projections follow the engine, on the engine
benchmark's book1k workload: the engine alone, the market-data projection, the orders projection,
and the start-up replay (engine + both), in commands per second (docs/BENCHMARKS.md).
Prints one JSON object on stdout and appends it to bench/results/readmodels.jsonl.`,
  options: {
    commands: { type: "string", value: "N", default: "200000", description: "commands of the workload's stream; its setup and prefill come on top" },
    runs: { type: "string", value: "N", default: "5", description: "timed runs after one untimed round; the median is reported" },
    seed: { type: "string", value: "N", default: "1", description: "seed of the generated workload" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/readmodels.jsonl" },
    baseline: {
      type: "string",
      value: "PATH",
      defaultText: "none",
      description: "another version's packages/orders/src/index.ts: only the snapshot, paired with it in one process (both fed the same events, snapshots alternating --runs times); prints the medians, writes nothing",
    },
  },
});

const commandCount = Number(flags.commands);
const runs = Number(flags.runs);
const seed = Number(flags.seed);
if (!Number.isSafeInteger(commandCount) || commandCount < 1 || !Number.isSafeInteger(runs) || runs < 1) throw new Error("--commands and --runs must be positive integers");

/** The workload's commands, one millisecond apart from 2026-01-01 (so candles and days roll as they would live). */
function commandsOf(): Command[] {
  const workload = generateWorkload({ seed, targetResting: 1_000, commands: commandCount });
  let tsUs = Date.UTC(2026, 0, 1) * 1_000;
  return [...workload.setup, ...workload.prefill, ...workload.stream].map((command) => ({ ...command, tsUs: (tsUs += 1_000) }));
}

function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1_000);
}

function timeEngine(commands: readonly Command[]): number {
  const engine = new Engine();
  const started = performance.now();
  for (const command of commands) engine.apply(command);
  return perSecond(commands.length, performance.now() - started);
}

function timeProjection(batches: readonly EngineEvent[][], projection: { apply(events: readonly EngineEvent[]): void }): number {
  const started = performance.now();
  for (const events of batches) projection.apply(events);
  return perSecond(batches.length, performance.now() - started);
}

function timeReplay(commands: readonly Command[]): { perSec: number; market: MarketDataProjection; orders: OrdersProjection } {
  const engine = new Engine();
  const market = new MarketDataProjection();
  const orders = new OrdersProjection();
  const started = performance.now();
  for (const command of commands) {
    const events = engine.apply(command);
    market.apply(events);
    orders.apply(events);
  }
  return { perSec: perSecond(commands.length, performance.now() - started), market, orders };
}

interface Snapshotting {
  apply(events: readonly EngineEvent[]): void;
  snapshotSteps(): Generator<void, Uint8Array, void>;
}

/** A snapshot of the orders projection in steps, timed: taking it (the pause when it is taken), all its steps, the longest of them, their count. */
function timeSteps(orders: Snapshotting): { captureMs: number; stepsMs: number; maxStepMs: number; steps: number; bytes: Uint8Array } {
  const started = performance.now();
  const steps = orders.snapshotSteps();
  const captureMs = performance.now() - started;
  let maxStepMs = 0;
  let count = 0;
  for (;;) {
    const stepStart = performance.now();
    const step = steps.next();
    maxStepMs = Math.max(maxStepMs, performance.now() - stepStart);
    count += 1;
    if (step.done === true) return { captureMs, stepsMs: performance.now() - started - captureMs, maxStepMs, steps: count, bytes: step.value };
  }
}

/**
 * Snapshot and restore of both read models, as the server takes them: the capture (the
 * market data encoded, the orders' accounts and client-order-id values copied: the pause
 * on the gateway's thread when the snapshot is taken), the orders gathered and encoded in
 * steps (run in slices between other work; `maxStepMs` is the longest, the longest pause
 * they cause), and the restore.
 */
function timeSnapshot(market: MarketDataProjection, orders: OrdersProjection): { captureMs: number; encodeMs: number; maxStepMs: number; steps: number; restoreMs: number; bytes: number } {
  const marketStart = performance.now();
  const marketBytes = market.snapshot();
  const marketMs = performance.now() - marketStart;
  const taken = timeSteps(orders);
  const ordersBytes = taken.bytes;
  const restoreStart = performance.now();
  const restored = OrdersProjection.restore(ordersBytes);
  MarketDataProjection.restore(marketBytes);
  const restoreMs = performance.now() - restoreStart;
  if (restored.lastEventSeq !== orders.lastEventSeq) throw new Error("the restored orders projection is not the one snapshotted");
  return { captureMs: marketMs + taken.captureMs, encodeMs: taken.stepsMs, maxStepMs: taken.maxStepMs, steps: taken.steps, restoreMs, bytes: ordersBytes.length + marketBytes.length };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** How many items a paged listing holds in all. */
function countPages(list: (cursor: string | undefined) => { items: unknown[]; nextCursor: string | null }): number {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = list(cursor);
    count += page.items.length;
    if (page.nextCursor === null) return count;
    cursor = page.nextCursor;
  }
}

/** What the orders projection holds: kept orders (open among them) and kept fills. */
function heldBy(orders: OrdersProjection): { orders: number; openOrders: number; fills: number } {
  let openOrders = 0;
  for (const account of orders.accounts()) openOrders += account.openOrders;
  return {
    orders: countPages((cursor) => orders.listOrders({ accounts: "all", limit: 1_000, cursor })),
    openOrders,
    fills: countPages((cursor) => orders.fills({ accounts: "all", limit: 1_000, cursor })),
  };
}

/**
 * Paired snapshot timing against another version of the orders projection: both apply the
 * same events in one process, then snapshot in turn (which goes first alternates), so the
 * machine's load and the heap's state hit both alike. Both must give the same bytes.
 */
async function pairedSnapshots(baselinePath: string): Promise<void> {
  const baseline = (await import(pathToFileURL(isAbsolute(baselinePath) ? baselinePath : resolve(baselinePath)).href)) as { OrdersProjection: new () => Snapshotting };
  const commands = commandsOf();
  const engine = new Engine();
  const current = new OrdersProjection();
  const other = new baseline.OrdersProjection();
  for (const command of commands) {
    const events = engine.apply(command);
    current.apply(events);
    other.apply(events);
  }
  const samples = { currentCaptureMs: [] as number[], currentMaxStepMs: [] as number[], baselineCaptureMs: [] as number[], baselineMaxStepMs: [] as number[] };
  for (let run = 0; run < runs; run += 1) {
    const first = run % 2 === 0 ? other : current;
    const a = timeSteps(first);
    const b = timeSteps(first === other ? current : other);
    const [base, mine] = first === other ? [a, b] : [b, a];
    if (Buffer.compare(Buffer.from(base.bytes), Buffer.from(mine.bytes)) !== 0) throw new Error("the two versions' snapshots differ");
    samples.baselineCaptureMs.push(base.captureMs);
    samples.baselineMaxStepMs.push(base.maxStepMs);
    samples.currentCaptureMs.push(mine.captureMs);
    samples.currentMaxStepMs.push(mine.maxStepMs);
    process.stderr.write(`round ${run + 1}: baseline capture ${base.captureMs.toFixed(1)} ms, longest step ${base.maxStepMs.toFixed(1)} ms; this version ${mine.captureMs.toFixed(1)} ms, ${mine.maxStepMs.toFixed(1)} ms\n`);
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, round1(median(values))]));
  process.stdout.write(`${JSON.stringify({ bench: "readmodels-snapshot-paired", baseline: baselinePath, commands: commands.length, runs, ...medians, ...heldBy(current) })}\n`);
}

function main(): void {
  const commands = commandsOf();
  const generator = new Engine();
  let batches = commands.map((command) => generator.apply(command));
  const events = batches.reduce((n, batch) => n + batch.length, 0);
  process.stderr.write(`stream: ${commands.length} commands, ${events} events\n`);
  const samples = { engine: [] as number[], market: [] as number[], orders: [] as number[], replay: [] as number[], capture: [] as number[], encode: [] as number[], maxStep: [] as number[], restore: [] as number[] };
  // One unrecorded round first: the optimizing compiler sees every path before anything is timed.
  timeProjection(batches, new MarketDataProjection());
  timeProjection(batches, new OrdersProjection());
  let last: ReturnType<typeof timeReplay> | null = null;
  for (let run = 0; run < runs; run += 1) {
    samples.engine.push(timeEngine(commands));
    samples.market.push(timeProjection(batches, new MarketDataProjection()));
    samples.orders.push(timeProjection(batches, new OrdersProjection()));
    last = null; // the previous run's read models go before the next are built
    last = timeReplay(commands);
    samples.replay.push(last.perSec);
    process.stderr.write(`run ${run + 1}: engine ${samples.engine.at(-1)}/s, market data ${samples.market.at(-1)}/s, orders ${samples.orders.at(-1)}/s, replay ${samples.replay.at(-1)}/s\n`);
  }
  // Snapshots last, with only the last replay's read models alive (the pre-generated events
  // dropped), as in the server: a heap holding the whole stream's events besides would time the collector.
  batches = [];
  if (last === null) throw new Error("no replay ran");
  let snapshotBytes = 0;
  for (let run = 0; run < runs; run += 1) {
    const snapshot = timeSnapshot(last.market, last.orders);
    samples.capture.push(snapshot.captureMs);
    samples.encode.push(snapshot.encodeMs);
    samples.maxStep.push(snapshot.maxStepMs);
    samples.restore.push(snapshot.restoreMs);
    snapshotBytes = snapshot.bytes;
    process.stderr.write(`snapshot ${run + 1}: capture ${snapshot.captureMs.toFixed(1)} ms + gather and encode ${snapshot.encodeMs.toFixed(1)} ms in ${String(snapshot.steps)} steps (longest ${snapshot.maxStepMs.toFixed(1)} ms), restore ${snapshot.restoreMs.toFixed(1)} ms\n`);
  }
  const output = {
    bench: "readmodels",
    engineOnlyPerSec: median(samples.engine),
    marketDataPerSec: median(samples.market),
    ordersPerSec: median(samples.orders),
    replayPerSec: median(samples.replay),
    snapshot: { captureMs: round1(median(samples.capture)), encodeMs: round1(median(samples.encode)), maxStepMs: round1(median(samples.maxStep)), restoreMs: round1(median(samples.restore)), bytes: snapshotBytes, ...heldBy(last.orders) },
    timestamp: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    machine: machine(),
    config: { commands: commands.length, events, runs, seed, workload: "book1k" },
  };
  recordResult("readmodels", output, !flags["no-write"]);
}

if (flags.baseline === undefined) main();
else await pairedSnapshots(flags.baseline);
