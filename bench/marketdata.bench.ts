// Market-data benchmark: `npm run bench:marketdata`.
//
// 1. normalizePerSec — the normalizer alone, in process: seeded simulated vendor
//    records (decimal-string prices, as parsed from JSON) → canonical ticks, on the
//    instruments' tick grids. `--runs` runs of `--records` records after a warm-up;
//    the median is reported, every run is in `normalizeRuns`.
// 2. natsEndToEndPerSec, natsP99Ms — end to end through NATS JetStream (file storage):
//    the ingestor as a relay (normalize and publish; candles off), fed simulated
//    vendor records at a fixed rate (`--nats-rate`, default 110,000/s, for
//    `--nats-duration-s`) in 1 ms slices, each generated as it is offered and
//    stamped with its scheduled time; normalized and published by NatsBus to
//    `marketdata.<symbol>` in a JetStream stream (per subject, the ticks of one
//    event-loop turn in one message of up to `--nats-batch`; acks pipelined) and
//    read back by a JetStream ordered consumer in a separate process (its own event
//    loop and heap, as the platform consuming the ingestor role would be). Latency
//    is the consumer's receipt time minus the tick's scheduled time, both from this
//    machine's clock, so a stall anywhere counts against it (no coordinated
//    omission). The throughput is ticks received over the time from the first
//    offer to the last receipt. Event-loop delays and CPU of both sides go to stderr.
//
// Prints one JSON object on stdout and appends it to bench/results/marketdata.jsonl.
// Flags: --records N (1,000,000), --runs N (3), --nats-url URL, --nats-rate N,
// --nats-duration-s N (5), --nats-batch N (ticks per message, 256), --skip-nats, --no-write.

import { fork } from "node:child_process";
import { cpus } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { DeadLetterStore, Ingestor, InstrumentTable, NatsBus, Normalizer, SimulatedMarket, type Feed, type FeedInstrument, type NormalizedTick } from "@tradestream/ingestor";
import { demoInstruments } from "../apps/server/src/demo.ts";
import { parseBenchArgs } from "./cli.ts";
import { median, percentile } from "./stats.ts";
import { gitCommit, recordResult } from "./record.ts";


const flags = parseBenchArgs({
  script: "bench/marketdata.bench.ts",
  npmScript: "bench:marketdata",
  summary: `Market-data benchmark: the normalizer alone, in process (simulated vendor records to canonical
ticks), then end to end through NATS JetStream (file storage): the ingestor as a relay fed at a fixed
rate, read back by an ordered consumer in a separate process; latency from each tick's scheduled
time to its receipt (docs/BENCHMARKS.md). The NATS phase needs nats-server with JetStream.
Prints one JSON object on stdout and appends it to bench/results/marketdata.jsonl.`,
  options: {
    records: { type: "string", value: "N", default: "1000000", description: "records per normalizer run" },
    runs: { type: "string", value: "N", default: "3", description: "normalizer runs after a warm-up; the median is reported" },
    "nats-url": { type: "string", value: "URL", default: process.env.NATS_URL ?? "nats://127.0.0.1:4222", description: "NATS server with JetStream; $NATS_URL, when set, is the default" },
    "nats-rate": { type: "string", value: "N", default: "110000", description: "ticks/s offered in the NATS end-to-end phase" },
    "nats-duration-s": { type: "string", value: "N", default: "5", description: "seconds of offered load in the NATS phase" },
    "nats-batch": { type: "string", value: "N", default: "256", description: "most ticks per published NATS message; a message holds one subject's ticks of one event-loop turn" },
    "skip-nats": { type: "boolean", description: "leave out the NATS end-to-end phase; no nats-server needed then" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/marketdata.jsonl" },
  },
});

const instruments: FeedInstrument[] = demoInstruments.map((spec) => ({ spec: { ...spec } }));
const log = (text: string): void => void process.stderr.write(`${text}\n`);

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Records as a vendor sends them, generated up front (the generator is not what is measured). */
function records(count: number, seed: number, startUs: number): object[] {
  const market = new SimulatedMarket({ instruments, seed, gapProbability: 0.001 });
  const out: object[] = new Array<object>(count);
  for (let i = 0; i < count; i += 1) out[i] = market.next(startUs + i);
  return out;
}

function normalizeRun(input: readonly object[]): number {
  const normalizer = new Normalizer({ source: "bench", instruments: new InstrumentTable(instruments), deadLetters: new DeadLetterStore(), clockUs: () => 0 });
  let accepted = 0;
  let checksum = 0;
  const started = performance.now();
  for (let i = 0; i < input.length; i += 1) {
    const tick = normalizer.normalize(input[i]);
    if (tick !== null) {
      accepted += 1;
      checksum += tick.priceTicks + tick.bidTicks;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (accepted !== input.length || checksum === 0) throw new Error(`normalizer refused ${String(input.length - accepted)} generated records`);
  return Math.round(input.length / seconds);
}

/** What the consumer process reports back: its latencies summarized, and when it saw the last tick (wall-clock µs). */
interface ConsumerReport {
  readonly received: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly lastReceivedUs: number;
}

const consumerRoleEnv = "TRADESTREAM_MARKETDATA_BENCH_CONSUMER";

/**
 * The consumer, in a process of its own (so it shares neither the event loop
 * nor the heap of the publisher): a JetStream ordered consumer of the stream;
 * each tick's latency is its receipt time minus its scheduled time (both
 * `performance.timeOrigin + performance.now()` on this machine's clock).
 */
async function consumerProcess(): Promise<void> {
  const config = JSON.parse(process.env[consumerRoleEnv] ?? "{}") as { url: string; stream: string; total: number };
  const nc = await connect({ servers: config.url });
  const consumer = await jetstream(nc).consumers.get(config.stream);
  const messages = await consumer.consume({ max_messages: 4_096 });
  const latenciesMs = new Float64Array(config.total);
  const decoder = new TextDecoder();
  let received = 0;
  let lastReceivedUs = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const send = (message: unknown): void => void process.send?.(message);
  process.on("message", () => void messages.close());
  send({ ready: true });
  for await (const message of messages) {
    const ticks = JSON.parse(decoder.decode(message.data)) as NormalizedTick[];
    const at = nowUs();
    for (const tick of ticks) {
      if (received < config.total) latenciesMs[received] = (at - tick.tsUs) / 1000;
      received += 1;
    }
    lastReceivedUs = at;
    if (received >= config.total) break;
  }
  await messages.close();
  const sorted = latenciesMs.slice(0, Math.min(received, config.total)).sort();
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  const cpu = process.cpuUsage();
  log(`  consumer CPU ${String(Math.round((cpu.user + cpu.system) / 1000))} ms since start; event-loop delay p99 ${String(Math.round(loopDelay.percentile(99) / 1e4) / 100)} ms, max ${String(Math.round(loopDelay.max / 1e4) / 100)} ms`);
  const report: ConsumerReport = { received, p50Ms: round(percentile(sorted, 0.5)), p99Ms: round(percentile(sorted, 0.99)), maxMs: round(sorted[sorted.length - 1] ?? 0), lastReceivedUs };
  send({ report });
  await nc.drain();
}

function startConsumer(config: { url: string; stream: string; total: number }): Promise<{ report: Promise<ConsumerReport>; stop(): void }> {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [consumerRoleEnv]: JSON.stringify(config) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const report = new Promise<ConsumerReport>((resolveReport, rejectReport) => {
      child.on("message", (message: { ready?: boolean; report?: ConsumerReport }) => {
        if (message.ready === true) resolve({ report, stop: () => void child.send("stop") });
        if (message.report !== undefined) resolveReport(message.report);
      });
      child.once("exit", (code) => {
        const error = new Error(`the consumer process exited with ${String(code)} before reporting`);
        reject(error);
        rejectReport(error);
      });
    });
  });
}

async function natsEndToEnd(): Promise<Record<string, number | string>> {
  const rate = Number(flags["nats-rate"]);
  const durationS = Number(flags["nats-duration-s"]);
  const total = Math.round(rate * durationS);
  const stream = `MDBENCH_${String(process.pid)}`;
  const prefix = `mdbench${String(process.pid)}`;
  const nc = await connect({ servers: flags["nats-url"] });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], storage: StorageType.File });
  const bus = await NatsBus.open({ url: flags["nats-url"], stream, subjectPrefix: prefix, batchMax: Number(flags["nats-batch"]) });
  // A feed the benchmark drives: the ingestor's whole path (normalize → bus) runs for every record.
  const feed: Feed & { push(raw: object): void } = {
    source: "bench",
    sink: null as { record(raw: unknown): void } | null,
    start(sink) {
      this.sink = sink;
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
    status: () => ({ source: "bench", state: "connected", reconnects: 0, messages: 0, lastError: null }),
    push(raw) {
      this.sink?.record(raw);
    },
  } as Feed & { push(raw: object): void; sink: { record(raw: unknown): void } | null };
  // A relay: normalize and publish (candles and tickers are built where the ticks are consumed).
  const ingestor = new Ingestor({ instruments, feeds: [feed], bus, referenceIntervalMs: 60_000, candles: false });
  // Generated as offered, stamped with its scheduled time: like a vendor feed, and no
  // half-million records kept alive for the collector to trace while latency is measured.
  const market = new SimulatedMarket({ instruments, seed: 9, gapProbability: 0.001 });
  const consumer = await startConsumer({ url: flags["nats-url"], stream, total });
  await ingestor.start();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  // Offer at a fixed rate in 1 ms slices; each record is stamped with its scheduled time.
  const sliceMs = 1;
  const startUs = nowUs();
  const startedMs = performance.now();
  let offered = 0;
  while (offered < total) {
    const due = Math.min(total, Math.floor(((performance.now() - startedMs) / 1000) * rate));
    for (; offered < due; offered += 1) feed.push(market.next(startUs + Math.round((offered / rate) * 1e6)));
    await new Promise((resolve) => setTimeout(resolve, sliceMs));
  }
  await bus.flush();
  const cpu = process.cpuUsage(cpuBefore);
  log(`  publisher event-loop delay p99 ${String(Math.round(loopDelay.percentile(99) / 1e4) / 100)} ms, max ${String(Math.round(loopDelay.max / 1e4) / 100)} ms; CPU ${String(Math.round((cpu.user + cpu.system) / 1000))} ms in ${String(Math.round(performance.now() - startedMs))} ms`);
  const stopTimer = setTimeout(() => consumer.stop(), 30_000);
  const report = await consumer.report;
  clearTimeout(stopTimer);
  const seconds = (report.lastReceivedUs - startUs) / 1e6;
  const result = {
    offeredPerSec: rate,
    ticks: total,
    received: report.received,
    failed: bus.failed,
    natsEndToEndPerSec: Math.round(Math.min(report.received, total) / seconds),
    natsP50Ms: report.p50Ms,
    natsP99Ms: report.p99Ms,
    natsMaxMs: report.maxMs,
    batch: Number(flags["nats-batch"]),
    storage: "file",
    consumer: "separate process, JetStream ordered consumer",
  };
  await ingestor.stop();
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.drain();
  if (report.received < total) throw new Error(`only ${String(report.received)} of ${String(total)} ticks came back through NATS (${JSON.stringify(result)}, dead letters ${String(ingestor.deadLetters.size)})`);
  return result;
}

async function main(): Promise<void> {
  const count = Number(flags.records);
  const runs = Number(flags.runs);
  const input = records(count, 42, 1_714_555_800_000_000);
  log(`normalizer: warm-up, then ${String(runs)} runs of ${String(count)} records`);
  normalizeRun(input.slice(0, Math.min(count, 200_000)));
  const normalizeRuns: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    normalizeRuns.push(normalizeRun(input));
    log(`  run ${String(run + 1)}: ${String(normalizeRuns[run])} records/s`);
  }
  let nats: Record<string, number | string> | { skipped: string } = { skipped: "--skip-nats" };
  if (!flags["skip-nats"]) {
    log(`NATS JetStream end to end: ${flags["nats-rate"]}/s for ${flags["nats-duration-s"]} s`);
    nats = await natsEndToEnd();
    log(`  ${JSON.stringify(nats)}`);
  }
  const result = {
    bench: "marketdata",
    time: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    commit: gitCommit(),
    normalizePerSec: median(normalizeRuns),
    normalizeRuns,
    records: count,
    natsEndToEndPerSec: "natsEndToEndPerSec" in nats ? nats.natsEndToEndPerSec : null,
    natsP99Ms: "natsP99Ms" in nats ? nats.natsP99Ms : null,
    nats,
  };
  recordResult("marketdata", result, !flags["no-write"]);
}

const run = process.env[consumerRoleEnv] === undefined ? main : consumerProcess;
run().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`marketdata bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
