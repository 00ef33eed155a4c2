// Ledger benchmark: settlement projection throughput and lag.
//
// Pre-generates a stream of trades with the real engine (two instruments, maker and
// taker fees, so a trade settles as 6-7 postings: cash both ways, securities both
// ways, fees to fee income), then, on PostgreSQL and on PGlite:
// - tradesPerSec: the whole stream projected as fast as it goes (batched transactions
//   through `LedgerProjector.apply`), trades settled per second of wall time;
// - lagP99Ms: the stream offered at a steady rate through the `ProjectionRunner`
//   (events pushed every 10 ms, as the engine would hand them over), lag = time from
//   the push of an event to the commit of its batch, 99th percentile. PostgreSQL is
//   offered 5,000 trades/s; PGlite half its own measured throughput (see stderr).
//
// Prints a human summary on stderr, one JSON object on stdout
// {"postgres":{"tradesPerSec","lagP99Ms"},"pglite":{"tradesPerSec","lagP99Ms"},…}
// and appends it as one line to bench/results/ledger.jsonl.
//
// Flags: --rounds N (trading rounds, about one trade each; default 120,000),
// --rate N (PostgreSQL offered trades/s, default 5,000), --lag-s N (seconds of
// offered load, default 10), --only postgres|pglite, --no-write.
// PostgreSQL: TRADESTREAM_TEST_DATABASE_URL or the local default, in a scratch schema.

import { randomBytes } from "node:crypto";
import type { EngineEvent } from "@tradestream/contracts";
import { type Sql, openPglite, openPostgres, testDatabaseUrlDefault } from "@tradestream/store";
import { LedgerProjector, ProjectionRunner, openLedger, trialBalance } from "../packages/ledger/src/index.ts";
import { streamEventBatches } from "../packages/ledger/src/test-stream.ts";
import { parseBenchArgs } from "./cli.ts";
import { gitCommit, machine, recordResult } from "./record.ts";
import { percentile } from "./stats.ts";

const flags = parseBenchArgs({
  script: "bench/ledger.bench.ts",
  npmScript: "bench:ledger",
  summary: `Ledger benchmark: the settlement projection on PostgreSQL and on PGlite, fed a pre-generated
stream of engine trades: trades settled per second as fast as it goes, then the p99 lag from an
event's push to its batch's commit at a steady offered rate (docs/BENCHMARKS.md). PostgreSQL:
TRADESTREAM_TEST_DATABASE_URL or the local default, in a scratch schema.
Prints a summary on stderr, one JSON object on stdout, and appends it to bench/results/ledger.jsonl.`,
  options: {
    rounds: { type: "string", value: "N", default: "120000", description: "trading rounds to generate, about one trade each" },
    rate: { type: "string", value: "N", default: "5000", description: "trades/s offered to PostgreSQL in the lag phase; PGlite is offered half its measured throughput" },
    "lag-s": { type: "string", value: "N", default: "10", description: "seconds of offered load in the lag phase" },
    only: { type: "string", value: "postgres|pglite", defaultText: "both", description: "measure one store only" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/ledger.jsonl" },
  },
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const accounts = 400;
const seed = 4_2024;
const pushIntervalMs = 10;

interface Stream {
  /** Engine set-up (instruments, accounts, deposits): projected untimed. */
  readonly setup: EngineEvent[];
  /** The events of each trading command, in order. */
  readonly commands: EngineEvent[][];
  readonly trades: number;
}

function generate(rounds: number): Stream {
  const setup: EngineEvent[] = [];
  const commands: EngineEvent[][] = [];
  let trades = 0;
  let setupDone = false;
  for (const events of streamEventBatches({ seed, rounds, accounts })) {
    const traded = events.filter((event) => event.type === "TradeExecuted").length;
    const isOrder = events.some((event) => event.type === "OrderAccepted" || event.type === "CommandRejected");
    if (!setupDone && !isOrder) {
      setup.push(...events);
      continue;
    }
    setupDone = true;
    trades += traded;
    commands.push(events);
  }
  return { setup, commands, trades };
}

interface Result {
  readonly tradesPerSec: number;
  readonly lagP99Ms: number;
}

async function fresh(kind: "postgres" | "pglite"): Promise<{ sql: Sql; drop: () => Promise<void> }> {
  if (kind === "pglite") {
    const sql = await openPglite(null);
    return { sql, drop: () => sql.close() };
  }
  const url = process.env["TRADESTREAM_TEST_DATABASE_URL"] ?? testDatabaseUrlDefault;
  const schema = `bench_ledger_${randomBytes(6).toString("hex")}`;
  const sql = await openPostgres(url, { schema, max: 4 });
  return {
    sql,
    drop: async () => {
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.close();
    },
  };
}

/** The whole stream as fast as it goes: trades settled per second. */
async function throughput(kind: "postgres" | "pglite", stream: Stream): Promise<number> {
  const { sql, drop } = await fresh(kind);
  try {
    const ledger = await openLedger(sql, { logger: silent });
    const projector = await LedgerProjector.open(ledger);
    await projector.apply(stream.setup);
    const events = stream.commands.flat();
    const started = performance.now();
    await projector.apply(events);
    const seconds = (performance.now() - started) / 1_000;
    const trial = await trialBalance(ledger);
    if (!trial.balanced) throw new Error(`${kind}: the trial balance does not balance`);
    const [row] = await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM ledger_entries WHERE kind = 'trade'");
    if (row?.n !== stream.trades) throw new Error(`${kind}: ${String(row?.n)} trade entries, expected ${stream.trades}`);
    return Math.round(stream.trades / seconds);
  } finally {
    await drop();
  }
}

/** The stream offered at `tradesPerSec` through the runner: p99 of push-to-commit. */
async function lag(kind: "postgres" | "pglite", stream: Stream, tradesPerSec: number, seconds: number): Promise<{ p99Ms: number; p50Ms: number; maxMs: number; offered: number }> {
  const { sql, drop } = await fresh(kind);
  try {
    const ledger = await openLedger(sql, { logger: silent });
    const projector = await LedgerProjector.open(ledger);
    await projector.apply(stream.setup);
    const pushed: { seq: number; atMs: number }[] = [];
    const lags: number[] = [];
    let next = 0;
    const runner = new ProjectionRunner(projector, {
      logger: silent,
      onCommitted: (offset) => {
        const now = performance.now();
        while (next < pushed.length && (pushed[next]?.seq ?? Infinity) <= offset) {
          lags.push(now - (pushed[next]?.atMs ?? now));
          next += 1;
        }
      },
    });
    const tradesPerPush = (tradesPerSec * pushIntervalMs) / 1_000;
    const total = Math.min(stream.trades, Math.round(tradesPerSec * seconds));
    let command = 0;
    let offered = 0;
    const started = performance.now();
    for (let tick = 1; offered < total && command < stream.commands.length; tick += 1) {
      // Push what is due by now (catching up after a late timer, so the rate holds).
      const due = Math.min(total, Math.round(tick * tradesPerPush));
      const chunk: EngineEvent[] = [];
      while (offered < due && command < stream.commands.length) {
        const events = stream.commands[command] ?? [];
        command += 1;
        for (const event of events) {
          chunk.push(event);
          if (event.type === "TradeExecuted") offered += 1;
        }
      }
      const last = chunk.at(-1);
      if (last !== undefined) {
        runner.push(chunk);
        pushed.push({ seq: last.seq, atMs: performance.now() });
      }
      const wait = started + tick * pushIntervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await runner.drained();
    await runner.close();
    const sorted = lags.sort((a, b) => a - b);
    return { p99Ms: round(percentile(sorted, 0.99)), p50Ms: round(percentile(sorted, 0.5)), maxMs: round(sorted.at(-1) ?? 0), offered };
  } finally {
    await drop();
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}


async function main(): Promise<void> {
  const rounds = Number(flags.rounds);
  const rate = Number(flags.rate);
  const lagSeconds = Number(flags["lag-s"]);
  const generateStarted = performance.now();
  const stream = generate(rounds);
  const postings = stream.trades * 7;
  process.stderr.write(`stream: ${stream.trades} trades in ${stream.commands.length} commands, ${stream.commands.reduce((n, c) => n + c.length, 0)} events (${Math.round(performance.now() - generateStarted)} ms to generate)\n`);
  const kinds = (["postgres", "pglite"] as const).filter((kind) => flags.only === undefined || flags.only === kind);
  const results: Partial<Record<"postgres" | "pglite", Result>> = {};
  const offeredRates: Partial<Record<"postgres" | "pglite", number>> = {};
  for (const kind of kinds) {
    const tradesPerSec = await throughput(kind, stream);
    process.stderr.write(`${kind}: ${tradesPerSec} trades/s settled (up to ${postings} postings)\n`);
    const offeredRate = kind === "postgres" ? rate : Math.max(100, Math.round(tradesPerSec / 2 / 100) * 100);
    const measured = await lag(kind, stream, offeredRate, lagSeconds);
    process.stderr.write(`${kind}: lag at ${offeredRate} trades/s offered (${measured.offered} trades): p50 ${measured.p50Ms} ms, p99 ${measured.p99Ms} ms, max ${measured.maxMs} ms\n`);
    results[kind] = { tradesPerSec, lagP99Ms: measured.p99Ms };
    offeredRates[kind] = offeredRate;
  }
  const output = {
    ...results,
    timestamp: new Date().toISOString(),
    commit: gitCommit(),
    machine: machine(),
    config: { trades: stream.trades, accounts, seed, lagOfferedTradesPerSec: offeredRates, lagSeconds },
  };
  recordResult("ledger", output, !flags["no-write"]);
}

await main();
