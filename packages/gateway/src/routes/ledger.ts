/**
 * The books of record over HTTP: the trial balance, account statements (JSON or
 * CSV), reconciliation of the engine against the ledger, and the settlement
 * projection's status. Compliance, auditors and admins read everything; a trader
 * reads only the statements of their own accounts.
 */
import { instrumentOfAsset, reconcile, statement, statementCsv, trialBalance, type Ledger, type ProjectionRunner, type ReconcileInput, type StatementLine } from "@tradestream/ledger";
import { fromSteps } from "@tradestream/kernel";
import type { FastifyInstance } from "fastify";
import { can, requirePermission } from "../access.ts";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { formatMinor, isoTime } from "../format.ts";
import { accountIdParams, anyObject, errorResponse } from "../schemas.ts";

/** What the gateway needs of the ledger role. */
export interface LedgerPort {
  readonly ledger: Ledger;
  readonly runner: ProjectionRunner;
  /** The engine's balances and positions, and the event seq they are as of (for reconciliation). */
  engineBalances(): ReconcileInput & { readonly atSeq: number };
}

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 429: errorResponse, 503: errorResponse };
const time = { type: "string", format: "date-time" } as const;

function micros(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new ApiError("validation_failed", `${text} is not a date-time.`);
  return ms * 1000;
}

export function registerLedgerRoutes(app: FastifyInstance, context: GatewayContext, port: LedgerPort): void {
  const { deps } = context;

  /** Formats an amount of an asset: a currency in its minor units, securities in lots. */
  const amount = (asset: string, value: bigint): string => {
    const instrumentId = instrumentOfAsset(asset);
    if (instrumentId === null) return formatMinor(Number(value), asset);
    const spec = deps.market.instrument(instrumentId);
    return spec === undefined ? value.toString() : fromSteps(Number(value), spec.lotSize);
  };
  const assetName = (asset: string): string => {
    const instrumentId = instrumentOfAsset(asset);
    return instrumentId === null ? asset : (deps.market.instrument(instrumentId)?.symbol ?? asset);
  };

  app.get<{ Querystring: { asOf?: string } }>(
    "/api/v1/ledger/trial-balance",
    {
      schema: {
        tags: ["ledger"],
        summary: "Trial balance: debit and credit totals per currency and per instrument (compliance, auditors, admin)",
        querystring: { type: "object", additionalProperties: false, properties: { asOf: time } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      requirePermission(context.principal(request), "read_ledger");
      const asOfUs = request.query.asOf === undefined ? undefined : micros(request.query.asOf, 0);
      const trial = await trialBalance(port.ledger, asOfUs === undefined ? {} : { asOfUs });
      return {
        asOf: trial.asOfUs === null ? null : isoTime(trial.asOfUs),
        balanced: trial.balanced,
        currencies: trial.currencies.map((c) => ({ currency: c.currency, debit: formatMinor(Number(c.debitMinor), c.currency), credit: formatMinor(Number(c.creditMinor), c.currency), balanced: c.balanced })),
        securities: trial.securities.map((s) => ({
          symbol: deps.market.instrument(s.instrumentId)?.symbol ?? String(s.instrumentId),
          debit: amount(`instrument:${String(s.instrumentId)}`, s.debitLots),
          credit: amount(`instrument:${String(s.instrumentId)}`, s.creditLots),
          balanced: s.balanced,
        })),
        projectedUpToSeq: port.runner.state.offset,
      };
    },
  );

  app.get<{ Params: { accountId: number }; Querystring: { from?: string; to?: string; format: "json" | "csv" } }>(
    "/api/v1/ledger/statements/:accountId",
    {
      schema: {
        tags: ["ledger"],
        summary: "Account statement for a period: opening balances, every posting, closing balances (JSON or CSV)",
        description: "Traders see their own accounts; compliance, auditors and admins any account. Default period: the last 30 days.",
        params: accountIdParams,
        querystring: { type: "object", additionalProperties: false, properties: { from: time, to: time, format: { type: "string", enum: ["json", "csv"], default: "json" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const principal = context.principal(request);
      const accountId = request.params.accountId;
      if (!can(principal, "read_ledger") && !principal.accountIds.includes(accountId)) throw new ApiError("unknown_account", `No account ${String(accountId)} you may see.`);
      const toUs = micros(request.query.to, Date.now() * 1000);
      const fromUs = micros(request.query.from, toUs - 30 * 24 * 3_600 * 1_000_000);
      const outcome = await statement(port.ledger, { accountId, fromUs, toUs });
      if (outcome.status === "invalid_period") throw new ApiError("validation_failed", "The period must have from before to.");
      if (outcome.status === "too_many_rows") throw new ApiError("validation_failed", `The period holds more than ${String(outcome.rowsMax)} postings; ask for a shorter one.`);
      const found = outcome.statement;
      if (request.query.format === "csv") {
        return reply
          .type("text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="statement-${String(accountId)}.csv"`)
          .send(statementCsv(found));
      }
      const balance = (b: { asset: string; balance: bigint }): Record<string, string> => ({ asset: assetName(b.asset), balance: amount(b.asset, b.balance) });
      const line = (l: StatementLine): Record<string, unknown> => ({
        entryId: l.entryId,
        time: isoTime(l.tsUs),
        description: l.description,
        reference: l.ref,
        asset: assetName(l.asset),
        amount: amount(l.asset, l.amount),
        balanceAfter: amount(l.asset, l.balanceAfter),
      });
      return { accountId, from: isoTime(found.fromUs), to: isoTime(found.toUs), opening: found.opening.map(balance), lines: found.lines.map(line), closing: found.closing.map(balance) };
    },
  );

  app.get(
    "/api/v1/ledger/reconciliation",
    {
      schema: {
        tags: ["ledger"],
        summary: "Reconcile engine balances and positions against the ledger (compliance, auditors, admin)",
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      requirePermission(context.principal(request), "read_ledger");
      // Compare at one point of the event stream: let the projection catch up first.
      await Promise.race([port.runner.drained(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      const input = port.engineBalances();
      if (port.runner.state.offset !== input.atSeq) throw new ApiError("not_ready", "The ledger is still catching up with the engine; retry shortly.", 1);
      const report = await reconcile(port.ledger, input, { logger: deps.logger });
      context.metrics.reconciliationDifferences.set(report.differences.length);
      return {
        status: report.status,
        atSeq: input.atSeq,
        checked: report.checked,
        differences: report.differences.map((d) => ({ accountId: d.accountId, asset: assetName(d.asset), engine: amount(d.asset, d.engine), ledger: amount(d.asset, d.ledger), difference: amount(d.asset, d.difference), ledgerAccount: d.ledgerAccount })),
      };
    },
  );

  app.get(
    "/api/v1/ledger/status",
    { schema: { tags: ["ledger"], summary: "Settlement projection status: offset, buffered events, failures (SRE, compliance, auditors, admin)", response: { 200: anyObject, ...errors } } },
    async (request) => {
      const principal = context.principal(request);
      if (!can(principal, "read_ledger") && !can(principal, "ops_status")) requirePermission(principal, "read_ledger");
      const state = port.runner.state;
      return { offset: state.offset, bufferedEvents: state.bufferedEvents, failures: state.failures, lastError: state.lastError, stopped: state.stopped };
    },
  );
}
