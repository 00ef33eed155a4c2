/**
 * The ledger's catalogue of caller-visible codes, each with an HTTP status and a
 * message, in the shape of the API error catalogue so the gateway can merge them.
 */
import type { PaymentCode, WebhookStatus } from "./payments.ts";

export type LedgerErrorCode =
  | Exclude<PaymentCode, "ok">
  | Exclude<WebhookStatus, "applied" | "duplicate" | "ignored" | "unknown_payment">
  | "invalid_entry"
  | "invalid_period"
  | "too_many_rows";

export const ledgerErrorCatalogue: Readonly<Record<LedgerErrorCode, { readonly status: number; readonly message: string }>> = {
  invalid_request: { status: 400, message: "The payment request is not valid." },
  idempotency_conflict: { status: 409, message: "This idempotency key was already used for a different payment." },
  over_transaction_limit: { status: 422, message: "The amount is above the limit for one payment." },
  over_daily_limit: { status: 422, message: "The amount would exceed today's withdrawal limit." },
  insufficient_funds: { status: 422, message: "The available cash does not cover the withdrawal." },
  unknown_card: { status: 422, message: "No card with this token is on file." },
  missing_signature: { status: 401, message: "The webhook is not signed." },
  malformed_signature: { status: 400, message: "The webhook signature header is malformed." },
  invalid_signature: { status: 401, message: "The webhook signature does not match." },
  stale_timestamp: { status: 401, message: "The webhook timestamp is outside the accepted window." },
  malformed: { status: 400, message: "The webhook body is not a valid payment event." },
  invalid_entry: { status: 422, message: "The journal entry is not valid." },
  invalid_period: { status: 400, message: "The statement period is not valid." },
  too_many_rows: { status: 422, message: "The statement period holds too many postings; ask for a shorter one." },
};
