/**
 * Writing journal entries in bulk. A `JournalBatch` collects entries and postings
 * column by column (no object per posting) and writes them inside the caller's
 * transaction: missing accounts created in one statement, entry ids allocated in one,
 * then all entries and all postings inserted with one `unnest` statement each, the
 * arrays passed as PostgreSQL array literals. The database checks every entry's
 * balance at COMMIT.
 *
 * Account ids learnt inside a transaction are only remembered once the caller says
 * the transaction committed (`AccountDirectory.remember`): an id from a rolled-back
 * transaction names no account.
 */
import type { Sql } from "@tradestream/store";
import { type AccountKind, type AccountRef, accountCode, assetOf, clientOf } from "./chart.ts";
import { accountCacheEntriesMax } from "./limits.ts";

export const entryKinds = [
  "trade",
  "cash_deposit",
  "cash_withdrawal",
  "securities_deposit",
  "securities_withdrawal",
  "bank_receipt",
  "bank_payout",
  "adjustment",
  "reversal",
] as const;
export type EntryKind = (typeof entryKinds)[number];

/** One posting: positive amounts are debits, negative credits, in the account's asset unit (minor units or lots). */
export interface Posting {
  readonly account: AccountRef;
  readonly amount: bigint;
}

export interface EntryInput {
  readonly kind: EntryKind;
  /** What caused the entry: `trade:<id>`, `event:<seq>`, `payment:<id>`, or free text for adjustments. */
  readonly ref: string;
  /** Business time of the entry in microseconds since the epoch (the engine's command time for projected entries). */
  readonly tsUs: number;
  readonly postings: readonly Posting[];
}

/** Account code → database id. */
export class AccountDirectory {
  readonly #ids = new Map<string, number>();

  idOf(code: string): number | undefined {
    return this.#ids.get(code);
  }

  /**
   * Creates the accounts in `refs` that do not exist and returns the ids of all of
   * them as `tx` sees them; pass the result to `remember` after COMMIT.
   */
  async resolve(tx: Sql, refs: ReadonlyMap<string, AccountRef>): Promise<Map<string, number>> {
    const learnt = new Map<string, number>();
    if (refs.size === 0) return learnt;
    const codes = [...refs.keys()];
    const kinds: AccountKind[] = [];
    const assets: string[] = [];
    const clients: (number | null)[] = [];
    for (const ref of refs.values()) {
      kinds.push(ref.kind);
      assets.push(assetOf(ref));
      clients.push(clientOf(ref));
    }
    await tx.query(
      `INSERT INTO ledger_accounts (code, kind, asset, client_account_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
       ON CONFLICT (code) DO NOTHING`,
      [codes, kinds, assets, clients],
    );
    const rows = await tx.query<{ code: string; account_id: string }>("SELECT code, account_id FROM ledger_accounts WHERE code = ANY($1::text[])", [codes]);
    for (const row of rows) learnt.set(row.code, Number(row.account_id));
    return learnt;
  }

  /** Remembers ids learnt in a committed transaction. */
  remember(learnt: ReadonlyMap<string, number>): void {
    if (this.#ids.size + learnt.size > accountCacheEntriesMax) this.#ids.clear();
    for (const [code, id] of learnt) this.#ids.set(code, id);
  }
}

/** Entries and postings in columns, ready for one bulk insert. */
export class JournalBatch {
  readonly #kinds: EntryKind[] = [];
  readonly #refs: string[] = [];
  readonly #times: number[] = [];
  readonly #counts: number[] = [];
  /** Per posting: index of its entry in this batch, number within the entry, account id (0 until resolved), amount. */
  readonly #postingEntry: number[] = [];
  readonly #postingNo: number[] = [];
  readonly #postingAccount: number[] = [];
  readonly #postingAmount: (number | string)[] = [];
  readonly #postingTime: number[] = [];
  /** Postings whose account id was unknown when added: posting index → account code. */
  readonly #unresolved = new Map<number, string>();
  /** Accounts this batch may have to create. */
  readonly newAccounts = new Map<string, AccountRef>();

  get entries(): number {
    return this.#kinds.length;
  }

  /** Starts an entry; its postings follow with `post`. */
  begin(kind: EntryKind, ref: string, tsUs: number): void {
    this.#kinds.push(kind);
    this.#refs.push(ref);
    this.#times.push(tsUs);
    this.#counts.push(0);
  }

  /** Adds a posting to the open entry; `accountId` undefined when the directory does not know the account yet. */
  post(code: string, accountId: number | undefined, amount: number | bigint): void {
    const entry = this.#kinds.length - 1;
    const no = (this.#counts[entry] ?? 0) + 1;
    this.#counts[entry] = no;
    if (accountId === undefined) this.#unresolved.set(this.#postingAccount.length, code);
    this.#postingEntry.push(entry);
    this.#postingNo.push(no);
    this.#postingAccount.push(accountId ?? 0);
    this.#postingAmount.push(typeof amount === "bigint" ? amount.toString() : amount);
    this.#postingTime.push(this.#times[entry] ?? 0);
  }

  /** Fills in the ids of accounts that were unknown when posted. */
  resolve(idOf: (code: string) => number | undefined): void {
    for (const [index, code] of this.#unresolved) {
      const id = idOf(code);
      if (id === undefined) throw new Error(`No id for ledger account ${code}; resolve accounts before writing entries.`);
      this.#postingAccount[index] = id;
    }
    this.#unresolved.clear();
  }

  /** Inserts the entries under `entryIds` (from `allocateEntryIds`, one per entry). */
  async insert(tx: Sql, entryIds: readonly string[]): Promise<void> {
    if (this.entries === 0) return;
    if (this.#unresolved.size > 0) throw new Error("Unresolved ledger accounts; call resolve() first.");
    if (entryIds.length !== this.entries) throw new Error(`${entryIds.length} entry ids for ${this.entries} entries`);
    const postingEntryIds = this.#postingEntry.map((index) => entryIds[index] as string);
    await tx.query(
      `INSERT INTO ledger_entries (entry_id, kind, ref, ts_us, posting_count)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::smallint[])`,
      [integerArray(entryIds), textArray(this.#kinds), textArray(this.#refs), integerArray(this.#times), integerArray(this.#counts)],
    );
    await tx.query(
      `INSERT INTO ledger_postings (entry_id, posting_no, account_id, amount, ts_us)
       SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[])`,
      [integerArray(postingEntryIds), integerArray(this.#postingNo), integerArray(this.#postingAccount), integerArray(this.#postingAmount), integerArray(this.#postingTime)],
    );
  }
}

/** `count` new entry ids, ascending. */
export async function allocateEntryIds(tx: Sql, count: number): Promise<string[]> {
  if (count === 0) return [];
  const rows = await tx.query<{ id: string }>("SELECT nextval('ledger_entry_id_seq') AS id FROM generate_series(1, $1::int) ORDER BY 1", [count]);
  return rows.map((row) => row.id);
}

/** Writes validated entries (accounts created as needed); returns their ids and the account ids learnt. */
export async function writeEntries(tx: Sql, entries: readonly EntryInput[], directory: AccountDirectory): Promise<{ entryIds: string[]; learnt: Map<string, number> }> {
  const batch = new JournalBatch();
  for (const entry of entries) {
    batch.begin(entry.kind, entry.ref, entry.tsUs);
    for (const posting of entry.postings) {
      const code = accountCode(posting.account);
      const id = directory.idOf(code);
      if (id === undefined) batch.newAccounts.set(code, posting.account);
      batch.post(code, id, posting.amount);
    }
  }
  const learnt = await directory.resolve(tx, batch.newAccounts);
  batch.resolve((code) => directory.idOf(code) ?? learnt.get(code));
  const entryIds = await allocateEntryIds(tx, batch.entries);
  await batch.insert(tx, entryIds);
  return { entryIds, learnt };
}

/**
 * A PostgreSQL array literal of integers (safe-integer numbers or decimal strings):
 * far cheaper to build and to parse than the driver's quoted element-by-element form.
 */
function integerArray(values: readonly (number | string)[]): string {
  return `{${values.join(",")}}`;
}

function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
}
