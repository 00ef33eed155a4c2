// The database itself keeps the books balanced and append-only: raw SQL, on PGlite and PostgreSQL.
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Ledger, openLedger } from "./ledger.ts";
import { postingsPerEntryMax } from "./limits.ts";
import type { LedgerLogger } from "./logger.ts";

const backends = await testBackends();
const quiet: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function account(sql: Sql, code: string, kind: string, asset: string, client: number | null = null): Promise<string> {
  const [row] = await sql.query<{ account_id: string }>("INSERT INTO ledger_accounts (code, kind, asset, client_account_id) VALUES ($1, $2, $3, $4) RETURNING account_id", [
    code,
    kind,
    asset,
    client,
  ]);
  if (row === undefined) throw new Error("no account row");
  return row.account_id;
}

/** Writes one entry with raw SQL, one statement per posting, in the caller's transaction. */
async function rawEntry(tx: Sql, postings: readonly (readonly [string, number])[], declared = postings.length): Promise<string> {
  const [entry] = await tx.query<{ entry_id: string }>("INSERT INTO ledger_entries (kind, ref, ts_us, posting_count) VALUES ('adjustment', 'raw', 1, $1) RETURNING entry_id", [declared]);
  if (entry === undefined) throw new Error("no entry row");
  let no = 0;
  for (const [accountId, amount] of postings) {
    no += 1;
    await tx.query("INSERT INTO ledger_postings (entry_id, posting_no, account_id, amount, ts_us) VALUES ($1, $2, $3, $4, 1)", [entry.entry_id, no, accountId, amount]);
  }
  return entry.entry_id;
}

async function counts(sql: Sql): Promise<{ entries: number; postings: number }> {
  const [row] = await sql.query<{ entries: number; postings: number }>(
    "SELECT (SELECT count(*)::int FROM ledger_entries) AS entries, (SELECT count(*)::int FROM ledger_postings) AS postings",
  );
  return row ?? { entries: -1, postings: -1 };
}

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`ledger schema on ${backend.name}`, () => {
    let sql: Sql;
    let ledger: Ledger;
    let bank: string;
    let clearing: string;
    let fees: string;
    let usdBank: string;
    let usdClearing: string;
    beforeEach(async () => {
      sql = await backend.open();
      ledger = await openLedger(sql, { logger: quiet });
      bank = await account(sql, "bank:EUR", "bank", "EUR");
      clearing = await account(sql, "clearing:EUR", "clearing", "EUR");
      fees = await account(sql, "fee_income:EUR", "fee_income", "EUR");
      usdBank = await account(sql, "bank:USD", "bank", "USD");
      usdClearing = await account(sql, "clearing:USD", "clearing", "USD");
    });
    afterEach(async () => {
      await sql.close();
    });

    it("migrates idempotently", async () => {
      await openLedger(sql, { logger: quiet });
      expect(await sql.query("SELECT id FROM schema_migrations WHERE component = 'ledger' ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    });

    it("commits a balanced entry written over several statements", async () => {
      await sql.transaction(async (tx) => {
        await rawEntry(tx, [
          [bank, 100],
          [clearing, -60],
          [fees, -40],
        ]);
      });
      expect(await counts(sql)).toEqual({ entries: 1, postings: 3 });
      expect(await ledger.balance({ kind: "bank", currency: "EUR" })).toBe(100n);
    });

    it("refuses an unbalanced entry at COMMIT and keeps nothing of its transaction", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await rawEntry(tx, [
            [bank, 100],
            [clearing, -100],
          ]);
          await rawEntry(tx, [
            [bank, 100],
            [clearing, -99],
          ]);
        }),
      ).rejects.toThrow(/unbalanced in EUR/);
      expect(await counts(sql)).toEqual({ entries: 0, postings: 0 });
    });

    it("checks the balance per asset: EUR and USD do not offset each other", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await rawEntry(tx, [
            [bank, 5],
            [usdClearing, -5],
          ]);
        }),
      ).rejects.toThrow(/unbalanced in (EUR|USD)/);
      await sql.transaction(async (tx) => {
        await rawEntry(tx, [
          [bank, 5],
          [clearing, -5],
          [usdBank, 7],
          [usdClearing, -7],
        ]);
      });
      expect(await counts(sql)).toEqual({ entries: 1, postings: 4 });
    });

    it("refuses entries with fewer than two postings or another count than declared", async () => {
      await expect(sql.transaction((tx) => rawEntry(tx, [[bank, 0]]))).rejects.toThrow(/check constraint|violates/);
      await expect(sql.transaction((tx) => rawEntry(tx, [[bank, 10]], 2))).rejects.toThrow(/number of postings/);
      await expect(sql.transaction((tx) => tx.query("INSERT INTO ledger_entries (kind, ref, ts_us, posting_count) VALUES ('adjustment', 'empty', 1, 2)"))).rejects.toThrow(
        /number of postings/,
      );
      await expect(sql.transaction((tx) => rawEntry(tx, [[bank, 10]], 1))).rejects.toThrow(/posting_count/);
      expect(await counts(sql)).toEqual({ entries: 0, postings: 0 });
    });

    it("refuses postings added to an entry committed earlier, even balanced ones", async () => {
      const entryId = await sql.transaction((tx) =>
        rawEntry(tx, [
          [bank, 10],
          [clearing, -10],
        ]),
      );
      await expect(
        sql.transaction(async (tx) => {
          await tx.query("INSERT INTO ledger_postings (entry_id, posting_no, account_id, amount, ts_us) VALUES ($1, 3, $2, 5, 1), ($1, 4, $3, -5, 1)", [entryId, bank, clearing]);
        }),
      ).rejects.toThrow(/only in the transaction that creates it/);
      await expect(
        sql.transaction((tx) => tx.query("INSERT INTO ledger_postings (entry_id, posting_no, account_id, amount, ts_us) VALUES (999999, 1, $1, 5, 1)", [bank])),
      ).rejects.toThrow(/only in the transaction that creates it/);
      expect(await counts(sql)).toEqual({ entries: 1, postings: 2 });
    });

    it("refuses postings to an account that does not exist", async () => {
      await expect(
        sql.transaction((tx) =>
          rawEntry(tx, [
            [bank, 10],
            [clearing, -10],
            ["987654", 5],
            ["987654", -5],
          ]),
        ),
      ).rejects.toThrow(/unbalanced in an unknown account/);
    });

    it("still checks at COMMIT after constraints ran IMMEDIATE mid-transaction", async () => {
      await expect(
        sql.transaction(async (tx) => {
          const entryId = await rawEntry(tx, [
            [bank, 10],
            [clearing, -10],
          ]);
          await tx.query("SET CONSTRAINTS ALL IMMEDIATE");
          await tx.query("SET CONSTRAINTS ALL DEFERRED");
          // The entry was verified above; a posting added now (same transaction) must be seen at COMMIT.
          await tx.query("INSERT INTO ledger_postings (entry_id, posting_no, account_id, amount, ts_us) VALUES ($1, 3, $2, 1, 1)", [entryId, bank]);
        }),
      ).rejects.toThrow(/number of postings|unbalanced/);
      expect(await counts(sql)).toEqual({ entries: 0, postings: 0 });
      expect(await sql.query("SELECT count(*)::int AS n FROM ledger_rechecks")).toEqual([{ n: 0 }]);
    });

    it("refuses UPDATE, DELETE and TRUNCATE of entries, postings and accounts", async () => {
      await sql.transaction((tx) =>
        rawEntry(tx, [
          [bank, 10],
          [clearing, -10],
        ]),
      );
      const refused = [
        "UPDATE ledger_postings SET amount = amount * 2",
        "DELETE FROM ledger_postings",
        "TRUNCATE ledger_postings",
        "UPDATE ledger_entries SET ref = 'changed'",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries CASCADE",
        "UPDATE ledger_accounts SET asset = 'USD' WHERE code = 'bank:EUR'",
        "DELETE FROM ledger_accounts WHERE code = 'fee_income:EUR'",
      ];
      for (const statement of refused) await expect(sql.query(statement), statement).rejects.toThrow(/append-only/);
      expect(await counts(sql)).toEqual({ entries: 1, postings: 2 });
      expect(await ledger.balance({ kind: "bank", currency: "EUR" })).toBe(10n);
    });

    it("takes up to postingsPerEntryMax postings in one entry, not one more", async () => {
      const postings = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ account: { kind: i % 2 === 0 ? "bank" : "clearing", currency: "EUR" } as const, amount: i % 2 === 0 ? 1n : -1n }));
      expect((await ledger.post({ kind: "adjustment", ref: "wide", tsUs: 1, postings: postings(postingsPerEntryMax) })).status).toBe("posted");
      expect(await ledger.post({ kind: "adjustment", ref: "wider", tsUs: 1, postings: postings(postingsPerEntryMax + 1) })).toEqual({
        status: "invalid_entry",
        reason: `an entry has at most ${postingsPerEntryMax} postings`,
      });
      await expect(
        sql.transaction((tx) =>
          rawEntry(
            tx,
            Array.from({ length: postingsPerEntryMax + 1 }, (_, i) => [i % 2 === 0 ? bank : clearing, i === postingsPerEntryMax ? -1 : i % 2 === 0 ? 1 : -1] as const),
          ),
        ),
      ).rejects.toThrow(/posting_count|posting_no/);
    });

    it("keeps amounts exact beyond 2^53", async () => {
      const big = 2n ** 62n;
      const outcome = await ledger.post({ kind: "adjustment", ref: "big", tsUs: 5, postings: [{ account: { kind: "bank", currency: "EUR" }, amount: big }, { account: { kind: "clearing", currency: "EUR" }, amount: -big }] });
      expect(outcome.status).toBe("posted");
      expect(await ledger.balance({ kind: "bank", currency: "EUR" })).toBe(big);
    });

    it("posts manual entries with named refusals, reverses them and reads balances as of a time", async () => {
      const eur = (kind: "bank" | "clearing" | "fee_income") => ({ kind, currency: "EUR" }) as const;
      const posted = await ledger.post({ kind: "adjustment", ref: "fix-1", tsUs: 1_000, postings: [{ account: eur("bank"), amount: 250n }, { account: eur("fee_income"), amount: -250n }] });
      expect(posted.status).toBe("posted");
      const refusals = await Promise.all([
        ledger.post({ kind: "adjustment", ref: "x", tsUs: 1, postings: [{ account: eur("bank"), amount: 1n }] }),
        ledger.post({ kind: "adjustment", ref: "x", tsUs: 1, postings: [{ account: eur("bank"), amount: 1n }, { account: eur("clearing"), amount: -2n }] }),
        ledger.post({ kind: "adjustment", ref: "x", tsUs: 1, postings: [{ account: eur("bank"), amount: 0n }, { account: eur("clearing"), amount: 0n }] }),
        ledger.post({ kind: "adjustment", ref: "", tsUs: 1, postings: [{ account: eur("bank"), amount: 1n }, { account: eur("clearing"), amount: -1n }] }),
        ledger.post({ kind: "adjustment", ref: "x", tsUs: 1, postings: [{ account: { kind: "bank", currency: "eur" }, amount: 1n }, { account: eur("clearing"), amount: -1n }] }),
        ledger.post({ kind: "adjustment", ref: "x", tsUs: 1, postings: [{ account: { kind: "client_cash", accountId: 7, currency: "EUR" }, amount: 1n }, { account: eur("clearing"), amount: -1n }] }),
        ledger.post({ kind: "trade", ref: "x", tsUs: 1, postings: [{ account: eur("bank"), amount: 1n }, { account: eur("clearing"), amount: -1n }] }),
      ]);
      expect(refusals.map((r) => (r.status === "invalid_entry" ? r.reason : r.status))).toEqual([
        "an entry needs at least two postings",
        "unbalanced in EUR: debits and credits differ by -1",
        "a posting amount must not be zero",
        "an entry needs a reference",
        'currency "eur" is not a three-letter code',
        "client:7:cash:EUR is a client account; client balances follow the engine (deposit or withdraw through it)",
        "entries of kind trade are written by the ledger itself",
      ]);
      if (posted.status !== "posted") return;
      const reversed = await ledger.reverse(posted.entryId, { tsUs: 2_000 });
      expect(reversed.status).toBe("posted");
      if (reversed.status !== "posted") return;
      expect((await ledger.entry(reversed.entryId))?.postings.map((p) => [p.code, p.amount])).toEqual([
        ["bank:EUR", -250n],
        ["fee_income:EUR", 250n],
      ]);
      expect(await ledger.balance(eur("bank"), 999)).toBe(0n);
      expect(await ledger.balance(eur("bank"), 1_000)).toBe(250n);
      expect(await ledger.balance(eur("bank"), 1_999)).toBe(250n);
      expect(await ledger.balance(eur("bank"))).toBe(0n);
      expect(await ledger.reverse("424242", { tsUs: 3_000 })).toEqual({ status: "invalid_entry", reason: "no entry 424242" });
    });
  });
}
