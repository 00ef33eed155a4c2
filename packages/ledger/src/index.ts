/**
 * @tradestream/ledger: the books of record. Double entry on the relational store
 * (PGlite or PostgreSQL, the same migrations), the settlement projection of the
 * engine's events (exactly once), payments with a provider port and signed
 * webhooks, a card vault, reconciliation against the engine, statements and the
 * trial balance. All amounts are `bigint` minor units (cash) or lots (securities).
 *
 * Wiring (composition root):
 *
 *   const ledger = await openLedger(sql, { logger });          // migrates, idempotent
 *   const projector = await LedgerProjector.open(ledger, { consumer: "engine" });
 *   const runner = new ProjectionRunner(projector, { logger, source });
 *   shard.subscribe((applied) => runner.push(applied.events)); // never blocks trading
 *   // at start-up, replay the log from projector.offset + 1 into runner.push (redelivery is skipped).
 *
 *   const vault = await CardVault.open(sql, { keys: parseVaultKeys(env), activeKeyId });
 *   const payments = new PaymentsService({ ledger, provider, funds, webhookSecrets, vault });
 *   //   funds.reserve  → engine WithdrawCash (true when accepted), BEFORE anything is paid out
 *   //   funds.credit   → engine DepositCash (settled deposit, voided withdrawal)
 *   //   POST /webhooks/payments → payments.handleWebhook(rawBody, header "tradestream-signature")
 *
 *   GET /api/v1/ledger/trial-balance → trialBalance(ledger, { asOfUs })
 *   statements                       → statement(ledger, { accountId, fromUs, toUs }), statementCsv(s)
 *   reconciliation job               → reconcile(ledger, { cash, positions, atSeq }) from the engine's slots
 *
 * Outcomes callers can cause are named statuses (`PaymentCode`, `WebhookStatus`,
 * `PostOutcome`, `StatementOutcome`); `ledgerErrorCatalogue` gives each an HTTP
 * status and a message. Exceptions are bugs or broken infrastructure.
 */
export { accountCode, accountKinds, instrumentAsset, instrumentOfAsset, type AccountKind, type AccountRef } from "./chart.ts";
export { ledgerErrorCatalogue, type LedgerErrorCode } from "./errors.ts";
export { entryKinds, type EntryInput, type EntryKind, type Posting } from "./journal.ts";
export { Ledger, openLedger, type ClientCash, type ClientPosition, type EntryView, type LedgerOptions, type PostOutcome } from "./ledger.ts";
export * from "./limits.ts";
export { createStderrLogger, type LedgerLogger } from "./logger.ts";
export { ledgerMigrations } from "./migrations.ts";
export {
  PaymentsService,
  paymentCodes,
  paymentLimitsDefault,
  type EngineFunds,
  type Payment,
  type PaymentCode,
  type PaymentLimits,
  type PaymentRequest,
  type PaymentResult,
  type PaymentStatus,
  type PaymentsOptions,
  type WebhookOutcome,
  type WebhookStatus,
} from "./payments.ts";
export {
  consumerDefault,
  LedgerDivergenceError,
  LedgerGapError,
  LedgerOffsetConflictError,
  LedgerProjector,
  type ProjectionResult,
  type ProjectorOptions,
} from "./projector.ts";
export {
  SimulatedProvider,
  type PaymentDirection,
  type PaymentProvider,
  type ProviderEvent,
  type ProviderRequest,
  type SimulatedDecision,
  type SimulatedProviderOptions,
} from "./provider.ts";
export { reconcile, type Difference, type EngineCash, type EnginePosition, type ReconcileInput, type ReconcileReport } from "./reconcile.ts";
export {
  isoMicros,
  statement,
  statementCsv,
  trialBalance,
  type CurrencyTrial,
  type SecuritiesTrial,
  type Statement,
  type StatementLine,
  type StatementOutcome,
  type StatementQuery,
  type TrialBalance,
} from "./reports.ts";
export { ProjectionRunner, type RunnerOptions, type RunnerPush, type RunnerState } from "./runner.ts";
export { CardVault, luhnValid, parseVaultKeys, type CardBrand, type CardView, type TokenizeOutcome, type VaultKey, type VaultOptions } from "./vault.ts";
export { signWebhook, verifyWebhook, webhookSignatureHeader, type WebhookVerdict } from "./webhook.ts";
