// The settlement projection, driven by the real engine, on PGlite and PostgreSQL.
import type { Command, EngineEvent } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Ledger, openLedger } from "./ledger.ts";
import type { LedgerLogger } from "./logger.ts";
import { LedgerDivergenceError, LedgerGapError, LedgerOffsetConflictError, LedgerProjector } from "./projector.ts";
import { reconcile } from "./reconcile.ts";
import { trialBalance } from "./reports.ts";
import { dumpJournal, engineCash, enginePositions, streamEvents } from "./test-stream.ts";

const backends = await testBackends();
const quiet: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Two accounts, fees of 10 and 20 bps, one trade of 4 lots at 100.00 with account 2 as the selling taker. */
function oneTrade(): { engine: Engine; events: EngineEvent[] } {
  const engine = new Engine();
  const commands: Command[] = [
    fixtures.instrument({ makerFeeBps: 10, takerFeeBps: 20 }),
    fixtures.account(1),
    fixtures.account(2),
    { type: "DepositCash", tsUs: 10, accountId: 1, currency: "EUR", amountMinor: 10_000_000 },
    { type: "DepositCash", tsUs: 11, accountId: 2, currency: "EUR", amountMinor: 10_000_000 },
    { type: "DepositSecurities", tsUs: 12, accountId: 2, instrumentId: 1, qtyLots: 100 },
    fixtures.limit(1, "buy", 10_000, 10, { tsUs: 20 }),
    fixtures.limit(2, "sell", 10_000, 4, { tsUs: 30 }),
    { type: "WithdrawCash", tsUs: 40, accountId: 2, currency: "EUR", amountMinor: 1_000 },
    { type: "WithdrawSecurities", tsUs: 50, accountId: 2, instrumentId: 1, qtyLots: 6 },
  ];
  const events = commands.flatMap((command) => engine.apply(command));
  return { engine, events };
}

async function expectMatchesEngine(ledger: Ledger, engine: Engine): Promise<void> {
  const report = await reconcile(ledger, { cash: engineCash(engine), positions: enginePositions(engine), atSeq: engine.eventSeq }, { logger: quiet });
  expect(report.differences).toEqual([]);
  expect(report.status).toBe("matched");
  expect((await trialBalance(ledger)).balanced).toBe(true);
  for (const [currency, fees] of engine.feesCollected) expect(await ledger.balance({ kind: "fee_income", currency })).toBe(-BigInt(fees));
  // The money the platform holds for clients and as fee income: in the bank, or in transit through payments clearing.
  for (const [currency, outstanding] of engine.cashOutstanding) {
    expect((await ledger.balance({ kind: "bank", currency })) + (await ledger.balance({ kind: "clearing", currency }))).toBe(BigInt(outstanding));
  }
  for (const [instrumentId, outstanding] of engine.lotsOutstanding) expect(await ledger.balance({ kind: "custody", instrumentId })).toBe(BigInt(outstanding));
}

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`settlement projection on ${backend.name}`, () => {
    let sql: Sql;
    let ledger: Ledger;
    beforeEach(async () => {
      sql = await backend.open();
      ledger = await openLedger(sql, { logger: quiet });
    });
    afterEach(async () => {
      await sql.close();
    });

    it("posts a trade as cash and securities both ways and both fees to fee income; an operator's deposits and withdrawals against the bank and custody", async () => {
      const { engine, events } = oneTrade();
      const projector = await LedgerProjector.open(ledger);
      const result = await projector.apply(events);
      expect(result).toMatchObject({ applied: events.length, skipped: 0, entries: 6, transactions: 1, offset: engine.eventSeq });
      const trade = events.find((event) => event.type === "TradeExecuted");
      expect(trade).toMatchObject({ notionalMinor: 40_000, makerFeeMinor: 40, takerFeeMinor: 80, takerSide: "sell" });
      const seqOf = (type: string, reason: string, accountId: number) =>
        events.find((e) => e.type === type && "reason" in e && e.reason === reason && "accountId" in e && e.accountId === accountId)?.seq;
      expect(await dumpJournal(sql)).toEqual([
        `cash_deposit event:${seqOf("BalanceChanged", "deposit", 1)} 10 | bank:EUR 10000000; client:1:cash:EUR -10000000`,
        `cash_deposit event:${seqOf("BalanceChanged", "deposit", 2)} 11 | bank:EUR 10000000; client:2:cash:EUR -10000000`,
        `securities_deposit event:${seqOf("PositionChanged", "deposit", 2)} 12 | custody:1 100; client:2:securities:1 -100`,
        "trade trade:1 30 | client:1:cash:EUR 40000; client:2:cash:EUR -40000; client:2:securities:1 4; client:1:securities:1 -4; client:1:cash:EUR 40; client:2:cash:EUR 80; fee_income:EUR -120",
        `cash_withdrawal event:${seqOf("BalanceChanged", "withdrawal", 2)} 40 | bank:EUR -1000; client:2:cash:EUR 1000`,
        `securities_withdrawal event:${seqOf("PositionChanged", "withdrawal", 2)} 50 | custody:1 -6; client:2:securities:1 6`,
      ]);
      expect(await ledger.clientCash({ accountId: 2 })).toEqual([{ accountId: 2, currency: "EUR", balanceMinor: 10_000_000n + 40_000n - 80n - 1_000n }]);
      expect(await ledger.clientPositions({ accountId: 1 })).toEqual([{ accountId: 1, instrumentId: 1, positionLots: 4n }]);
      await expectMatchesEngine(ledger, engine);
    });

    it("matches the engine, fee income and the bank after a long seeded stream with deposits and withdrawals", async () => {
      const { engine, events } = streamEvents({ seed: 7, rounds: 3_000, payments: true });
      const projector = await LedgerProjector.open(ledger, { batchEntriesMax: 1_000 });
      const result = await projector.apply(events);
      expect(result.transactions).toBeGreaterThan(1);
      expect(result.offset).toBe(engine.eventSeq);
      const [{ trades } = { trades: 0 }] = await sql.query<{ trades: number }>("SELECT count(*)::int AS trades FROM ledger_entries WHERE kind = 'trade'");
      expect(trades).toBe(events.filter((event) => event.type === "TradeExecuted").length);
      const [shape] = await sql.query<{ least: number; most: number }>(
        "SELECT min(posting_count)::int AS least, max(posting_count)::int AS most FROM ledger_entries WHERE kind = 'trade'",
      );
      expect(shape).toEqual({ least: 6, most: 7 });
      await expectMatchesEngine(ledger, engine);
    });

    it("skips redelivered events, refuses a gap, and commits nothing of a failing batch", async () => {
      const { engine, events } = streamEvents({ seed: 3, rounds: 300, payments: true });
      const projector = await LedgerProjector.open(ledger);
      const half = Math.floor(events.length / 2);
      await projector.apply(events.slice(0, half));
      const before = await dumpJournal(sql);
      // Redelivery of everything so far, and an overlapping window: nothing is posted twice.
      expect(await projector.apply(events.slice(0, half))).toMatchObject({ applied: 0, skipped: half, entries: 0, transactions: 0, offset: half });
      expect(await dumpJournal(sql)).toEqual(before);
      // A gap: the event after the offset is missing.
      await expect(projector.apply(events.slice(half + 1))).rejects.toBeInstanceOf(LedgerGapError);
      // Out of order inside a batch: the valid prefix is refused with it (one transaction).
      const shuffled = [...events.slice(half, half + 10), ...events.slice(half + 11, half + 20)];
      await expect(projector.apply(shuffled)).rejects.toThrow(/expected event/);
      expect(projector.offset).toBe(half);
      expect(await dumpJournal(sql)).toEqual(before);
      expect(await projector.apply(events.slice(half - 5))).toMatchObject({ skipped: 5, applied: events.length - half });
      await expectMatchesEngine(ledger, engine);
    });

    it("writes the same books whatever the batch sizes, and resumes from its stored offset after a restart", async () => {
      const { engine, events } = streamEvents({ seed: 11, rounds: 400, payments: true });
      const clean = await backend.open();
      try {
        const cleanLedger = await openLedger(clean, { logger: quiet });
        await (await LedgerProjector.open(cleanLedger)).apply(events);
        const tiny = await LedgerProjector.open(ledger, { batchEntriesMax: 3, batchEventsMax: 17 });
        const third = Math.floor(events.length / 3);
        await tiny.apply(events.slice(0, third));
        // A new process: a fresh ledger handle and projector, which know only what the database holds.
        const restarted = await LedgerProjector.open(await openLedger(sql, { logger: quiet }), { consumer: "engine" });
        expect(restarted.offset).toBe(third);
        await restarted.apply(events);
        expect(await dumpJournal(sql)).toEqual(await dumpJournal(clean));
        await expectMatchesEngine(ledger, engine);
      } finally {
        await clean.close();
      }
    });

    it("keeps consumers apart and refuses a second projector advancing the same offset", async () => {
      const { events } = streamEvents({ seed: 5, rounds: 50 });
      const first = await LedgerProjector.open(ledger);
      const second = await LedgerProjector.open(ledger);
      await first.apply(events.slice(0, 100));
      await expect(second.apply(events.slice(0, 200))).rejects.toBeInstanceOf(LedgerOffsetConflictError);
      expect(first.offset).toBe(100);
      const other = await LedgerProjector.open(ledger, { consumer: "shard-2" });
      expect(other.offset).toBe(0);
      await expect(LedgerProjector.open(ledger, { consumer: "Bad Name" })).rejects.toThrow(/consumer/);
    });

    it("stops when the engine reports a balance the books do not hold", async () => {
      const { events } = oneTrade();
      const projector = await LedgerProjector.open(ledger);
      const tradeIndex = events.findIndex((event) => event.type === "TradeExecuted");
      await projector.apply(events.slice(0, tradeIndex));
      const tampered = events.slice(tradeIndex).map((event) => (event.type === "BalanceChanged" && event.reason === "trade" && event.accountId === 1 ? { ...event, balanceMinor: event.balanceMinor + 1 } : event));
      await expect(projector.apply(tampered)).rejects.toBeInstanceOf(LedgerDivergenceError);
      expect(projector.offset).toBe(tradeIndex);
      await expect(projector.apply(events.slice(tradeIndex))).resolves.toMatchObject({ offset: events.length });
    });
  });
}
