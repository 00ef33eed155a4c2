// Statements (JSON rows and CSV), the trial balance as of a time, and reconciliation reports.
import type { Command } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Ledger, openLedger } from "./ledger.ts";
import { statementRowsMax } from "./limits.ts";
import type { LedgerLogger } from "./logger.ts";
import { LedgerProjector } from "./projector.ts";
import { reconcile } from "./reconcile.ts";
import { isoMicros, statement, statementCsv, trialBalance } from "./reports.ts";
import { engineCash, enginePositions } from "./test-stream.ts";

const backends = await testBackends();
const quiet: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const t0 = 1_767_225_600_000_000;

/** Account 1 buys 3 lots from account 2 at 100.00 (fees 10/20 bps) between a deposit and a withdrawal. */
function history(): { engine: Engine; commands: Command[] } {
  const commands: Command[] = [
    { ...fixtures.instrument({ makerFeeBps: 10, takerFeeBps: 20 }), tsUs: t0 },
    { ...fixtures.account(1), tsUs: t0 },
    { ...fixtures.account(2), tsUs: t0 },
    { type: "DepositCash", tsUs: t0 + 1_000, accountId: 1, currency: "EUR", amountMinor: 100_000 },
    { type: "DepositSecurities", tsUs: t0 + 1_000, accountId: 2, instrumentId: 1, qtyLots: 10 },
    fixtures.limit(2, "sell", 10_000, 3, { tsUs: t0 + 2_000 }),
    fixtures.limit(1, "buy", 10_000, 3, { tsUs: t0 + 3_000_001 }),
    { type: "WithdrawCash", tsUs: t0 + 5_000_000, accountId: 1, currency: "EUR", amountMinor: 1_000 },
  ];
  return { engine: new Engine(), commands };
}

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`reports on ${backend.name}`, () => {
    let sql: Sql;
    let ledger: Ledger;
    let engine: Engine;
    beforeEach(async () => {
      sql = await backend.open();
      ledger = await openLedger(sql, { logger: quiet });
      const projector = await LedgerProjector.open(ledger);
      const h = history();
      engine = h.engine;
      for (const command of h.commands) await projector.apply(engine.apply(command));
    });
    afterEach(async () => {
      await sql.close();
    });

    it("lists a client's postings with opening, running and closing balances, as rows and as CSV", async () => {
      const outcome = await statement(ledger, { accountId: 1, fromUs: t0 + 2_000, toUs: t0 + 10_000_000 });
      expect(outcome.status).toBe("ok");
      if (outcome.status !== "ok") return;
      const s = outcome.statement;
      expect(s.opening).toEqual([{ asset: "EUR", unit: "minor", balance: 100_000n }]);
      expect(s.lines.map((line) => [line.description, line.kind, line.ref, line.asset, line.amount, line.balanceAfter])).toEqual([
        ["trade", "trade", "trade:1", "EUR", -30_000n, 70_000n],
        ["trade", "trade", "trade:1", "instrument:1", 3n, 3n],
        ["fee", "trade", "trade:1", "EUR", -60n, 69_940n],
        ["withdrawal", "cash_withdrawal", expect.stringMatching(/^event:\d+$/) as unknown, "EUR", -1_000n, 68_940n],
      ]);
      expect(s.closing).toEqual([
        { asset: "EUR", unit: "minor", balance: 68_940n },
        { asset: "instrument:1", unit: "lots", balance: 3n },
      ]);
      expect((await ledger.clientCash({ accountId: 1 }))[0]?.balanceMinor).toBe(68_940n);
      const csv = statementCsv(s).split("\r\n");
      expect(csv[0]).toBe("entry_id,time_utc,description,kind,reference,asset,unit,amount,balance_after");
      expect(csv[1]).toMatch(/^\d+,2026-01-01T00:00:03\.000001Z,trade,trade,trade:1,EUR,minor,-30000,70000$/);
      expect(csv[3]).toMatch(/,fee,trade,trade:1,EUR,minor,-60,69940$/);
      expect(csv).toHaveLength(6);
      expect(csv[5]).toBe("");

      // The period is [from, to): the trade at t0 + 3 s is outside a period ending there.
      const before = await statement(ledger, { accountId: 1, fromUs: t0, toUs: t0 + 3_000_001 });
      expect(before.status === "ok" ? before.statement.lines.map((line) => line.description) : []).toEqual(["deposit"]);
      expect(await statement(ledger, { accountId: 1, fromUs: t0 + 5, toUs: t0 + 5 })).toEqual({ status: "invalid_period" });
      expect(await statement(ledger, { accountId: 0, fromUs: 0, toUs: 1 })).toEqual({ status: "invalid_period" });
      expect(statementRowsMax).toBeGreaterThan(0);
    });

    it("escapes CSV fields and neutralises spreadsheet formulas", () => {
      const csv = statementCsv({
        accountId: 1,
        fromUs: 0,
        toUs: 1,
        opening: [],
        closing: [],
        lines: [{ entryId: "9", tsUs: 1, kind: "adjustment", description: "correction", ref: '=HYPERLINK("x"),1', asset: "EUR", unit: "minor", amount: -5n, balanceAfter: -5n }],
      });
      expect(csv.split("\r\n")[1]).toBe(`9,${isoMicros(1)},correction,adjustment,"'=HYPERLINK(""x""),1",EUR,minor,-5,-5`);
      expect(isoMicros(1)).toBe("1970-01-01T00:00:00.000001Z");
    });

    it("gives the trial balance per currency and instrument, now and as of a past time", async () => {
      const now = await trialBalance(ledger);
      expect(now.balanced).toBe(true);
      // EUR: clearing holds the 99,000 deposited net of withdrawals (debit); client cash 68,940 + 29,970 and fees 90 (credit).
      expect(now.currencies).toEqual([{ currency: "EUR", debitMinor: 99_000n, creditMinor: 99_000n, balanced: true }]);
      expect(now.securities).toEqual([{ instrumentId: 1, debitLots: 10n, creditLots: 10n, balanced: true }]);
      const early = await trialBalance(ledger, { asOfUs: t0 + 1_000 });
      expect(early.currencies).toEqual([{ currency: "EUR", debitMinor: 100_000n, creditMinor: 100_000n, balanced: true }]);
      expect((await trialBalance(ledger, { asOfUs: t0 })).currencies).toEqual([]);
    });

    it("reconciles against the engine: differences reported with the accounts involved, returned and logged", async () => {
      const logs: string[] = [];
      const logger: LedgerLogger = { info: (msg) => logs.push(msg), warn: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields)}`), error: (msg) => logs.push(msg) };
      const matched = await reconcile(ledger, { cash: engineCash(engine), positions: enginePositions(engine), atSeq: engine.eventSeq }, { logger });
      expect(matched).toMatchObject({ status: "matched", differences: [], checked: 4, ledgerOffset: engine.eventSeq });
      const cash = engineCash(engine).map((row) => (row.accountId === 2 ? { ...row, balanceMinor: row.balanceMinor + 7 } : row));
      const report = await reconcile(ledger, { cash: [...cash, { accountId: 3, currency: "USD", balanceMinor: 5 }], positions: [], atSeq: engine.eventSeq }, { logger });
      expect(report.status).toBe("differences");
      expect(report.differences).toEqual([
        { accountId: 2, asset: "EUR", engine: 29_977n, ledger: 29_970n, difference: -7n, ledgerAccount: "client:2:cash:EUR" },
        { accountId: 3, asset: "USD", engine: 5n, ledger: 0n, difference: -5n, ledgerAccount: "client:3:cash:USD" },
        { accountId: 1, asset: "instrument:1", engine: 0n, ledger: 3n, difference: 3n, ledgerAccount: "client:1:securities:1" },
        { accountId: 2, asset: "instrument:1", engine: 0n, ledger: 7n, difference: 7n, ledgerAccount: "client:2:securities:1" },
      ]);
      expect(logs.filter((line) => line.startsWith("ledger differs from engine"))).toHaveLength(4);
      expect(logs).toContain('ledger differs from engine {"accountId":2,"asset":"EUR","ledgerAccount":"client:2:cash:EUR","engine":"29977","ledger":"29970","difference":"-7"}');
      expect(logs).toContain("reconciliation found differences");
      expect(await reconcile(ledger, { cash: engineCash(engine), atSeq: engine.eventSeq + 1 }, { logger })).toMatchObject({ status: "offset_mismatch", ledgerOffset: engine.eventSeq });
    });
  });
}
