/**
 * The settlement projection: engine events in, journal entries out, exactly once.
 *
 * - A trade becomes one entry: cash from buyer to seller (the notional), securities
 *   from seller to buyer (the lots), and each non-zero maker and taker fee from the
 *   payer's cash to fee income in the instrument's currency (4 to 7 postings).
 * - A payment's cash movement (payment_in / payment_out) becomes an entry between the
 *   client's cash and the payments clearing account of the currency; an operator's
 *   funding (deposit / withdrawal) one between the client's cash and the bank; a
 *   securities deposit or withdrawal one
 *   between the client's securities and the custody account of the instrument.
 *   The engine reports balances, not amounts, so the amount is the new balance minus
 *   the client's ledger balance, which equals the engine's balance before the event.
 * - Every other event only advances the offset.
 *
 * Exactly once: the consumer's offset (the last event seq applied) is updated in the
 * same transaction as the entries, guarded by its previous value, so a crash at any
 * point leaves either the whole batch with its offset or neither; redelivered events
 * (seq ≤ offset) are skipped, and a gap in the sequence is an error, never guessed
 * over. A second projector with the same consumer name cannot advance the offset
 * behind this one's back: its guarded update finds no row and rolls back.
 *
 * The projector remembers client balances it has loaded and checks every balance and
 * position the engine reports against them (a free, continuous reconciliation): a
 * difference means the books diverged from the engine and stops the projection.
 */
import type { BalanceReason, EngineEvent, TradeExecuted } from "@tradestream/contracts";
import { InvariantError } from "@tradestream/kernel";
import { type AccountRef, accountCode } from "./chart.ts";
import { JournalBatch, allocateEntryIds } from "./journal.ts";
import type { Ledger } from "./ledger.ts";
import { balanceCacheEntriesMax, projectorBatchEntriesMax, projectorBatchEventsMax } from "./limits.ts";

export const consumerDefault = "engine";

/** Money or securities moved into or out of an account (not by trading): the events that become entries of their own. */
function isTransfer(reason: BalanceReason): boolean {
  return reason === "deposit" || reason === "withdrawal" || reason === "payment_in" || reason === "payment_out";
}
const consumerPattern = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;

export interface ProjectorOptions {
  /** The offset's name: one per event stream (per shard). */
  readonly consumer?: string;
  readonly batchEventsMax?: number;
  readonly batchEntriesMax?: number;
}

export interface ProjectionResult {
  /** Events applied now (including those that only advanced the offset). */
  readonly applied: number;
  /** Events skipped because they were applied before (redelivery). */
  readonly skipped: number;
  readonly entries: number;
  readonly transactions: number;
  /** The last event seq applied. */
  readonly offset: number;
}

/** The event stream skipped a sequence number, or went backwards inside a batch. */
export class LedgerGapError extends Error {
  override readonly name = "LedgerGapError";
  readonly expectedSeq: number;
  readonly receivedSeq: number;

  constructor(expectedSeq: number, receivedSeq: number) {
    super(`The ledger expected event ${expectedSeq} but received ${receivedSeq}; events must be consecutive.`);
    this.expectedSeq = expectedSeq;
    this.receivedSeq = receivedSeq;
  }
}

/** The ledger and the engine disagree: the projection stops rather than post on a wrong basis. */
export class LedgerDivergenceError extends Error {
  override readonly name = "LedgerDivergenceError";
}

/** Another projector moved this consumer's offset: two projectors run for one stream. */
export class LedgerOffsetConflictError extends Error {
  override readonly name = "LedgerOffsetConflictError";
}

interface InstrumentInfo {
  readonly instrumentId: number;
  readonly currency: string;
  readonly symbol: string;
}

/** One batch being built: its journal, and what it changes that is not committed yet. */
interface Batch {
  readonly journal: JournalBatch;
  /** Client balances after this batch (cash in minor units, securities in lots; client-positive). */
  readonly balances: Map<string, number>;
  readonly instruments: Map<number, InstrumentInfo>;
  /** The batch committing while this one was built (its balances are not in the committed cache yet); dropped once merged. */
  base: Batch | null;
  /** The offset this batch moves on from. */
  readonly prevSeq: number;
  /** Settles once this batch has its entry ids (or failed): the next batch takes its ids after, so ids follow the stream. */
  readonly idsTaken: Promise<void>;
  readonly markIdsTaken: () => void;
  lastSeq: number;
  events: number;
}

export class LedgerProjector {
  readonly ledger: Ledger;
  readonly consumer: string;
  readonly #batchEventsMax: number;
  readonly #batchEntriesMax: number;
  readonly #instruments = new Map<number, InstrumentInfo>();
  /** Client balances known to equal the committed ledger (client-positive). */
  readonly #balances = new Map<string, number>();
  /** Account codes by asset and client, so the hot path builds no strings. */
  readonly #cashCodes = new Map<string, Map<number, string>>();
  readonly #securitiesCodes = new Map<number, Map<number, string>>();
  readonly #feeCodes = new Map<string, string>();
  #offset: number;
  #applying = false;

  private constructor(ledger: Ledger, consumer: string, offset: number, options: ProjectorOptions) {
    this.ledger = ledger;
    this.consumer = consumer;
    this.#offset = offset;
    this.#batchEventsMax = options.batchEventsMax ?? projectorBatchEventsMax;
    this.#batchEntriesMax = options.batchEntriesMax ?? projectorBatchEntriesMax;
    if (!(this.#batchEventsMax >= 1 && this.#batchEventsMax <= projectorBatchEventsMax)) throw new RangeError(`batchEventsMax must be within 1..${projectorBatchEventsMax}`);
    if (!(this.#batchEntriesMax >= 1 && this.#batchEntriesMax <= projectorBatchEntriesMax)) throw new RangeError(`batchEntriesMax must be within 1..${projectorBatchEntriesMax}`);
  }

  /** Opens the projection at its stored offset (0 for a new consumer). */
  static async open(ledger: Ledger, options: ProjectorOptions = {}): Promise<LedgerProjector> {
    const consumer = options.consumer ?? consumerDefault;
    if (!consumerPattern.test(consumer)) throw new RangeError(`consumer must match ${String(consumerPattern)}`);
    const [row] = await ledger.sql.query<{ last_seq: string }>("SELECT last_seq FROM ledger_consumers WHERE consumer = $1", [consumer]);
    const projector = new LedgerProjector(ledger, consumer, row === undefined ? 0 : Number(row.last_seq), options);
    const instruments = await ledger.sql.query<{ instrument_id: string; symbol: string; currency: string }>("SELECT instrument_id, symbol, currency FROM ledger_instruments");
    for (const instrument of instruments) {
      const instrumentId = Number(instrument.instrument_id);
      projector.#instruments.set(instrumentId, { instrumentId, currency: instrument.currency, symbol: instrument.symbol });
    }
    return projector;
  }

  /** The last event seq whose effects are committed. */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Projects events in order, in as few transactions as the batch limits allow. Events
   * at or below the offset are skipped; the first new one must be offset + 1. On an
   * error nothing of the failing batch is committed and the offset stays where the
   * last committed batch left it, so the same events can simply be applied again.
   */
  async apply(events: readonly EngineEvent[]): Promise<ProjectionResult> {
    if (this.#applying) throw new InvariantError("LedgerProjector.apply is not reentrant: await one call before the next");
    this.#applying = true;
    try {
      return await this.#applyInOrder(events);
    } finally {
      this.#applying = false;
    }
  }

  async #applyInOrder(events: readonly EngineEvent[]): Promise<ProjectionResult> {
    let index = 0;
    while (index < events.length && (events[index] as EngineEvent).seq <= this.#offset) index += 1;
    const skipped = index;
    let entries = 0;
    let transactions = 0;
    // Two transactions overlap: batch k+1 is built and written while batch k commits.
    // Batch k+1 moves the offset only after k committed (and rolls back if k failed),
    // so the books still advance strictly in order.
    let inflight: { readonly batch: Batch; readonly done: Promise<void> } | null = null;
    const running: Promise<void>[] = [];
    try {
      while (index < events.length) {
        if (this.#missingBalances(events, index, inflight?.batch ?? null).size > 0) {
          await inflight?.done;
          inflight = null;
          await this.#loadBalances(events, index);
        }
        const batch = this.#build(events, index, inflight?.batch ?? null);
        // New accounts or instruments are created by one transaction at a time (no lock cycles).
        if (inflight !== null && (batch.journal.newAccounts.size > 0 || batch.instruments.size > 0 || inflight.batch.journal.newAccounts.size > 0)) {
          await inflight.done;
          inflight = null;
        }
        const done = this.#commit(batch, inflight?.done ?? null);
        done.catch(() => undefined);
        running.push(done);
        index += batch.events;
        entries += batch.journal.entries;
        transactions += 1;
        if (inflight !== null) await inflight.done;
        inflight = { batch, done };
      }
      await inflight?.done;
    } catch (error) {
      await Promise.allSettled(running);
      throw error;
    }
    return { applied: events.length - skipped, skipped, entries, transactions, offset: this.#offset };
  }

  /** Builds the batch starting at events[start]: pure, given the balances it needs are known. */
  #build(events: readonly EngineEvent[], start: number, base: Batch | null): Batch {
    const prevSeq = base?.lastSeq ?? this.#offset;
    let markIdsTaken = (): void => undefined;
    const idsTaken = new Promise<void>((resolve) => {
      markIdsTaken = resolve;
    });
    const batch: Batch = { journal: new JournalBatch(), balances: new Map(), instruments: new Map(), base, prevSeq, idsTaken, markIdsTaken, lastSeq: prevSeq, events: 0 };
    const end = Math.min(events.length, start + this.#batchEventsMax);
    for (let i = start; i < end && batch.journal.entries < this.#batchEntriesMax; i += 1) {
      const event = events[i] as EngineEvent;
      if (event.seq !== batch.lastSeq + 1) throw new LedgerGapError(batch.lastSeq + 1, event.seq);
      this.#project(batch, event);
      batch.lastSeq = event.seq;
      batch.events += 1;
    }
    return batch;
  }

  #project(batch: Batch, event: EngineEvent): void {
    switch (event.type) {
      case "TradeExecuted":
        this.#trade(batch, event);
        return;
      case "InstrumentCreated":
        batch.instruments.set(event.instrumentId, { instrumentId: event.instrumentId, currency: event.currency, symbol: event.symbol });
        return;
      case "BalanceChanged": {
        const code = this.#cashCode(event.accountId, event.currency);
        const payment = event.reason === "payment_in" || event.reason === "payment_out";
        const delta = this.#observe(batch, code, event.balanceMinor, isTransfer(event.reason), event.seq);
        if (delta === 0) return;
        batch.journal.begin(delta > 0 ? "cash_deposit" : "cash_withdrawal", `event:${event.seq}`, event.tsUs);
        // A payment's money is in transit through clearing (the provider's confirmation moves it to or from
        // the bank); an operator's funding is money the bank already holds or pays out.
        this.#venue(batch, { kind: payment ? "clearing" : "bank", currency: event.currency }, delta);
        this.#cash(batch, event.accountId, event.currency, -delta);
        return;
      }
      case "PositionChanged": {
        const code = this.#securitiesCode(event.accountId, event.instrumentId);
        const delta = this.#observe(batch, code, event.positionLots, isTransfer(event.reason), event.seq);
        if (delta === 0) return;
        batch.journal.begin(delta > 0 ? "securities_deposit" : "securities_withdrawal", `event:${event.seq}`, event.tsUs);
        this.#venue(batch, { kind: "custody", instrumentId: event.instrumentId }, delta);
        this.#securities(batch, event.accountId, event.instrumentId, -delta);
        return;
      }
      case "OrderAccepted":
      case "CommandRejected":
      case "OrderCancelled":
      case "OrderReplaced":
      case "OrderExpired":
      case "OrderTriggered":
      case "InstrumentUpdated":
      case "ReferencePriceSet":
      case "TradingStateChanged":
      case "AccountCreated":
      case "SessionOpened":
      case "SessionClosed":
      case "KillSwitchSet":
      case "BookLevelChanged":
      case "DayEnded":
        return;
    }
  }

  /** Postings 1-4 are the legs (statements rely on this order), the fees follow. */
  #trade(batch: Batch, trade: TradeExecuted): void {
    const instrument = batch.instruments.get(trade.instrumentId) ?? batch.base?.instruments.get(trade.instrumentId) ?? this.#instruments.get(trade.instrumentId);
    if (instrument === undefined) throw new LedgerDivergenceError(`trade ${trade.tradeId} (event ${trade.seq}) names instrument ${trade.instrumentId}, which the ledger never saw created`);
    const { currency, instrumentId } = instrument;
    const buyer = trade.takerSide === "buy" ? trade.takerAccountId : trade.makerAccountId;
    const seller = trade.takerSide === "buy" ? trade.makerAccountId : trade.takerAccountId;
    batch.journal.begin("trade", `trade:${trade.tradeId}`, trade.tsUs);
    this.#cash(batch, buyer, currency, trade.notionalMinor);
    this.#cash(batch, seller, currency, -trade.notionalMinor);
    this.#securities(batch, seller, instrumentId, trade.qtyLots);
    this.#securities(batch, buyer, instrumentId, -trade.qtyLots);
    if (trade.makerFeeMinor > 0) this.#cash(batch, trade.makerAccountId, currency, trade.makerFeeMinor);
    if (trade.takerFeeMinor > 0) this.#cash(batch, trade.takerAccountId, currency, trade.takerFeeMinor);
    const fees = trade.makerFeeMinor + trade.takerFeeMinor;
    if (fees > 0) this.#fee(batch, currency, -fees);
  }

  /**
   * Client accounts are credit-normal: a debit (positive amount) lowers what the venue
   * owes the client. Known balances follow every posting.
   */
  #cash(batch: Batch, accountId: number, currency: string, amount: number): void {
    const code = this.#cashCode(accountId, currency);
    const id = this.ledger.accounts.idOf(code);
    if (id === undefined) this.#define(batch, code, { kind: "client_cash", accountId, currency });
    batch.journal.post(code, id, amount);
    this.#track(batch, code, amount);
  }

  #securities(batch: Batch, accountId: number, instrumentId: number, amount: number): void {
    const code = this.#securitiesCode(accountId, instrumentId);
    const id = this.ledger.accounts.idOf(code);
    if (id === undefined) this.#define(batch, code, { kind: "client_securities", accountId, instrumentId });
    batch.journal.post(code, id, amount);
    this.#track(batch, code, amount);
  }

  #fee(batch: Batch, currency: string, amount: number): void {
    let code = this.#feeCodes.get(currency);
    if (code === undefined) {
      code = accountCode({ kind: "fee_income", currency });
      this.#feeCodes.set(currency, code);
    }
    const id = this.ledger.accounts.idOf(code);
    if (id === undefined) this.#define(batch, code, { kind: "fee_income", currency });
    batch.journal.post(code, id, amount);
  }

  /** Clearing and custody: posted by deposits and withdrawals only, so not worth a cache. */
  #venue(batch: Batch, ref: AccountRef, amount: number): void {
    const code = accountCode(ref);
    const id = this.ledger.accounts.idOf(code);
    if (id === undefined) this.#define(batch, code, ref);
    batch.journal.post(code, id, amount);
  }

  /** An account the batch creates, unless the batch committing before it does. */
  #define(batch: Batch, code: string, ref: AccountRef): void {
    if (batch.base?.journal.newAccounts.has(code) !== true) batch.journal.newAccounts.set(code, ref);
  }

  /** Follows a known client balance through a posting. */
  #track(batch: Batch, code: string, amount: number): void {
    const known = batch.balances.get(code) ?? batch.base?.balances.get(code) ?? this.#balances.get(code);
    if (known !== undefined) batch.balances.set(code, known - amount);
  }

  #cashCode(accountId: number, currency: string): string {
    let codes = this.#cashCodes.get(currency);
    if (codes === undefined) {
      codes = new Map();
      this.#cashCodes.set(currency, codes);
    }
    let code = codes.get(accountId);
    if (code === undefined) {
      code = accountCode({ kind: "client_cash", accountId, currency });
      codes.set(accountId, code);
    }
    return code;
  }

  #securitiesCode(accountId: number, instrumentId: number): string {
    let codes = this.#securitiesCodes.get(instrumentId);
    if (codes === undefined) {
      codes = new Map();
      this.#securitiesCodes.set(instrumentId, codes);
    }
    let code = codes.get(accountId);
    if (code === undefined) {
      code = accountCode({ kind: "client_securities", accountId, instrumentId });
      codes.set(accountId, code);
    }
    return code;
  }

  /**
   * Checks a balance the engine reports against the ledger's and returns the change a
   * deposit or withdrawal made (0 for any other reason). Balances of deposits and
   * withdrawals must be known: `#loadBalances` fetched them before the batch was built.
   */
  #observe(batch: Batch, code: string, reported: number, external: boolean, seq: number): number {
    const known = batch.balances.get(code) ?? batch.base?.balances.get(code) ?? this.#balances.get(code);
    if (known === undefined) {
      if (external) throw new InvariantError(`balance of ${code} was not loaded before event ${seq}`);
      return 0;
    }
    if (!external) {
      if (known !== reported) throw new LedgerDivergenceError(`event ${seq}: the engine reports ${reported} for ${code}, the ledger holds ${known}`);
      return 0;
    }
    const delta = reported - known;
    if (delta === 0) throw new LedgerDivergenceError(`event ${seq}: a deposit or withdrawal left ${code} unchanged at ${reported}`);
    // The entry's client posting moves the tracked balance to `reported`.
    return delta;
  }

  /** Client accounts of deposits and withdrawals in the batch from `start` whose balance is not known. */
  #missingBalances(events: readonly EngineEvent[], start: number, base: Batch | null): Set<string> {
    const missing = new Set<string>();
    const end = Math.min(events.length, start + this.#batchEventsMax);
    for (let i = start; i < end; i += 1) {
      const event = events[i] as EngineEvent;
      if (event.type !== "BalanceChanged" && event.type !== "PositionChanged") continue;
      if (!isTransfer(event.reason)) continue;
      const code = event.type === "BalanceChanged" ? this.#cashCode(event.accountId, event.currency) : this.#securitiesCode(event.accountId, event.instrumentId);
      if (!this.#balances.has(code) && base?.balances.has(code) !== true) missing.add(code);
    }
    return missing;
  }

  /**
   * Loads the committed balances of the client accounts that deposits and withdrawals
   * in the next batch touch, unless known. Only this projector writes client accounts,
   * so the committed sum is their balance right after the offset.
   */
  async #loadBalances(events: readonly EngineEvent[], start: number): Promise<void> {
    const codes = [...this.#missingBalances(events, start, null)];
    if (codes.length === 0) return;
    // One statement, one snapshot: the balances belong to the offset read with them (the row with code '').
    const rows = await this.ledger.sql.query<{ code: string; total: string }>(
      `SELECT a.code, coalesce(sum(p.amount), 0)::text AS total
         FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.account_id
        WHERE a.code = ANY($1::text[]) GROUP BY a.code
       UNION ALL
       SELECT '', coalesce((SELECT last_seq FROM ledger_consumers WHERE consumer = $2), 0)::text`,
      [codes, this.consumer],
    );
    const stored = rows.find((row) => row.code === "")?.total;
    if (stored !== String(this.#offset)) {
      throw new LedgerOffsetConflictError(`The offset of consumer ${this.consumer} is ${stored ?? "unknown"}, not ${this.#offset}: another projector runs for this stream.`);
    }
    const totals = new Map(rows.map((row) => [row.code, -BigInt(row.total)]));
    this.#boundCaches(codes.length);
    for (const code of codes) {
      const balance = totals.get(code) ?? 0n;
      if (balance > BigInt(Number.MAX_SAFE_INTEGER) || balance < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new LedgerDivergenceError(`the ledger balance of ${code} (${balance}) is beyond what the engine can hold`);
      }
      this.#balances.set(code, Number(balance));
    }
  }

  /** Forgets what it can reload when the caches would outgrow their bound. */
  #boundCaches(adding: number): void {
    if (this.#balances.size + adding <= balanceCacheEntriesMax) return;
    this.#balances.clear();
    this.#cashCodes.clear();
    this.#securitiesCodes.clear();
  }

  async #commit(batch: Batch, before: Promise<void> | null): Promise<void> {
    try {
      await this.#write(batch, before);
    } finally {
      // Also when the transaction never started: the next batch must not wait for ids forever.
      batch.markIdsTaken();
    }
  }

  async #write(batch: Batch, before: Promise<void> | null): Promise<void> {
    const ledger = this.ledger;
    const learnt = await ledger.sql.transaction(async (tx) => {
      await batch.base?.idsTaken;
      let entryIds: string[];
      try {
        entryIds = await allocateEntryIds(tx, batch.journal.entries);
      } finally {
        batch.markIdsTaken();
      }
      const ids = await ledger.accounts.resolve(tx, batch.journal.newAccounts);
      batch.journal.resolve((code) => ledger.accounts.idOf(code) ?? ids.get(code));
      if (batch.instruments.size > 0) {
        const list = [...batch.instruments.values()];
        await tx.query(
          `INSERT INTO ledger_instruments (instrument_id, symbol, currency)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT (instrument_id) DO NOTHING`,
          [list.map((i) => i.instrumentId), list.map((i) => i.symbol), list.map((i) => i.currency)],
        );
      }
      await batch.journal.insert(tx, entryIds);
      // The offset moves only after the batch before this one committed; if it failed, so does this one.
      await before;
      const moved = await tx.query(
        `INSERT INTO ledger_consumers (consumer, last_seq) VALUES ($1, $2)
         ON CONFLICT (consumer) DO UPDATE SET last_seq = EXCLUDED.last_seq WHERE ledger_consumers.last_seq = $3
         RETURNING last_seq`,
        [this.consumer, batch.lastSeq, batch.prevSeq],
      );
      if (moved.length !== 1) throw new LedgerOffsetConflictError(`The offset of consumer ${this.consumer} is no longer ${batch.prevSeq}: another projector runs for this stream.`);
      return ids;
    }, { isolated: true });
    ledger.accounts.remember(learnt);
    for (const [id, instrument] of batch.instruments) this.#instruments.set(id, instrument);
    this.#boundCaches(batch.balances.size);
    for (const [code, balance] of batch.balances) this.#balances.set(code, balance);
    this.#offset = batch.lastSeq;
    batch.base = null;
  }
}
