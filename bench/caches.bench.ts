// Bounded-cache benchmark: `npm run bench:caches`.
//
// The gateway keeps several caches that are full in steady use and evict their
// oldest entry on every insert: the place-order idempotency answers, the verified
// access tokens, the rate limiter's buckets, the session and user status cache.
// This measures what one insert costs in a full cache of N entries:
// - `map`: a plain Map evicting `map.keys().next()`, the way these caches worked
//   before (V8 walks every slot deleted from the front until the table is rebuilt);
// - `fifoMap`: the kernel's FifoMap (`shift()` in constant time);
// - `idempotency`: the gateway's IdempotencyCache at N entries, one settled
//   ≈ 300-byte answer per insert, promise settlement included.
// Each figure is the median of --runs runs of --inserts inserts, in ns per insert.
//
// Prints one JSON object on stdout and appends it to bench/results/caches.jsonl
// (unless --no-write).

import { FifoMap } from "../packages/kernel/src/index.ts";
import { IdempotencyCache } from "../packages/gateway/src/idempotency.ts";
import { parseBenchArgs } from "./cli.ts";
import { gitCommit, machine, recordResult } from "./record.ts";
import { median } from "./stats.ts";

const flags = parseBenchArgs({
  script: "bench/caches.bench.ts",
  npmScript: "bench:caches",
  summary: `Bounded-cache benchmark: the cost of one insert into a full cache that evicts its oldest
entry, for a plain Map (oldest found by iteration), the kernel's FifoMap and the gateway's
idempotency cache, at 1,000, 10,000 and 100,000 entries (docs/BENCHMARKS.md).
Prints one JSON object on stdout and appends it to bench/results/caches.jsonl.`,
  options: {
    inserts: { type: "string", value: "N", default: "100000", description: "inserts per timed run" },
    runs: { type: "string", value: "N", default: "3", description: "timed runs per case after one untimed run; the median is reported" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/caches.jsonl" },
  },
});

const inserts = Number(flags.inserts);
const runs = Number(flags.runs);
if (!Number.isSafeInteger(inserts) || inserts < 1 || !Number.isSafeInteger(runs) || runs < 1) throw new Error("--inserts and --runs must be positive integers");
const sizes = [1_000, 10_000, 100_000] as const;

/** Median ns per insert of `run` (which inserts `inserts` keys), over `runs` timed runs after one untimed. */
async function timed(run: () => void | Promise<void>): Promise<number> {
  await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - start) / inserts);
  }
  return Math.round(median(samples));
}

async function mapCase(size: number): Promise<number> {
  const map = new Map<string, number>();
  let next = 0;
  for (; next < size; next += 1) map.set(`k${String(next)}`, next);
  return timed(() => {
    for (let i = 0; i < inserts; i += 1) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
      map.set(`k${String(next)}`, next);
      next += 1;
    }
  });
}

async function fifoCase(size: number): Promise<number> {
  const map = new FifoMap<string, number>();
  let next = 0;
  for (; next < size; next += 1) map.set(`k${String(next)}`, next);
  return timed(() => {
    for (let i = 0; i < inserts; i += 1) {
      map.shift();
      map.set(`k${String(next)}`, next);
      next += 1;
    }
  });
}

const answer = {
  order: { orderId: "123456", clientOrderId: "c-1234567", symbol: "SAP", side: "buy", type: "limit", price: "100.25", qty: "10", filledQty: "10", status: "filled", createdAt: "2026-11-22T18:58:35.602Z" },
  fills: [{ tradeId: "1", price: "100.25", qty: "5", fee: "0.01" }, { tradeId: "2", price: "100.25", qty: "5", fee: "0.01" }],
};

async function idempotencyCase(size: number): Promise<number> {
  const cache = new IdempotencyCache(size, Number.MAX_SAFE_INTEGER);
  let next = 0;
  const fill = async (count: number): Promise<void> => {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i += 1) {
      pending.push(cache.run(IdempotencyCache.key(1, `c${String(next)}`), () => Promise.resolve({ status: 201, body: answer })).outcome);
      next += 1;
    }
    await Promise.all(pending);
  };
  await fill(size);
  return timed(() => fill(inserts));
}

const result: Record<string, unknown> = { bench: "caches", time: new Date().toISOString(), commit: gitCommit(), node: process.version, machine: machine(), inserts, runs };
for (const size of sizes) {
  const figures = { mapNsPerInsert: await mapCase(size), fifoMapNsPerInsert: await fifoCase(size), idempotencyNsPerInsert: await idempotencyCase(size) };
  process.stderr.write(`${String(size).padStart(7)} entries: Map ${String(figures.mapNsPerInsert)} ns, FifoMap ${String(figures.fifoMapNsPerInsert)} ns, idempotency cache ${String(figures.idempotencyNsPerInsert)} ns per insert\n`);
  result[`entries${String(size)}`] = figures;
}
recordResult("caches", result, !flags["no-write"]);
