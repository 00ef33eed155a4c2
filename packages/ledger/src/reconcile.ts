/**
 * Reconciliation: the engine's balances (what trading believes) against the ledger's
 * (the books of record), per account and currency and, when given, per account and
 * instrument. Every difference is returned with the accounts involved and logged;
 * the caller exports the count as a metric. Comparing is only meaningful at one
 * point of the event stream, so the caller passes the engine's event seq and the
 * report says when the projection is not there.
 */
import { instrumentAsset } from "./chart.ts";
import type { Ledger } from "./ledger.ts";
import type { LedgerLogger } from "./logger.ts";
import { consumerDefault } from "./projector.ts";

export interface EngineCash {
  readonly accountId: number;
  readonly currency: string;
  readonly balanceMinor: number | bigint;
}

export interface EnginePosition {
  readonly accountId: number;
  readonly instrumentId: number;
  readonly positionLots: number | bigint;
}

export interface ReconcileInput {
  readonly cash: readonly EngineCash[];
  readonly positions?: readonly EnginePosition[];
  /** The engine's last event seq when the balances were taken; checked against the projection's offset. */
  readonly atSeq?: number;
  /** The projection whose offset `atSeq` is checked against. */
  readonly consumer?: string;
}

export interface Difference {
  readonly accountId: number;
  /** A currency, or `instrument:<id>` for securities. */
  readonly asset: string;
  readonly engine: bigint;
  readonly ledger: bigint;
  /** ledger − engine. */
  readonly difference: bigint;
  /** The ledger account compared. */
  readonly ledgerAccount: string;
}

export interface ReconcileReport {
  readonly status: "matched" | "differences" | "offset_mismatch";
  /** Balances compared. */
  readonly checked: number;
  readonly differences: readonly Difference[];
  /** The projection's offset when compared (null when no seq was given). */
  readonly ledgerOffset: number | null;
}

export async function reconcile(ledger: Ledger, input: ReconcileInput, options: { readonly logger?: LedgerLogger } = {}): Promise<ReconcileReport> {
  const logger = options.logger ?? ledger.logger;
  return ledger.sql.transaction(async (tx) => {
    // One snapshot for the offset and every balance.
    await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    let ledgerOffset: number | null = null;
    if (input.atSeq !== undefined) {
      const [row] = await tx.query<{ last_seq: string }>("SELECT last_seq FROM ledger_consumers WHERE consumer = $1", [input.consumer ?? consumerDefault]);
      ledgerOffset = row === undefined ? 0 : Number(row.last_seq);
      if (ledgerOffset !== input.atSeq) {
        logger.warn("reconciliation skipped: the ledger is not at the engine's seq", { engineSeq: input.atSeq, ledgerOffset });
        return { status: "offset_mismatch", checked: 0, differences: [], ledgerOffset };
      }
    }
    const differences: Difference[] = [];
    const cash = await ledger.clientCash();
    const ledgerCash = new Map(cash.map((row) => [`${row.accountId}|${row.currency}`, row.balanceMinor]));
    const engineCash = new Map(input.cash.map((row) => [`${row.accountId}|${row.currency}`, { accountId: row.accountId, asset: row.currency, value: BigInt(row.balanceMinor) }]));
    for (const row of cash) if (!engineCash.has(`${row.accountId}|${row.currency}`)) engineCash.set(`${row.accountId}|${row.currency}`, { accountId: row.accountId, asset: row.currency, value: 0n });
    let checked = compare(engineCash, ledgerCash, (accountId, asset) => `client:${accountId}:cash:${asset}`, differences);
    if (input.positions !== undefined) {
      const positions = await ledger.clientPositions();
      const key = (accountId: number, instrumentId: number) => `${accountId}|${instrumentAsset(instrumentId)}`;
      const ledgerLots = new Map(positions.map((row) => [key(row.accountId, row.instrumentId), row.positionLots]));
      const engineLots = new Map(
        input.positions.map((row) => [key(row.accountId, row.instrumentId), { accountId: row.accountId, asset: instrumentAsset(row.instrumentId), value: BigInt(row.positionLots) }]),
      );
      for (const row of positions) {
        const k = key(row.accountId, row.instrumentId);
        if (!engineLots.has(k)) engineLots.set(k, { accountId: row.accountId, asset: instrumentAsset(row.instrumentId), value: 0n });
      }
      checked += compare(engineLots, ledgerLots, (accountId, asset) => `client:${accountId}:securities:${asset.slice("instrument:".length)}`, differences);
    }
    for (const difference of differences) {
      logger.warn("ledger differs from engine", {
        accountId: difference.accountId,
        asset: difference.asset,
        ledgerAccount: difference.ledgerAccount,
        engine: difference.engine.toString(),
        ledger: difference.ledger.toString(),
        difference: difference.difference.toString(),
      });
    }
    if (differences.length > 0) logger.error("reconciliation found differences", { differences: differences.length, checked });
    else logger.info("reconciliation matched", { checked });
    return { status: differences.length === 0 ? "matched" : "differences", checked, differences, ledgerOffset };
  });
}

function compare(
  engine: ReadonlyMap<string, { readonly accountId: number; readonly asset: string; readonly value: bigint }>,
  ledger: ReadonlyMap<string, bigint>,
  code: (accountId: number, asset: string) => string,
  differences: Difference[],
): number {
  for (const [key, expected] of engine) {
    const actual = ledger.get(key) ?? 0n;
    if (actual !== expected.value) {
      differences.push({ accountId: expected.accountId, asset: expected.asset, engine: expected.value, ledger: actual, difference: actual - expected.value, ledgerAccount: code(expected.accountId, expected.asset) });
    }
  }
  return engine.size;
}
