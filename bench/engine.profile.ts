// Profiling harness: only the engine's timed throughput loop, nothing else, so a
// CPU profile shows the engine's hot path (the workload generation is in the
// profile too, but in separate functions that are easy to ignore).
//
//   node --cpu-prof --cpu-prof-dir=.tmp/prof --import tsx bench/engine.profile.ts [--book 1000] [--commands 1000000] [--runs 3]
//
// tsx emits each module on one line, so profiles taken through it have function
// granularity only. For line-level ticks bundle the harness unminified first:
//
//   node_modules/.bin/esbuild bench/engine.profile.ts --bundle --platform=node --format=esm --keep-names \
//     --outfile=.tmp/engine.profile.mjs --external:nodejs-order-book && node --cpu-prof .tmp/engine.profile.mjs
//
// Paired A/B of two engine versions (`--baseline <path to the other version's
// packages/engine/src/index.ts>`, e.g. a copy of the directory from an earlier
// commit): both engines consume the same stream in alternating chunks of
// `--chunk` commands (which one goes first alternates too), so the load of other
// jobs on a shared machine hits both alike. The median of the per-chunk time
// ratios is the steady figure; comparing a copy with itself gives the noise
// (about ±2 % on the 2-vCPU machine of docs/BENCHMARKS.md).

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Command, decodeCommand, type EngineEvent } from "@tradestream/contracts";
import { Engine, captureSnapshot, encodeSnapshot, joinChunks } from "../packages/engine/src/index.ts";
import { parseBenchArgs } from "./cli.ts";
import { engineThroughput, journalRecords, preparedEngine } from "./measure.ts";
import { median } from "./stats.ts";
import { clientOrderIdStyle, generateWorkload, withClientOrderIds, type Workload } from "./workload.ts";

const values = parseBenchArgs({
  script: "bench/engine.profile.ts",
  summary: `Profiling harness: only the engine's timed throughput loop on the seeded workload, for CPU
profiles (node --cpu-prof --import tsx bench/engine.profile.ts …); prints wall and per-CPU-second
throughput per run. With --baseline, a paired A/B of two engine versions over the same stream in
alternating chunks; prints the median per-chunk time ratio (docs/BENCHMARKS.md, Profiling).`,
  options: {
    book: { type: "string", value: "N", default: "1000", description: "target resting orders in the book, e.g. 20000 for book20k" },
    commands: { type: "string", value: "N", default: "1000000", description: "measured commands; warm-up is min(N, 300000)" },
    runs: { type: "string", value: "N", default: "3", description: "throughput runs; with --baseline, passes over the stream" },
    baseline: { type: "string", value: "PATH", defaultText: "none", description: "the other version's packages/engine/src/index.ts: paired A/B against it" },
    chunk: { type: "string", value: "N", default: "25000", description: "commands per alternating chunk in the paired A/B" },
    "snapshot-ids": {
      type: "string",
      value: "STYLE",
      defaultText: "none",
      description: "time the engine snapshot at once (encodeSnapshot) and as a shard takes it (the capture, then the longest step writing the client order ids) after the stream, with client order ids in this style: counter (c-1, c-2 … per account), timed (sim-1-<ms in base 36>-<n>, as the demo simulator makes them) or uuid",
    },
    "decode-baseline": {
      type: "string",
      value: "PATH",
      defaultText: "none",
      description: "the other version's packages/contracts/src/codec.ts: paired A/B of the journal decoder (records side by side in 4 MiB chunks, as replay reads them), decode alone and decode + applyInPlace",
    },
    keeping: { type: "boolean", description: "measure apply (new event objects per command) instead of applyInPlace; an engine without applyInPlace is always measured so" },
  },
});
const targetResting = Number(values.book);
const commands = Number(values.commands);
const runs = Number(values.runs);
const warm = generateWorkload({ seed: 7, targetResting, commands: Math.min(commands, 300_000) });
const workload = generateWorkload({ seed: 42, targetResting, commands });

interface AnyEngine {
  apply(command: Command): EngineEvent[];
  applyInPlace?(command: Command): number;
}
type EngineClass = new () => AnyEngine;

function prepared(EngineOf: EngineClass, w: Workload): AnyEngine {
  const engine = new EngineOf();
  for (const command of w.setup) engine.apply(command);
  for (const command of w.prefill) engine.apply(command);
  return engine;
}

const keeping = values.keeping === true;

function timeChunk(engine: AnyEngine, from: number, to: number): number {
  const stream = workload.stream;
  const start = process.hrtime.bigint();
  if (keeping || engine.applyInPlace === undefined) for (let i = from; i < to; i++) engine.apply(stream[i] as Command);
  else for (let i = from; i < to; i++) engine.applyInPlace(stream[i] as Command);
  return Number(process.hrtime.bigint() - start);
}

/**
 * One pass of paired chunks over `length` items: the baseline's and the current version's
 * timings of each chunk, in alternating order (which goes first alternates by chunk and
 * by pass), so the machine's load hits both alike. Adds to `out`: per-chunk time ratios
 * baseline/current and the two totals in ns.
 */
function alternateChunks(
  length: number,
  pass: number,
  timeBaseline: (from: number, to: number) => number,
  timeCurrent: (from: number, to: number) => number,
  out: { ratios: number[]; baselineNs: number; currentNs: number },
): void {
  const chunk = Number(values.chunk);
  for (let from = 0, k = 0; from < length; from += chunk, k++) {
    const to = Math.min(length, from + chunk);
    const baselineFirst = (k + pass) % 2 === 0;
    const first = baselineFirst ? timeBaseline(from, to) : timeCurrent(from, to);
    const second = baselineFirst ? timeCurrent(from, to) : timeBaseline(from, to);
    const b = baselineFirst ? first : second;
    const c = baselineFirst ? second : first;
    out.baselineNs += b;
    out.currentNs += c;
    out.ratios.push(b / c);
  }
}

/** Paired chunks: baseline and current engine alternate over the same stream. */
async function compare(baselinePath: string): Promise<void> {
  const url = pathToFileURL(isAbsolute(baselinePath) ? baselinePath : resolve(baselinePath)).href;
  const Baseline = ((await import(url)) as { Engine: EngineClass }).Engine;
  const Current: EngineClass = Engine;
  for (const EngineOf of [Baseline, Current]) {
    const engine = prepared(EngineOf, warm);
    for (const command of warm.stream) engine.apply(command);
    const inPlace = prepared(EngineOf, warm);
    if (inPlace.applyInPlace !== undefined) for (const command of warm.stream) inPlace.applyInPlace(command);
  }
  const paired = { ratios: [] as number[], baselineNs: 0, currentNs: 0 };
  for (let run = 0; run < runs; run++) {
    const baseline = prepared(Baseline, workload);
    const current = prepared(Current, workload);
    alternateChunks(workload.stream.length, run, (from, to) => timeChunk(baseline, from, to), (from, to) => timeChunk(current, from, to), paired);
  }
  const { ratios, baselineNs, currentNs } = paired;
  const total = runs * workload.stream.length;
  const opsPerSec = (ns: number): string => Math.round((total * 1e9) / ns).toLocaleString("en-US");
  process.stdout.write(
    `book ${targetResting}: baseline ${opsPerSec(baselineNs)} ops/s, current ${opsPerSec(currentNs)} ops/s; ` +
      `current/baseline: median chunk ${median(ratios).toFixed(3)}, total ${(baselineNs / currentNs).toFixed(3)} (${ratios.length} chunks)\n`,
  );
}

/** Paired chunks of replay: the same records decoded by the baseline's decoder and the current one (each into its own engine). */
async function compareDecoders(baselinePath: string): Promise<void> {
  const url = pathToFileURL(isAbsolute(baselinePath) ? baselinePath : resolve(baselinePath)).href;
  const baselineDecode = ((await import(url)) as { decodeCommand: (record: Uint8Array) => Command }).decodeCommand;
  const records = journalRecords(workload);
  const warmRecords = journalRecords(warm);
  let sink = 0;
  const time = (decode: (record: Uint8Array) => Command, from: number, to: number, engine: Engine | null): number => {
    const start = process.hrtime.bigint();
    if (engine === null) for (let i = from; i < to; i++) sink += decode(records[i] as Uint8Array).tsUs;
    else for (let i = from; i < to; i++) engine.applyInPlace(decode(records[i] as Uint8Array));
    return Number(process.hrtime.bigint() - start);
  };
  for (const decode of [baselineDecode, decodeCommand]) {
    const engine = new Engine();
    for (const record of warmRecords) engine.applyInPlace(decode(record));
  }
  for (const withApply of [false, true]) {
    const paired = { ratios: [] as number[], baselineNs: 0, currentNs: 0 };
    for (let run = 0; run < runs; run++) {
      const baselineEngine = withApply ? new Engine() : null;
      const currentEngine = withApply ? new Engine() : null;
      alternateChunks(records.length, run, (from, to) => time(baselineDecode, from, to, baselineEngine), (from, to) => time(decodeCommand, from, to, currentEngine), paired);
    }
    process.stdout.write(`${withApply ? "decode + applyInPlace" : "decode"}: baseline/current time, median chunk ${median(paired.ratios).toFixed(3)} (${paired.ratios.length} chunks)\n`);
  }
  if (sink === 0) process.stdout.write("(no records)\n");
}

/** The engine snapshot's time and size after the stream, with the day's client order ids in one style. */
function timeSnapshots(value: string): void {
  const style = clientOrderIdStyle(value, "--snapshot-ids");
  const engine = new Engine();
  const { commands, ids } = withClientOrderIds([...workload.setup, ...workload.prefill, ...workload.stream], style);
  for (const command of commands) engine.applyInPlace(command);
  const times: number[] = [];
  const captures: number[] = [];
  const longestSteps: number[] = [];
  let bytes = 0;
  const ms = (t: number): number => Math.round(t * 10) / 10;
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    bytes = encodeSnapshot(engine).length;
    times.push(performance.now() - start);
    // As the shard takes it: captured at once, the client order ids written in steps after.
    let stepStart = performance.now();
    const steps = captureSnapshot(engine);
    captures.push(performance.now() - stepStart);
    let longest = 0;
    for (;;) {
      stepStart = performance.now();
      const step = steps.next();
      longest = Math.max(longest, performance.now() - stepStart);
      if (step.done === true) {
        if (joinChunks(step.value).length !== bytes) throw new Error("the snapshot in steps has a different length");
        break;
      }
    }
    longestSteps.push(longest);
  }
  process.stdout.write(
    `${JSON.stringify({ snapshotIds: style, clientOrderIds: ids, openOrders: engine.orders.size, encodeMsMedian: ms(median(times)), encodeMs: times.map(ms), captureMsMedian: ms(median(captures)), longestStepMsMedian: ms(median(longestSteps)), longestStepMs: longestSteps.map(ms), bytes })}\n`,
  );
}

if (values["snapshot-ids"] !== undefined) {
  timeSnapshots(values["snapshot-ids"]);
} else if (values["decode-baseline"] !== undefined) {
  await compareDecoders(values["decode-baseline"]);
} else if (values.baseline !== undefined) {
  await compare(values.baseline);
} else {
  const warmEngine = preparedEngine(warm);
  for (const command of warm.stream) warmEngine.apply(command);
  const warmInPlace = preparedEngine(warm);
  for (const command of warm.stream) warmInPlace.applyInPlace(command);
  // CPU time beside wall time: on a shared machine it is the steadier number for A/B comparisons.
  for (let run = 0; run < runs; run++) {
    const cpuBefore = process.cpuUsage();
    const result = engineThroughput(workload, keeping ? "keeping" : "in-place");
    const cpu = process.cpuUsage(cpuBefore);
    const cpuOpsPerSec = Math.round((commands * 1e6) / (cpu.user + cpu.system));
    process.stdout.write(`book ${targetResting}: ${result.opsPerSec.toLocaleString("en-US")} ops/s wall, ~${cpuOpsPerSec.toLocaleString("en-US")} ops/s per CPU-second (incl. setup)\n`);
  }
}
