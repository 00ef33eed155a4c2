/**
 * Deposits and withdrawals: requests with a client idempotency key, limits, a
 * provider that moves the real money, and the engine that holds client balances.
 * Every outcome a client can cause is a named code (`PaymentCode`); exceptions mean
 * broken infrastructure.
 *
 * Withdrawal (two-phase, the engine's hold first):
 *   1. In one transaction (locked per account): the idempotency key is looked up (a
 *      retry returns the first result), the per-transaction and per-day limits are
 *      checked, and the payment is recorded as `reserving` (or `rejected`).
 *   2. `funds.reserve` takes the amount out of the account's available cash on the
 *      engine (its WithdrawCash); false means it was not available: `rejected`,
 *      `insufficient_funds`. The engine's event moves the amount in the ledger from
 *      the client's cash to payments clearing: that is the pending hold.
 *   3. `pending`; the provider is asked to pay out.
 *   4. Webhook "succeeded": `posted`, and clearing → bank is posted in the same
 *      transaction. Webhook "failed" (or the provider refused the request):
 *      `voiding`, `funds.credit` gives the amount back on the engine (its
 *      DepositCash, which the projection posts clearing → client cash), `voided`.
 * Deposit:
 *   1. Recorded `pending` (idempotency and limit as above); the provider collects.
 *   2. Webhook "succeeded": `crediting`, bank → clearing posted in the same
 *      transaction; `funds.credit` credits the engine (projected clearing → client
 *      cash); `posted`. Webhook "failed": `failed`.
 * Payments clearing nets to zero once every payment is settled.
 *
 * Crashes: every engine step names the payment (CreditCash / DebitCash carry its
 * id, and the engine applies each at most once, refusing a repeat with
 * `duplicate_payment`), and the provider takes the payment id as its idempotency
 * key. So a payment a crash left in `reserving`, `crediting` or `voiding`, or
 * `pending` without the provider's reference, is finished by `recover()` (the
 * platform runs it at start-up): each step is simply retried, and a step that had
 * already happened is recognised rather than repeated. `stuck()` lists what is
 * still unfinished.
 */
import { randomBytes } from "node:crypto";
import type { Sql } from "@tradestream/store";
import { currencyPattern } from "./chart.ts";
import type { Ledger } from "./ledger.ts";
import {
  depositMinorMaxPerTransactionDefault,
  idempotencyKeyCharsMax,
  paymentMinorMax,
  webhookBodyBytesMax,
  withdrawalMinorMaxPerDayDefault,
  withdrawalMinorMaxPerTransactionDefault,
} from "./limits.ts";
import type { LedgerLogger } from "./logger.ts";
import type { PaymentDirection, PaymentProvider, ProviderEvent } from "./provider.ts";
import type { CardVault } from "./vault.ts";
import { verifyWebhook } from "./webhook.ts";

/**
 * The engine side of payments; the platform implements it with DebitCash and
 * CreditCash, which the engine applies once per payment id. Both must be safe to
 * call again with the same payment id: a step that already happened counts as done.
 */
export interface EngineFunds {
  /** Takes the amount out of available cash (DebitCash); false when it is not available. True when it was taken, now or before. */
  reserve(accountId: number, currency: string, amountMinor: bigint, paymentId: string): Promise<boolean>;
  /** Adds the amount to the account (CreditCash): a settled deposit, or a voided withdrawal returned; done now or before. */
  credit(accountId: number, currency: string, amountMinor: bigint, paymentId: string): Promise<void>;
}

export interface PaymentLimits {
  readonly withdrawalPerTransactionMinor: bigint;
  readonly withdrawalPerDayMinor: bigint;
  readonly depositPerTransactionMinor: bigint;
}

export const paymentLimitsDefault: PaymentLimits = {
  withdrawalPerTransactionMinor: withdrawalMinorMaxPerTransactionDefault,
  withdrawalPerDayMinor: withdrawalMinorMaxPerDayDefault,
  depositPerTransactionMinor: depositMinorMaxPerTransactionDefault,
};

export interface PaymentsOptions {
  readonly ledger: Ledger;
  readonly provider: PaymentProvider;
  readonly funds: EngineFunds;
  /** Webhook secrets: the current one first, older ones accepted during a rotation. */
  readonly webhookSecrets: readonly string[];
  readonly webhookToleranceS?: number;
  /** Limits in minor units; the same for every currency unless `limitsPerCurrency` says otherwise. */
  readonly limits?: Partial<PaymentLimits>;
  readonly limitsPerCurrency?: Readonly<Record<string, Partial<PaymentLimits>>>;
  /** When set, a deposit may name a card token, which must be in the vault. */
  readonly vault?: CardVault;
  readonly clock?: { nowMs(): number };
  readonly logger?: LedgerLogger;
  /** New payment ids; random by default. */
  readonly newPaymentId?: () => string;
}

export type PaymentStatus = "rejected" | "reserving" | "pending" | "crediting" | "posted" | "failed" | "voiding" | "voided";

export interface Payment {
  readonly paymentId: string;
  readonly accountId: number;
  readonly direction: PaymentDirection;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly idempotencyKey: string;
  readonly status: PaymentStatus;
  /** Why it was rejected, failed or voided; null otherwise. */
  readonly reason: string | null;
  readonly provider: string;
  readonly providerRef: string | null;
  readonly cardToken: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export const paymentCodes = ["ok", "invalid_request", "idempotency_conflict", "over_transaction_limit", "over_daily_limit", "insufficient_funds", "unknown_card"] as const;
export type PaymentCode = (typeof paymentCodes)[number];

export interface PaymentResult {
  readonly code: PaymentCode;
  /** The stored payment (null when the request was refused before being recorded). */
  readonly payment: Payment | null;
  /** True when this is the answer to an earlier request with the same idempotency key. */
  readonly replayed: boolean;
  /** What was wrong with an invalid request. */
  readonly problem?: string;
}

export interface PaymentRequest {
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: bigint;
  readonly idempotencyKey: string;
  /** Deposits only: a card token from the vault to collect from. */
  readonly cardToken?: string;
}

export type WebhookStatus =
  | "applied"
  | "duplicate"
  | "ignored"
  | "unknown_payment"
  | "missing_signature"
  | "malformed_signature"
  | "invalid_signature"
  | "stale_timestamp"
  | "malformed";

export interface WebhookOutcome {
  readonly status: WebhookStatus;
  readonly payment: Payment | null;
}

const idempotencyKeyPattern = new RegExp(`^[A-Za-z0-9_.:-]{1,${idempotencyKeyCharsMax}}$`);
const dayMs = 86_400_000;
/** Reasons a stored rejection carries, which are also the codes its requests answer with. */
const rejectionCodes: ReadonlySet<string> = new Set<PaymentCode>(["over_transaction_limit", "over_daily_limit", "insufficient_funds"]);

interface PaymentRow extends Record<string, unknown> {
  payment_id: string;
  account_id: string;
  direction: PaymentDirection;
  currency: string;
  amount_minor: string;
  idempotency_key: string;
  status: PaymentStatus;
  reason: string | null;
  provider: string;
  provider_ref: string | null;
  card_token: string | null;
  created_at_ms: string;
  updated_at_ms: string;
}

export class PaymentsService {
  readonly #ledger: Ledger;
  readonly #options: PaymentsOptions;
  readonly #clock: { nowMs(): number };
  readonly #logger: LedgerLogger;

  constructor(options: PaymentsOptions) {
    if (options.webhookSecrets.length === 0 || options.webhookSecrets.some((secret) => secret.length < 16)) {
      throw new Error("Payments need at least one webhook secret of 16 characters or more.");
    }
    this.#ledger = options.ledger;
    this.#options = options;
    this.#clock = options.clock ?? { nowMs: () => Date.now() };
    this.#logger = options.logger ?? options.ledger.logger;
  }

  limitsFor(currency: string): PaymentLimits {
    return { ...paymentLimitsDefault, ...this.#options.limits, ...this.#options.limitsPerCurrency?.[currency] };
  }

  async deposit(request: PaymentRequest): Promise<PaymentResult> {
    const problem = requestProblem(request);
    if (problem !== null) return { code: "invalid_request", payment: null, replayed: false, problem };
    const cardToken = request.cardToken ?? null;
    if (cardToken !== null && (this.#options.vault === undefined || (await this.#options.vault.describe(cardToken)) === null)) {
      return { code: "unknown_card", payment: null, replayed: false };
    }
    const limits = this.limitsFor(request.currency);
    const recorded = await this.#record("deposit", request, () =>
      Promise.resolve(request.amountMinor > limits.depositPerTransactionMinor ? "over_transaction_limit" : null),
    );
    if (recorded.replayed || recorded.payment.status !== "pending") return recorded.result;
    return { ...recorded.result, payment: await this.#submit(recorded.payment) };
  }

  async withdraw(request: PaymentRequest): Promise<PaymentResult> {
    const problem = requestProblem(request) ?? (request.cardToken === undefined ? null : "withdrawals are paid to the account's bank, not to a card");
    if (problem !== null) return { code: "invalid_request", payment: null, replayed: false, problem };
    const limits = this.limitsFor(request.currency);
    const recorded = await this.#record("withdrawal", request, async (tx, day) => {
      if (request.amountMinor > limits.withdrawalPerTransactionMinor) return "over_transaction_limit";
      const [row] = await tx.query<{ total: string }>(
        `SELECT coalesce(sum(amount_minor), 0)::text AS total FROM ledger_payments
          WHERE account_id = $1 AND currency = $2 AND day_utc = $3 AND direction = 'withdrawal'
            AND status IN ('reserving', 'pending', 'posted', 'voiding')`,
        [request.accountId, request.currency, day],
      );
      return BigInt(row?.total ?? "0") + request.amountMinor > limits.withdrawalPerDayMinor ? "over_daily_limit" : null;
    });
    if (recorded.replayed || recorded.payment.status !== "reserving") return recorded.result;
    const payment = await this.#reserve(recorded.payment);
    return { code: codeOf(payment), payment, replayed: false };
  }

  /**
   * Finishes the payments a crash left between the database, the engine and the
   * provider (see the module comment), untouched for at least `olderThanMs`; returns
   * them as they are now. Safe to run at any time, and more than once.
   */
  async recover(olderThanMs = 0): Promise<Payment[]> {
    const recovered: Payment[] = [];
    for (const payment of await this.stuck(olderThanMs)) {
      this.#logger.warn("payment recovery", { paymentId: payment.paymentId, status: payment.status });
      if (payment.status === "reserving") recovered.push(await this.#reserve(payment));
      else if (payment.status === "crediting" || payment.status === "voiding") recovered.push(await this.#returnFunds(payment, payment.status));
      else recovered.push(await this.#submit(payment)); // pending, not known to the provider
    }
    return recovered;
  }

  /** The engine's hold for a withdrawal, then the provider; refused when the cash is not available. */
  async #reserve(payment: Payment): Promise<Payment> {
    const held = await this.#options.funds.reserve(payment.accountId, payment.currency, payment.amountMinor, payment.paymentId);
    if (!held) return this.#transition(payment.paymentId, ["reserving"], "rejected", "insufficient_funds");
    const pending = await this.#transition(payment.paymentId, ["reserving"], "pending", null);
    return pending.status === "pending" ? this.#submit(pending) : pending;
  }

  /**
   * A provider's webhook: `body` as received (raw text) and its signature header. The
   * gateway answers 2xx for applied, duplicate, ignored and unknown_payment (the
   * provider must stop retrying), 400/401 for the rest.
   */
  async handleWebhook(body: string, signatureHeader: string | undefined): Promise<WebhookOutcome> {
    if (Buffer.byteLength(body) > webhookBodyBytesMax) return { status: "malformed", payment: null };
    const verdict = verifyWebhook({
      secrets: this.#options.webhookSecrets,
      body,
      header: signatureHeader,
      nowMs: this.#clock.nowMs(),
      ...(this.#options.webhookToleranceS === undefined ? {} : { toleranceS: this.#options.webhookToleranceS }),
    });
    if (verdict.status !== "valid") {
      this.#logger.warn("payment webhook refused", { status: verdict.status });
      return { status: verdict.status, payment: null };
    }
    const event = parseProviderEvent(body);
    if (event === null) return { status: "malformed", payment: null };
    const nowMs = this.#clock.nowMs();
    const tsUs = nowMs * 1_000;
    const step = await this.#ledger.transaction(async (tx, post) => {
      const fresh = await tx.query("INSERT INTO ledger_webhook_events (event_id, payment_id, received_at_ms) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING RETURNING event_id", [
        event.eventId,
        event.paymentId,
        nowMs,
      ]);
      if (fresh.length === 0) return { status: "duplicate" as const, payment: null, then: null };
      const [row] = await tx.query<PaymentRow>("SELECT * FROM ledger_payments WHERE payment_id = $1 FOR UPDATE", [event.paymentId]);
      if (row === undefined) return { status: "unknown_payment" as const, payment: null, then: null };
      const payment = paymentOf(row);
      if (payment.status !== "pending" || payment.provider !== this.#options.provider.name || (payment.providerRef !== null && payment.providerRef !== event.providerRef)) {
        return { status: "ignored" as const, payment, then: null };
      }
      const ref = `payment:${payment.paymentId}`;
      const cash = (kind: "bank" | "clearing") => ({ kind, currency: payment.currency }) as const;
      if (payment.direction === "deposit") {
        if (event.outcome === "failed") return { status: "applied" as const, payment: await this.#set(tx, payment.paymentId, "failed", event.reason ?? "provider_failed", nowMs), then: null };
        await post([{ kind: "bank_receipt", ref, tsUs, postings: [{ account: cash("bank"), amount: payment.amountMinor }, { account: cash("clearing"), amount: -payment.amountMinor }] }]);
        return { status: "applied" as const, payment: await this.#set(tx, payment.paymentId, "crediting", null, nowMs), then: "credit" as const };
      }
      if (event.outcome === "failed") return { status: "applied" as const, payment: await this.#set(tx, payment.paymentId, "voiding", event.reason ?? "provider_failed", nowMs), then: "void" as const };
      await post([{ kind: "bank_payout", ref, tsUs, postings: [{ account: cash("clearing"), amount: payment.amountMinor }, { account: cash("bank"), amount: -payment.amountMinor }] }]);
      return { status: "applied" as const, payment: await this.#set(tx, payment.paymentId, "posted", null, nowMs), then: null };
    });
    if (step.status === "duplicate") this.#logger.info("payment webhook replay ignored", { eventId: event.eventId });
    if (step.payment === null || step.then === null) return { status: step.status, payment: step.payment };
    return { status: step.status, payment: await this.#returnFunds(step.payment, step.then === "credit" ? "crediting" : "voiding") };
  }

  async get(paymentId: string): Promise<Payment | null> {
    const [row] = await this.#ledger.sql.query<PaymentRow>("SELECT * FROM ledger_payments WHERE payment_id = $1", [paymentId]);
    return row === undefined ? null : paymentOf(row);
  }

  /** An account's payments, newest first. */
  async list(accountId: number, limit = 100): Promise<Payment[]> {
    const rows = await this.#ledger.sql.query<PaymentRow>("SELECT * FROM ledger_payments WHERE account_id = $1 ORDER BY created_at_ms DESC, payment_id LIMIT $2", [
      accountId,
      Math.max(1, Math.min(limit, 1_000)),
    ]);
    return rows.map(paymentOf);
  }

  /**
   * Payments left unfinished for at least `olderThanMs`: between the database and the
   * engine (`reserving`, `crediting`, `voiding`), or `pending` without the provider's
   * reference (the provider may not have them). `recover()` finishes them.
   */
  async stuck(olderThanMs: number): Promise<Payment[]> {
    const rows = await this.#ledger.sql.query<PaymentRow>(
      `SELECT * FROM ledger_payments
        WHERE (status IN ('reserving', 'crediting', 'voiding') OR (status = 'pending' AND provider_ref IS NULL)) AND updated_at_ms <= $1
        ORDER BY updated_at_ms, payment_id`,
      [this.#clock.nowMs() - olderThanMs],
    );
    return rows.map(paymentOf);
  }

  /**
   * Records a request once per (account, idempotency key). A retry gets the first
   * result; the same key with different terms is a conflict. `check` runs under the
   * account's lock and returns a rejection code or null.
   */
  async #record(
    direction: PaymentDirection,
    request: PaymentRequest,
    check: (tx: Sql, day: number) => Promise<PaymentCode | null>,
  ): Promise<{ readonly result: PaymentResult; readonly payment: Payment; readonly replayed: boolean }> {
    const nowMs = this.#clock.nowMs();
    const day = Math.floor(nowMs / dayMs);
    return this.#ledger.sql.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`ledger.payments:${request.accountId}`]);
      const [existing] = await tx.query<PaymentRow>("SELECT * FROM ledger_payments WHERE account_id = $1 AND idempotency_key = $2", [request.accountId, request.idempotencyKey]);
      if (existing !== undefined) {
        const payment = paymentOf(existing);
        const same = payment.direction === direction && payment.currency === request.currency && payment.amountMinor === request.amountMinor && payment.cardToken === (request.cardToken ?? null);
        if (!same) return { result: { code: "idempotency_conflict", payment: null, replayed: true }, payment, replayed: true };
        return { result: { code: codeOf(payment), payment, replayed: true }, payment, replayed: true };
      }
      const rejection = await check(tx, day);
      const paymentId = this.#options.newPaymentId?.() ?? `pay_${randomBytes(16).toString("base64url")}`;
      const status: PaymentStatus = rejection !== null ? "rejected" : direction === "deposit" ? "pending" : "reserving";
      const [row] = await tx.query<PaymentRow>(
        `INSERT INTO ledger_payments (payment_id, account_id, direction, currency, amount_minor, idempotency_key, status, reason, provider, card_token, created_at_ms, updated_at_ms, day_utc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING *`,
        [paymentId, request.accountId, direction, request.currency, request.amountMinor.toString(), request.idempotencyKey, status, rejection, this.#options.provider.name, request.cardToken ?? null, nowMs, day],
      );
      if (row === undefined) throw new Error("recording a payment returned no row");
      const payment = paymentOf(row);
      this.#logger.info("payment recorded", { paymentId, accountId: request.accountId, direction, currency: request.currency, amountMinor: request.amountMinor.toString(), status, reason: rejection });
      return { result: { code: rejection ?? "ok", payment, replayed: false }, payment, replayed: false };
    });
  }

  /** Hands a payment to the provider; a provider that cannot take it fails the deposit or voids the withdrawal. */
  async #submit(payment: Payment): Promise<Payment> {
    let providerRef: string;
    try {
      ({ providerRef } = await this.#options.provider.submit({
        paymentId: payment.paymentId,
        direction: payment.direction,
        accountId: payment.accountId,
        currency: payment.currency,
        amountMinor: payment.amountMinor,
        cardToken: payment.cardToken,
      }));
    } catch (error) {
      this.#logger.warn("payment provider refused the payment", { paymentId: payment.paymentId, error: error instanceof Error ? error.message : String(error) });
      if (payment.direction === "deposit") return this.#transition(payment.paymentId, ["pending"], "failed", "provider_unavailable");
      const voiding = await this.#transition(payment.paymentId, ["pending"], "voiding", "provider_unavailable");
      return voiding.status === "voiding" ? this.#returnFunds(voiding, "voiding") : voiding;
    }
    // The webhook may already have moved the payment on; the reference is recorded regardless.
    const [row] = await this.#ledger.sql.query<PaymentRow>("UPDATE ledger_payments SET provider_ref = $2 WHERE payment_id = $1 RETURNING *", [payment.paymentId, providerRef]);
    if (row === undefined) throw new Error(`payment ${payment.paymentId} vanished`);
    return paymentOf(row);
  }

  /** Credits the engine for a settled deposit or a voided withdrawal, then records the final status. */
  async #returnFunds(payment: Payment, from: "crediting" | "voiding"): Promise<Payment> {
    await this.#options.funds.credit(payment.accountId, payment.currency, payment.amountMinor, payment.paymentId);
    return this.#transition(payment.paymentId, [from], from === "crediting" ? "posted" : "voided", payment.reason);
  }

  /** Moves a payment from one of `from` to `to`; returns it unchanged when it was elsewhere. */
  async #transition(paymentId: string, from: readonly PaymentStatus[], to: PaymentStatus, reason: string | null): Promise<Payment> {
    const nowMs = this.#clock.nowMs();
    return this.#ledger.sql.transaction(async (tx) => {
      const [row] = await tx.query<PaymentRow>("SELECT * FROM ledger_payments WHERE payment_id = $1 FOR UPDATE", [paymentId]);
      if (row === undefined) throw new Error(`payment ${paymentId} vanished`);
      if (!from.includes(row.status)) return paymentOf(row);
      return this.#set(tx, paymentId, to, reason, nowMs);
    });
  }

  async #set(tx: Sql, paymentId: string, status: PaymentStatus, reason: string | null, nowMs: number): Promise<Payment> {
    const [row] = await tx.query<PaymentRow>("UPDATE ledger_payments SET status = $2, reason = $3, updated_at_ms = $4 WHERE payment_id = $1 RETURNING *", [paymentId, status, reason, nowMs]);
    if (row === undefined) throw new Error(`payment ${paymentId} vanished`);
    this.#logger.info("payment status changed", { paymentId, status, reason });
    return paymentOf(row);
  }
}

function requestProblem(request: PaymentRequest): string | null {
  if (!Number.isSafeInteger(request.accountId) || request.accountId <= 0) return "accountId must be a positive integer";
  if (!currencyPattern.test(request.currency)) return "currency must be a three-letter code";
  if (typeof request.amountMinor !== "bigint" || request.amountMinor <= 0n || request.amountMinor > paymentMinorMax) return `amountMinor must be within 1..${paymentMinorMax}`;
  if (!idempotencyKeyPattern.test(request.idempotencyKey)) return `idempotencyKey must be 1..${idempotencyKeyCharsMax} characters of A-Z a-z 0-9 _ . : -`;
  return null;
}

function codeOf(payment: Payment): PaymentCode {
  return payment.status === "rejected" && payment.reason !== null && rejectionCodes.has(payment.reason) ? (payment.reason as PaymentCode) : "ok";
}

function paymentOf(row: PaymentRow): Payment {
  return {
    paymentId: row.payment_id,
    accountId: Number(row.account_id),
    direction: row.direction,
    currency: row.currency,
    amountMinor: BigInt(row.amount_minor),
    idempotencyKey: row.idempotency_key,
    status: row.status,
    reason: row.reason,
    provider: row.provider,
    providerRef: row.provider_ref,
    cardToken: row.card_token,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

const textPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

function parseProviderEvent(body: string): ProviderEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  const { eventId, paymentId, providerRef, outcome, reason } = record;
  if (typeof eventId !== "string" || !textPattern.test(eventId)) return null;
  if (typeof paymentId !== "string" || !textPattern.test(paymentId)) return null;
  if (typeof providerRef !== "string" || !textPattern.test(providerRef)) return null;
  if (outcome !== "succeeded" && outcome !== "failed") return null;
  if (reason !== undefined && (typeof reason !== "string" || !textPattern.test(reason))) return null;
  return { eventId, paymentId, providerRef, outcome, ...(reason === undefined ? {} : { reason }) };
}
