/**
 * The books of record: a double-entry journal on the relational store. `openLedger`
 * migrates the schema and returns a `Ledger` that posts entries and reads balances.
 *
 * Client accounts (cash and securities) mirror the engine: only the settlement
 * projection writes them, from the engine's events, so that they always equal the
 * engine's balances at the projected offset. Every other writer (payments, manual
 * adjustments, reversals) touches only the venue's own accounts; a client correction
 * goes through the engine (a deposit or withdrawal command) and reaches the ledger as
 * an event like any other.
 */
import { type Sql, migrate } from "@tradestream/store";
import { type AccountRef, accountCode, assetOf, clientOf, instrumentOfAsset, refProblem } from "./chart.ts";
import { AccountDirectory, type EntryInput, type EntryKind, writeEntries } from "./journal.ts";
import { postingsPerEntryMax } from "./limits.ts";
import { type LedgerLogger, createStderrLogger } from "./logger.ts";
import { ledgerMigrations } from "./migrations.ts";

export interface LedgerOptions {
  readonly logger?: LedgerLogger;
}

/** Outcome of posting an entry: posted, or a named reason it was refused before reaching the database. */
export type PostOutcome = { readonly status: "posted"; readonly entryId: string } | { readonly status: "invalid_entry"; readonly reason: string };

export interface ClientCash {
  readonly accountId: number;
  readonly currency: string;
  /** What the venue owes the client (positive), in minor units. */
  readonly balanceMinor: bigint;
}

export interface ClientPosition {
  readonly accountId: number;
  readonly instrumentId: number;
  /** Lots the venue holds for the client. */
  readonly positionLots: bigint;
}

export interface EntryView {
  readonly entryId: string;
  readonly kind: EntryKind;
  readonly ref: string;
  readonly tsUs: number;
  readonly postings: readonly { readonly code: string; readonly asset: string; readonly amount: bigint }[];
}

/** Kinds a caller outside the ledger package may post; the others belong to the projection and payments. */
const manualKinds: ReadonlySet<EntryKind> = new Set(["adjustment", "reversal"]);

/** Migrates the ledger's tables (idempotent) and opens the books. */
export async function openLedger(sql: Sql, options: LedgerOptions = {}): Promise<Ledger> {
  await migrate(sql, "ledger", ledgerMigrations);
  return new Ledger(sql, options.logger ?? createStderrLogger());
}

export class Ledger {
  readonly sql: Sql;
  readonly logger: LedgerLogger;
  readonly accounts = new AccountDirectory();

  constructor(sql: Sql, logger: LedgerLogger) {
    this.sql = sql;
    this.logger = logger;
  }

  /**
   * Posts a manual entry (an adjustment or a reversal) between the venue's own
   * accounts. Refused with a named reason when malformed, unbalanced or touching a
   * client account.
   */
  async post(entry: EntryInput): Promise<PostOutcome> {
    if (!manualKinds.has(entry.kind)) return { status: "invalid_entry", reason: `entries of kind ${entry.kind} are written by the ledger itself` };
    const problem = entryProblem(entry) ?? clientProblem(entry);
    if (problem !== null) return { status: "invalid_entry", reason: problem };
    const [entryId] = await this.transaction((_tx, post) => post([entry]));
    if (entryId === undefined) throw new Error("posting an entry returned no id");
    return { status: "posted", entryId };
  }

  /** Posts the exact opposite of a committed entry (append-only correction). */
  async reverse(entryId: string, options: { readonly tsUs: number; readonly ref?: string }): Promise<PostOutcome> {
    const original = await this.entry(entryId);
    if (original === null) return { status: "invalid_entry", reason: `no entry ${entryId}` };
    const postings = await this.#refsOfEntry(entryId);
    return this.post({
      kind: "reversal",
      ref: options.ref ?? `reversal:${entryId}`,
      tsUs: options.tsUs,
      postings: postings.map((posting) => ({ account: posting.account, amount: -posting.amount })),
    });
  }

  /**
   * Runs fn in one transaction with a `post` function that writes validated entries in
   * bulk; account ids learnt inside are remembered only after COMMIT. For the ledger's
   * own writers (payments); entries are checked here and again by the database.
   */
  async transaction<T>(fn: (tx: Sql, post: (entries: readonly EntryInput[]) => Promise<string[]>) => Promise<T>): Promise<T> {
    const learnt = new Map<string, number>();
    const result = await this.sql.transaction((tx) =>
      fn(tx, async (entries) => {
        for (const entry of entries) {
          const problem = entryProblem(entry);
          if (problem !== null) throw new Error(`Refusing to post an invalid entry (${entry.ref}): ${problem}`);
        }
        const written = await writeEntries(tx, entries, this.accounts);
        for (const [code, id] of written.learnt) learnt.set(code, id);
        return written.entryIds;
      }),
    );
    this.accounts.remember(learnt);
    return result;
  }

  /** Sum of an account's postings (debits positive) up to and including `asOfUs`, or all of them. */
  async balance(account: AccountRef, asOfUs?: number): Promise<bigint> {
    const rows = await this.sql.query<{ total: string | null }>(
      `SELECT sum(p.amount)::text AS total FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
        WHERE a.code = $1 AND ($2::bigint IS NULL OR p.ts_us <= $2::bigint)`,
      [accountCode(account), asOfUs ?? null],
    );
    return BigInt(rows[0]?.total ?? "0");
  }

  /** Client cash per account and currency, as of a time (inclusive) or now; one account or all. */
  async clientCash(filter: { readonly accountId?: number; readonly asOfUs?: number } = {}): Promise<ClientCash[]> {
    const rows = await this.#clientSums("client_cash", filter);
    return rows.map((row) => ({ accountId: Number(row.client_account_id), currency: row.asset, balanceMinor: -BigInt(row.total) }));
  }

  /** Client securities per account and instrument, as of a time (inclusive) or now; one account or all. */
  async clientPositions(filter: { readonly accountId?: number; readonly asOfUs?: number } = {}): Promise<ClientPosition[]> {
    const rows = await this.#clientSums("client_securities", filter);
    return rows.map((row) => ({ accountId: Number(row.client_account_id), instrumentId: instrumentOfAsset(row.asset) ?? 0, positionLots: -BigInt(row.total) }));
  }

  async entry(entryId: string): Promise<EntryView | null> {
    if (!/^[1-9][0-9]{0,18}$/.test(entryId)) return null;
    const [head] = await this.sql.query<{ kind: EntryKind; ref: string; ts_us: string }>("SELECT kind, ref, ts_us FROM ledger_entries WHERE entry_id = $1", [entryId]);
    if (head === undefined) return null;
    const postings = await this.sql.query<{ code: string; asset: string; amount: string }>(
      `SELECT a.code, a.asset, p.amount FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
        WHERE p.entry_id = $1 ORDER BY p.posting_no`,
      [entryId],
    );
    return {
      entryId,
      kind: head.kind,
      ref: head.ref,
      tsUs: Number(head.ts_us),
      postings: postings.map((row) => ({ code: row.code, asset: row.asset, amount: BigInt(row.amount) })),
    };
  }

  async #clientSums(kind: "client_cash" | "client_securities", filter: { readonly accountId?: number; readonly asOfUs?: number }) {
    return this.sql.query<{ client_account_id: string; asset: string; total: string }>(
      `SELECT a.client_account_id, a.asset, sum(p.amount)::text AS total
         FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
        WHERE a.kind = $1 AND ($2::bigint IS NULL OR a.client_account_id = $2::bigint) AND ($3::bigint IS NULL OR p.ts_us <= $3::bigint)
        GROUP BY a.client_account_id, a.asset
        ORDER BY a.client_account_id, a.asset`,
      [kind, filter.accountId ?? null, filter.asOfUs ?? null],
    );
  }

  async #refsOfEntry(entryId: string): Promise<{ account: AccountRef; amount: bigint }[]> {
    const rows = await this.sql.query<{ kind: AccountRef["kind"]; asset: string; client_account_id: string | null; amount: string }>(
      `SELECT a.kind, a.asset, a.client_account_id, p.amount FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
        WHERE p.entry_id = $1 ORDER BY p.posting_no`,
      [entryId],
    );
    return rows.map((row) => ({ account: refFromRow(row.kind, row.asset, row.client_account_id), amount: BigInt(row.amount) }));
  }
}

function refFromRow(kind: AccountRef["kind"], asset: string, client: string | null): AccountRef {
  const instrumentId = instrumentOfAsset(asset) ?? 0;
  const accountId = Number(client ?? 0);
  switch (kind) {
    case "client_cash":
      return { kind, accountId, currency: asset };
    case "client_securities":
      return { kind, accountId, instrumentId };
    case "custody":
      return { kind, instrumentId };
    case "clearing":
    case "fee_income":
    case "bank":
      return { kind, currency: asset };
  }
}

/** Why an entry cannot be posted, or null: shape, amounts, and balance per asset. */
export function entryProblem(entry: EntryInput): string | null {
  if (entry.ref.trim() === "") return "an entry needs a reference";
  if (!Number.isSafeInteger(entry.tsUs) || entry.tsUs < 0) return "tsUs must be a non-negative safe integer";
  if (entry.postings.length < 2) return "an entry needs at least two postings";
  if (entry.postings.length > postingsPerEntryMax) return `an entry has at most ${postingsPerEntryMax} postings`;
  const totals = new Map<string, bigint>();
  for (const posting of entry.postings) {
    const problem = refProblem(posting.account);
    if (problem !== null) return problem;
    if (posting.amount === 0n) return "a posting amount must not be zero";
    const asset = assetOf(posting.account);
    totals.set(asset, (totals.get(asset) ?? 0n) + posting.amount);
  }
  for (const [asset, total] of totals) if (total !== 0n) return `unbalanced in ${asset}: debits and credits differ by ${total}`;
  return null;
}

function clientProblem(entry: EntryInput): string | null {
  const client = entry.postings.find((posting) => clientOf(posting.account) !== null);
  return client === undefined ? null : `${accountCode(client.account)} is a client account; client balances follow the engine (deposit or withdraw through it)`;
}
