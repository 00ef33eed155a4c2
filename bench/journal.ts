// Journal benchmark: durable append throughput, append-to-durable latency and replay
// throughput of the file journal on the local disk. A producer appends pre-generated
// records in a tight loop and yields to the event loop every `appendsPerYield`
// appends, so group commits happen the way they do under a busy gateway. Latency is
// sampled per producer chunk: every record of a chunk is charged from the moment the
// chunk started, which overstates it by at most one chunk's duration.
// Run directly (`npx tsx bench/journal.ts`) it prints the result as JSON.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openFileJournal, type JournalLogger } from "../packages/journal/src/index.ts";

export interface JournalBenchOptions {
  records?: number;
  recordBytes?: number;
  /** Parent directory for the temporary journal (default: the OS temp directory). */
  dir?: string;
  appendsPerYield?: number;
}

export interface JournalBenchResult {
  durableCommandsPerSec: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackP999Ms: number;
  replayRecordsPerSec: number;
  fsyncs: number;
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

export async function measureJournal(options: JournalBenchOptions = {}): Promise<JournalBenchResult> {
  const records = options.records ?? 1_000_000;
  const recordBytes = options.recordBytes ?? 100;
  const appendsPerYield = options.appendsPerYield ?? 1000;
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), "tradestream-journal-bench-"));
  try {
    const pool = makeRecordPool(recordBytes);
    const chunkCount = Math.ceil(records / appendsPerYield);
    const chunkStartMs = new Float64Array(chunkCount);
    const chunkLastSeq = new Float64Array(chunkCount);
    const latencyMs = new Float64Array(records);
    let ackedSeq = 0;
    let ackChunk = 0;

    const journal = await openFileJournal({ dir, logger: quietLogger });
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
    for (let chunk = 0; appended < records; chunk++) {
      const count = Math.min(appendsPerYield, records - appended);
      chunkStartMs[chunk] = performance.now();
      for (let i = 0; i < count; i++) journal.append(pool[(appended + i) % recordPoolSize] ?? new Uint8Array(1));
      appended += count;
      chunkLastSeq[chunk] = appended;
      await yieldToEventLoop();
    }
    await journal.waitDurable(records);
    const elapsedSec = (performance.now() - startMs) / 1000;
    const fsyncs = journal.stats.fsyncs;
    await journal.close();

    latencyMs.sort();
    const reopened = await openFileJournal({ dir, logger: quietLogger });
    let replayed = 0;
    const replayStartMs = performance.now();
    await reopened.replay(1, () => {
      replayed++;
    });
    const replaySec = (performance.now() - replayStartMs) / 1000;
    await reopened.close();
    if (replayed !== records) throw new Error(`replayed ${String(replayed)} records, expected ${String(records)}`);

    return {
      durableCommandsPerSec: Math.round(records / elapsedSec),
      ackP50Ms: round3(percentile(latencyMs, 0.5)),
      ackP99Ms: round3(percentile(latencyMs, 0.99)),
      ackP999Ms: round3(percentile(latencyMs, 0.999)),
      replayRecordsPerSec: Math.round(replayed / replaySec),
      fsyncs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await measureJournal();
  console.log(JSON.stringify(result, null, 2));
}
