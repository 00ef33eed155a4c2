// Journal benchmark: durable append throughput, append-to-durable latency and replay
// throughput of the file journal on the local disk, in a fresh temporary directory.
//
// A producer appends pre-generated records in a tight loop and yields to the event
// loop (setImmediate) every `appendsPerYield` appends, so group commits happen the way
// they do under a busy gateway. Two runs, because one number cannot be both:
//
// - throughput: the producer never waits, which saturates the disk. This gives
//   `durableCommandsPerSec`, but its latency is queueing time (whatever backlog the
//   producer built up), reported as `saturatedAckP50Ms`/`saturatedAckP99Ms`.
// - latency: the same loop paced to an offered load of `ackRecordsPerSec` (default
//   500,000/s, the platform's target), which is how an exchange is sized. This gives
//   `ackP50Ms`, `ackP99Ms` and `ackP999Ms`. Once caught up with its schedule the
//   producer sleeps (setTimeout, about 1 ms) instead of spinning, as a gateway idles
//   between network events; a spinning producer would take the CPU the thread pool
//   needs to complete the fdatasync it is waiting for.
//
// Latency is sampled per producer chunk: every record of a chunk is charged from the
// moment the chunk began, which overstates it by at most one chunk's duration.
// Replay reopens the throughput run's journal and reads it all back.
// Run directly (`npx tsx bench/journal.ts`) it prints the result as JSON.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openFileJournal, type JournalLogger } from "../packages/journal/src/index.ts";

export interface JournalBenchOptions {
  records?: number;
  recordBytes?: number;
  /** Parent directory for the temporary journals (default: the OS temp directory). */
  dir?: string;
  appendsPerYield?: number;
  /** Offered load of the latency run. */
  ackRecordsPerSec?: number;
}

export interface JournalBenchResult {
  durableCommandsPerSec: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackP999Ms: number;
  replayRecordsPerSec: number;
  fsyncs: number;
  ackOfferedRecordsPerSec: number;
  ackDurableCommandsPerSec: number;
  ackFsyncs: number;
  saturatedAckP50Ms: number;
  saturatedAckP99Ms: number;
}

interface ProducerResult {
  readonly durablePerSec: number;
  readonly fsyncs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

const recordPoolSize = 4096;

const quietLogger: JournalLogger = {
  info: () => undefined,
  warn: (msg, fields) => console.error(msg, fields),
  error: (msg, fields) => console.error(msg, fields),
};

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleepBriefly(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

function makeRecordPool(recordBytes: number): Uint8Array[] {
  const pool: Uint8Array[] = [];
  let state = 0x9e3779b9;
  for (let i = 0; i < recordPoolSize; i++) {
    const record = new Uint8Array(recordBytes);
    for (let j = 0; j < recordBytes; j++) {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      record[j] = state >>> 24;
    }
    pool.push(record);
  }
  return pool;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Appends `records` records into a new journal in `dir`; paced when `recordsPerSec` is given. */
async function runProducer(options: {
  dir: string;
  records: number;
  pool: Uint8Array[];
  appendsPerYield: number;
  recordsPerSec: number | null;
}): Promise<ProducerResult> {
  const { records, pool, appendsPerYield, recordsPerSec } = options;
  // At most one chunk per record, so these bounds are never exceeded.
  const chunkStartMs = new Float64Array(records);
  const chunkLastSeq = new Float64Array(records);
  const latencyMs = new Float64Array(records);
  let ackedSeq = 0;
  let ackChunk = 0;

  const journal = await openFileJournal({ dir: options.dir, logger: quietLogger });
  journal.onDurable((durableSeq) => {
    const nowMs = performance.now();
    while (ackedSeq < durableSeq) {
      const chunkEnd = Math.min(chunkLastSeq[ackChunk] ?? durableSeq, durableSeq);
      latencyMs.fill(nowMs - (chunkStartMs[ackChunk] ?? nowMs), ackedSeq, chunkEnd);
      ackedSeq = chunkEnd;
      if (chunkEnd === chunkLastSeq[ackChunk]) ackChunk++;
    }
  });

  const startMs = performance.now();
  let appended = 0;
  let chunk = 0;
  while (appended < records) {
    const nowMs = performance.now();
    const due = recordsPerSec === null ? records : Math.min(records, Math.floor(((nowMs - startMs) * recordsPerSec) / 1000));
    const count = Math.min(appendsPerYield, due - appended);
    if (count > 0) {
      chunkStartMs[chunk] = nowMs;
      for (let i = 0; i < count; i++) journal.append(pool[(appended + i) % recordPoolSize] ?? new Uint8Array(1));
      appended += count;
      chunkLastSeq[chunk] = appended;
      chunk++;
    }
    if (recordsPerSec !== null && appended >= due) await sleepBriefly();
    else await yieldToEventLoop();
  }
  await journal.waitDurable(records);
  const elapsedSec = (performance.now() - startMs) / 1000;
  const fsyncs = journal.stats.fsyncs;
  await journal.close();
  latencyMs.sort();
  return {
    durablePerSec: Math.round(records / elapsedSec),
    fsyncs,
    p50Ms: round3(percentile(latencyMs, 0.5)),
    p99Ms: round3(percentile(latencyMs, 0.99)),
    p999Ms: round3(percentile(latencyMs, 0.999)),
  };
}

async function measureReplay(dir: string, records: number): Promise<number> {
  const journal = await openFileJournal({ dir, logger: quietLogger });
  let replayed = 0;
  const startMs = performance.now();
  await journal.replay(1, () => {
    replayed++;
  });
  const elapsedSec = (performance.now() - startMs) / 1000;
  await journal.close();
  if (replayed !== records) throw new Error(`replayed ${String(replayed)} records, expected ${String(records)}`);
  return Math.round(replayed / elapsedSec);
}

export async function measureJournal(options: JournalBenchOptions = {}): Promise<JournalBenchResult> {
  const records = options.records ?? 1_000_000;
  const recordBytes = options.recordBytes ?? 100;
  const appendsPerYield = options.appendsPerYield ?? 2000;
  const ackRecordsPerSec = options.ackRecordsPerSec ?? 500_000;
  const root = await mkdtemp(join(options.dir ?? tmpdir(), "tradestream-journal-bench-"));
  try {
    const pool = makeRecordPool(recordBytes);
    const throughputDir = join(root, "throughput");
    const saturated = await runProducer({ dir: throughputDir, records, pool, appendsPerYield, recordsPerSec: null });
    const replayRecordsPerSec = await measureReplay(throughputDir, records);
    const paced = await runProducer({ dir: join(root, "latency"), records, pool, appendsPerYield, recordsPerSec: ackRecordsPerSec });
    return {
      durableCommandsPerSec: saturated.durablePerSec,
      ackP50Ms: paced.p50Ms,
      ackP99Ms: paced.p99Ms,
      ackP999Ms: paced.p999Ms,
      replayRecordsPerSec,
      fsyncs: saturated.fsyncs,
      ackOfferedRecordsPerSec: ackRecordsPerSec,
      ackDurableCommandsPerSec: paced.durablePerSec,
      ackFsyncs: paced.fsyncs,
      saturatedAckP50Ms: saturated.p50Ms,
      saturatedAckP99Ms: saturated.p99Ms,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await measureJournal();
  console.log(JSON.stringify(result, null, 2));
}
