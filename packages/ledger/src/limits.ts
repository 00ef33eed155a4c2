/**
 * Every limit the ledger enforces, as a named constant (STYLE.md rule 4). Limits
 * that an operator may want to change are defaults of an option; the rest are
 * hard bounds that keep memory, statements and transactions finite.
 */

/** Postings in one journal entry; the schema refuses more (a trade needs at most 7). */
export const postingsPerEntryMax = 64;

/** Engine events projected in one database transaction. */
export const projectorBatchEventsMax = 50_000;
/** Journal entries written in one database transaction. */
export const projectorBatchEntriesMax = 5_000;
/** Client balances the projector remembers between batches (it reloads what it forgets). */
export const balanceCacheEntriesMax = 1_000_000;
/** Ledger accounts whose ids the ledger remembers (it reloads what it forgets). */
export const accountCacheEntriesMax = 1_000_000;

/** Events the runner buffers while the database is unreachable (default of `bufferEventsMax`). */
export const runnerBufferEventsMaxDefault = 2_000_000;
/** First retry delay after a failed batch; doubles per failure up to `runnerBackoffMsMax`. */
export const runnerBackoffMsInitial = 50;
export const runnerBackoffMsMax = 5_000;

/** Client idempotency keys: 1..64 characters of [A-Za-z0-9_.:-]. */
export const idempotencyKeyCharsMax = 64;
/** Per-transaction and per-day withdrawal limits, in minor units, unless configured. */
export const withdrawalMinorMaxPerTransactionDefault = 5_000_000n;
export const withdrawalMinorMaxPerDayDefault = 20_000_000n;
/** A single deposit above this is refused, in minor units, unless configured. */
export const depositMinorMaxPerTransactionDefault = 100_000_000n;
/** Any amount the payments service accepts stays below 2^53 so the engine can hold it exactly. */
export const paymentMinorMax = BigInt(Number.MAX_SAFE_INTEGER);

/** Webhook timestamps further than this from the clock are refused (replay window). */
export const webhookToleranceSDefault = 300;
/** Webhook request bodies above this size are refused before parsing. */
export const webhookBodyBytesMax = 16_384;

/** Card numbers: ISO/IEC 7812 allows 12..19 digits. */
export const panDigitsMin = 12;
export const panDigitsMax = 19;
/** Vault rows re-encrypted per transaction during a key rotation. */
export const vaultRotationBatchMax = 500;

/** Rows in one statement (a longer period is refused; ask for a shorter one). */
export const statementRowsMax = 100_000;
