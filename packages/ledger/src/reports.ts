/**
 * Reports on the books: the trial balance (per currency and per instrument, debit
 * and credit balances of all accounts, which must be equal) and client statements
 * per account and period, as rows for JSON and as CSV text. Reads only.
 */
import { instrumentOfAsset } from "./chart.ts";
import type { EntryKind } from "./journal.ts";
import type { Ledger } from "./ledger.ts";
import { statementRowsMax } from "./limits.ts";

export interface CurrencyTrial {
  readonly currency: string;
  readonly debitMinor: bigint;
  readonly creditMinor: bigint;
  readonly balanced: boolean;
}

export interface SecuritiesTrial {
  readonly instrumentId: number;
  readonly debitLots: bigint;
  readonly creditLots: bigint;
  readonly balanced: boolean;
}

export interface TrialBalance {
  /** Inclusive; null means everything posted so far. */
  readonly asOfUs: number | null;
  /** True when every currency and every instrument balances. */
  readonly balanced: boolean;
  readonly currencies: readonly CurrencyTrial[];
  readonly securities: readonly SecuritiesTrial[];
}

/**
 * The trial balance: for each asset, the sum of the accounts' debit balances and the
 * sum of their credit balances. Every committed entry balances, so the two are equal
 * unless the books were tampered with below the database's checks.
 */
export async function trialBalance(ledger: Ledger, options: { readonly asOfUs?: number } = {}): Promise<TrialBalance> {
  const rows = await ledger.sql.query<{ asset: string; debit: string; credit: string }>(
    `SELECT asset, sum(greatest(net, 0))::text AS debit, sum(greatest(-net, 0))::text AS credit
       FROM (SELECT a.asset, sum(p.amount) AS net
               FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
              WHERE $1::bigint IS NULL OR p.ts_us <= $1::bigint
              GROUP BY a.account_id, a.asset) per_account
      GROUP BY asset ORDER BY asset`,
    [options.asOfUs ?? null],
  );
  const currencies: CurrencyTrial[] = [];
  const securities: SecuritiesTrial[] = [];
  for (const row of rows) {
    const debit = BigInt(row.debit);
    const credit = BigInt(row.credit);
    const instrumentId = instrumentOfAsset(row.asset);
    if (instrumentId === null) currencies.push({ currency: row.asset, debitMinor: debit, creditMinor: credit, balanced: debit === credit });
    else securities.push({ instrumentId, debitLots: debit, creditLots: credit, balanced: debit === credit });
  }
  securities.sort((a, b) => a.instrumentId - b.instrumentId);
  const balanced = currencies.every((row) => row.balanced) && securities.every((row) => row.balanced);
  return { asOfUs: options.asOfUs ?? null, balanced, currencies, securities };
}

export type StatementUnit = "minor" | "lots";
export type StatementDescription = "trade" | "fee" | "deposit" | "withdrawal" | "correction";

export interface StatementBalance {
  /** A currency code, or `instrument:<id>` for securities. */
  readonly asset: string;
  readonly unit: StatementUnit;
  readonly balance: bigint;
}

export interface StatementLine {
  readonly entryId: string;
  readonly tsUs: number;
  readonly kind: EntryKind;
  readonly description: StatementDescription;
  readonly ref: string;
  readonly asset: string;
  readonly unit: StatementUnit;
  /** Seen from the client: positive adds to what the client holds. */
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export interface Statement {
  readonly accountId: number;
  /** The period is [fromUs, toUs). */
  readonly fromUs: number;
  readonly toUs: number;
  readonly opening: readonly StatementBalance[];
  readonly lines: readonly StatementLine[];
  readonly closing: readonly StatementBalance[];
}

export type StatementOutcome =
  | { readonly status: "ok"; readonly statement: Statement }
  | { readonly status: "invalid_period" }
  | { readonly status: "too_many_rows"; readonly rowsMax: number };

export interface StatementQuery {
  readonly accountId: number;
  readonly fromUs: number;
  readonly toUs: number;
}

/** A client's statement: opening balances, every posting in the period, closing balances. */
export async function statement(ledger: Ledger, query: StatementQuery): Promise<StatementOutcome> {
  const { accountId, fromUs, toUs } = query;
  if (!Number.isSafeInteger(accountId) || accountId <= 0 || !Number.isSafeInteger(fromUs) || !Number.isSafeInteger(toUs) || fromUs < 0 || toUs <= fromUs) {
    return { status: "invalid_period" };
  }
  const openingRows = await ledger.sql.query<{ asset: string; total: string }>(
    `SELECT a.asset, sum(p.amount)::text AS total FROM ledger_postings p JOIN ledger_accounts a ON a.account_id = p.account_id
      WHERE a.client_account_id = $1 AND p.ts_us < $2 GROUP BY a.asset`,
    [accountId, fromUs],
  );
  const rows = await ledger.sql.query<{ entry_id: string; posting_no: number; ts_us: string; kind: EntryKind; ref: string; asset: string; amount: string }>(
    `SELECT p.entry_id, p.posting_no, p.ts_us, e.kind, e.ref, a.asset, p.amount
       FROM ledger_postings p
       JOIN ledger_accounts a ON a.account_id = p.account_id
       JOIN ledger_entries e ON e.entry_id = p.entry_id
      WHERE a.client_account_id = $1 AND p.ts_us >= $2 AND p.ts_us < $3
      ORDER BY p.ts_us, p.entry_id, p.posting_no
      LIMIT $4`,
    [accountId, fromUs, toUs, statementRowsMax + 1],
  );
  if (rows.length > statementRowsMax) return { status: "too_many_rows", rowsMax: statementRowsMax };
  const running = new Map<string, bigint>(openingRows.map((row) => [row.asset, -BigInt(row.total)]));
  const opening = balancesOf(running);
  const lines: StatementLine[] = rows.map((row) => {
    const amount = -BigInt(row.amount);
    const balanceAfter = (running.get(row.asset) ?? 0n) + amount;
    running.set(row.asset, balanceAfter);
    return {
      entryId: row.entry_id,
      tsUs: Number(row.ts_us),
      kind: row.kind,
      description: describe(row.kind, row.posting_no),
      ref: row.ref,
      asset: row.asset,
      unit: unitOf(row.asset),
      amount,
      balanceAfter,
    };
  });
  return { status: "ok", statement: { accountId, fromUs, toUs, opening, lines, closing: balancesOf(running) } };
}

const csvHeader = "entry_id,time_utc,description,kind,reference,asset,unit,amount,balance_after";

/** The statement as CSV (RFC 4180): one header line, one line per posting, amounts in the unit column's unit. */
export function statementCsv(statement: Statement): string {
  const lines = [csvHeader];
  for (const line of statement.lines) {
    lines.push(
      [line.entryId, isoMicros(line.tsUs), line.description, line.kind, line.ref, line.asset, line.unit, line.amount.toString(), line.balanceAfter.toString()]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** UTC time with microseconds: `2026-01-01T00:00:00.000001Z`. */
export function isoMicros(tsUs: number): string {
  const ms = Math.floor(tsUs / 1_000);
  const micros = String(tsUs - ms * 1_000).padStart(3, "0");
  return new Date(ms).toISOString().replace("Z", `${micros}Z`);
}

function csvField(value: string): string {
  // Quote what CSV needs quoted, and neutralise leading formula characters for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?[0-9]+$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function unitOf(asset: string): StatementUnit {
  return instrumentOfAsset(asset) === null ? "minor" : "lots";
}

function balancesOf(balances: ReadonlyMap<string, bigint>): StatementBalance[] {
  return [...balances.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([asset, balance]) => ({ asset, unit: unitOf(asset), balance }));
}

/** The projector writes a trade's legs as postings 1..4 and its fees after them. */
function describe(kind: EntryKind, postingNo: number): StatementDescription {
  switch (kind) {
    case "trade":
      return postingNo <= 4 ? "trade" : "fee";
    case "cash_deposit":
    case "securities_deposit":
      return "deposit";
    case "cash_withdrawal":
    case "securities_withdrawal":
      return "withdrawal";
    case "bank_receipt":
    case "bank_payout":
    case "adjustment":
    case "reversal":
      return "correction";
  }
}
