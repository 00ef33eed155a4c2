// The runner between the engine and the projection: bounded buffering, back-off while
// the database is unreachable, catching up from the event log. The database outage is
// simulated by a store whose statements fail while `down` is set (see outage.int.test.ts
// for the same against a real PostgreSQL connection).
import type { EngineEvent } from "@tradestream/contracts";
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Ledger, openLedger } from "./ledger.ts";
import type { LedgerLogger } from "./logger.ts";
import { LedgerProjector } from "./projector.ts";
import { reconcile } from "./reconcile.ts";
import { ProjectionRunner } from "./runner.ts";
import { engineCash, enginePositions, streamEventBatches, streamEvents } from "./test-stream.ts";

const [pglite] = await testBackends();
const quiet: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

class Outage extends Error {
  readonly code = "ECONNREFUSED";
}

/** A store that refuses every statement while `down` is true, like a lost connection. */
class FlakySql implements Sql {
  down = false;
  readonly kind: Sql["kind"];
  readonly #inner: Sql;

  constructor(inner: Sql) {
    this.#inner = inner;
    this.kind = inner.kind;
  }

  query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    if (this.down) return Promise.reject(new Outage("connection refused"));
    return this.#inner.query<R>(text, params);
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.down) return Promise.reject(new Outage("connection refused"));
    return this.#inner.transaction((tx) => fn(this.#wrap(tx)));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #wrap(tx: Sql): Sql {
    return {
      kind: tx.kind,
      query: <R extends Record<string, unknown>>(text: string, params?: readonly unknown[]) =>
        this.down ? Promise.reject(new Outage("connection lost")) : tx.query<R>(text, params),
      transaction: (fn) => tx.transaction(fn),
      close: () => tx.close(),
    };
  }
}

function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 2);
    };
    check();
  });
}

describe.skipIf(pglite === undefined)("projection runner", () => {
  let inner: Sql;
  let sql: FlakySql;
  let ledger: Ledger;
  let sleeps: number[];
  const sleep = (ms: number): Promise<void> => {
    sleeps.push(ms);
    return new Promise((resolve) => setTimeout(resolve, 1));
  };
  beforeEach(async () => {
    if (pglite === undefined) return;
    inner = await pglite.open();
    sql = new FlakySql(inner);
    ledger = await openLedger(sql, { logger: quiet });
    sleeps = [];
  });
  afterEach(async () => {
    await inner.close();
  });

  async function expectMatches(engine: { eventSeq: number } & Parameters<typeof engineCash>[0]): Promise<void> {
    const report = await reconcile(ledger, { cash: engineCash(engine), positions: enginePositions(engine), atSeq: engine.eventSeq }, { logger: quiet });
    expect(report.status).toBe("matched");
  }

  it("keeps accepting events while the database is down, backs off, and catches up when it returns", async () => {
    const { engine } = streamEvents({ seed: 21, rounds: 800, payments: true });
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { sleep, backoffMsInitial: 50, backoffMsMax: 400, logger: quiet });
    const batches = [...streamEventBatches({ seed: 21, rounds: 800, payments: true })];
    const third = Math.floor(batches.length / 3);
    for (const batch of batches.slice(0, third)) expect(runner.push(batch)).toBe("buffered");
    await runner.drained();
    sql.down = true;
    for (const batch of batches.slice(third)) expect(runner.push(batch)).toBe("buffered");
    await until(() => runner.state.failures >= 6, "six failed attempts");
    expect(runner.state.lastError).toMatch(/connection/);
    expect(runner.state.offset).toBeLessThan(engine.eventSeq);
    sql.down = false;
    await runner.drained();
    expect(sleeps.slice(0, 6)).toEqual([50, 100, 200, 400, 400, 400]);
    expect(runner.state).toMatchObject({ offset: engine.eventSeq, bufferedEvents: 0, failures: 0, lastError: null, stopped: null });
    await expectMatches(engine);
    await runner.close();
  });

  it("past its bound it stops buffering and reads what it missed from the event log", async () => {
    const { engine, events } = streamEvents({ seed: 22, rounds: 600, payments: true });
    const reads: number[] = [];
    const source = (fromSeq: number, maxEvents: number): Promise<readonly EngineEvent[]> => {
      reads.push(fromSeq);
      return Promise.resolve(events.slice(fromSeq - 1, fromSeq - 1 + maxEvents));
    };
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { sleep, bufferEventsMax: 500, batchEventsMax: 400, source, logger: quiet });
    sql.down = true;
    const pushed: string[] = [];
    for (let at = 0; at < events.length; at += 50) pushed.push(runner.push(events.slice(at, at + 50)));
    expect(pushed.slice(0, 10)).toEqual(Array(10).fill("buffered"));
    expect(pushed.slice(10).every((outcome) => outcome === "overflow")).toBe(true);
    expect(runner.state.bufferedEvents).toBe(500);
    expect(runner.state.overflowedUpTo).toBe(engine.eventSeq);
    sql.down = false;
    await runner.drained();
    expect(reads[0]).toBe(501);
    expect(runner.state).toMatchObject({ offset: engine.eventSeq, overflowedUpTo: null });
    // Back to normal buffering once caught up.
    expect(runner.push([])).toBe("buffered");
    await expectMatches(engine);
    await runner.close();
  });

  it("without an event log an overflow stops the runner, which restarts from its offset", async () => {
    const { engine, events } = streamEvents({ seed: 23, rounds: 200 });
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { sleep, bufferEventsMax: 100, logger: quiet });
    sql.down = true;
    expect(runner.push(events.slice(0, 100))).toBe("buffered");
    expect(runner.push(events.slice(100, 101))).toBe("overflow");
    const drained = runner.drained();
    sql.down = false;
    await expect(drained).rejects.toThrow(/overflowed/);
    expect(runner.state.stopped).toMatch(/restart/);
    expect(runner.state.offset).toBe(100);
    expect(runner.push(events.slice(101))).toBe("stopped");
    await runner.close();
    // Restart through normal start-up: a new projector at the stored offset, fed from the log.
    const restarted = new ProjectionRunner(await LedgerProjector.open(await openLedger(sql, { logger: quiet })), { sleep, logger: quiet });
    expect(restarted.push(events)).toBe("buffered");
    await restarted.drained();
    await expectMatches(engine);
    await restarted.close();
  });

  it("fetches events lost between the engine and the ledger from the event log", async () => {
    const { engine, events } = streamEvents({ seed: 24, rounds: 300, payments: true });
    const source = (fromSeq: number, maxEvents: number) => Promise.resolve(events.slice(fromSeq - 1, fromSeq - 1 + maxEvents));
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { sleep, source, logger: quiet });
    runner.push(events.slice(0, 400));
    runner.push(events.slice(700));
    await runner.drained();
    expect(runner.state.offset).toBe(engine.eventSeq);
    await expectMatches(engine);
    await runner.close();
  });

  it("stops, without retrying, when the books diverge from the engine", async () => {
    const { events } = streamEvents({ seed: 25, rounds: 100 });
    const errors: string[] = [];
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { sleep, logger: { ...quiet, error: (msg) => errors.push(msg) } });
    const index = events.findIndex((event) => event.type === "BalanceChanged" && event.reason === "trade");
    const tampered = events.map((event, i) => (i === index && event.type === "BalanceChanged" ? { ...event, balanceMinor: event.balanceMinor - 1 } : event));
    runner.push(tampered);
    await expect(runner.drained()).rejects.toThrow(/engine reports/);
    expect(sleeps).toEqual([]);
    expect(errors).toEqual(["ledger projection stopped"]);
    await runner.close();
  });

  it("with a batch interval, commits what arrives during the pause after a commit as one batch, no earlier", async () => {
    const { engine } = streamEvents({ seed: 23, rounds: 300, payments: true });
    const batches = [...streamEventBatches({ seed: 23, rounds: 300, payments: true })];
    const commits: number[] = [];
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), {
      sleep,
      batchIntervalMs: 400,
      logger: quiet,
      onCommitted: () => commits.push(performance.now()),
    });
    // Idle: the first events go out at once.
    expect(runner.push(batches[0] ?? [])).toBe("buffered");
    await until(() => commits.length === 1, "the first commit");
    // Everything else arrives within the pause: one more transaction, no earlier than the interval allows.
    for (const batch of batches.slice(1)) expect(runner.push(batch)).toBe("buffered");
    await runner.drained();
    expect(commits.length).toBe(2);
    expect((commits[1] ?? 0) - (commits[0] ?? 0)).toBeGreaterThanOrEqual(300);
    await expectMatches(engine);
    await runner.close();
  });

  it("does not hold a full batch or a close for the batch interval", async () => {
    const { events } = streamEvents({ seed: 24, rounds: 300, payments: true });
    const commits: number[] = [];
    const runner = new ProjectionRunner(await LedgerProjector.open(ledger), {
      sleep,
      batchIntervalMs: 60_000,
      batchEventsMax: 100,
      logger: quiet,
      onCommitted: () => commits.push(performance.now()),
    });
    const started = performance.now();
    expect(runner.push(events.slice(0, 10))).toBe("buffered");
    await until(() => commits.length === 1, "the first commit");
    // A full batch during the pause: committed without waiting the minute out.
    expect(runner.push(events.slice(10, 110))).toBe("buffered");
    await until(() => commits.length === 2, "the full batch's commit");
    expect(performance.now() - started).toBeLessThan(30_000);
    // Paused again (what is buffered is under a batch): close does not wait for the interval either.
    expect(runner.push(events.slice(110, 120))).toBe("buffered");
    await runner.close();
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
