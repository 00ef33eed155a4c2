/**
 * The matching and risk engine of one shard: a pure, deterministic state
 * machine. `apply(command)` returns the events the command caused; it performs
 * no I/O and reads no clock or randomness (time arrives on the command, ids are
 * counters in the state). Replaying the same commands yields the same events.
 *
 * Pipeline for an order (after exchange-core): validate shape → pre-trade risk
 * (kill switch, trading state, size, collar, notional, duplicates, rate, open
 * orders, funds/position reserved) → match in price-time priority with
 * self-trade prevention and circuit breaker → rest or cancel the remainder →
 * trigger stops by last trade price, in trigger-time order.
 *
 * Money invariants, asserted by `checkInvariants` and the property tests:
 * cash + fees collected is conserved by trades; 0 ≤ reserved ≤ balance; the
 * reserved amount equals what open orders need (recomputed from the order's
 * open quantity whenever it changes, never accumulated).
 */
import type {
  BalanceReason,
  CancelOrder,
  CancelReason,
  CloseSession,
  Command,
  CommandType,
  CreateAccount,
  CreateInstrument,
  CreditCash,
  DebitCash,
  DepositCash,
  DepositSecurities,
  EngineEvent,
  InstrumentSpec,
  MassCancel,
  OpenSession,
  PlaceOrder,
  RejectCode,
  ReplaceOrder,
  SetKillSwitch,
  SetReferencePrice,
  SetTradingState,
  UpdateInstrument,
  WithdrawCash,
  WithdrawSecurities,
} from "@tradestream/contracts";
import { assert, unreachable } from "@tradestream/kernel";
import { Account, type CashSlot, type PositionSlot } from "./account.ts";
import { FastBook, type OrderBook } from "./book.ts";
import {
  EventPools,
  balanceChanged,
  balanceChangedInto,
  bookLevelChanged,
  bookLevelChangedInto,
  commandRejected,
  commandRejectedInto,
  orderAccepted,
  orderAcceptedInto,
  orderCancelled,
  orderCancelledInto,
  orderReplaced,
  orderReplacedInto,
  positionChanged,
  positionChangedInto,
  tradeExecuted,
  tradeExecutedInto,
} from "./event-pool.ts";
import { IdMap } from "./id-map.ts";
import { Instrument } from "./instrument.ts";
import {
  bpsMax,
  cashMinorMax,
  clientOrderIdCharsMax,
  feeBpsMax,
  notionalMinorMax,
  openOrdersPerAccountMax,
  ordersPerSecondPerAccountMax,
  paymentIdCharsMax,
  paymentRetentionUs,
  positionLotsMax,
  priceTicksMax,
  qtyLotsMax,
  rateWindowUs,
  stopOrdersPerInstrumentMax,
  tickValueMinorMax,
} from "./limits.ts";
import { type Level, Order } from "./order.ts";
import { OrderIndex } from "./order-index.ts";

export interface EngineOptions {
  /** Builds the order book of each instrument; the differential tests pass the reference book. */
  readonly bookFactory?: (instrumentId: number) => OrderBook;
}

export interface Session {
  readonly sessionId: number;
  readonly accountId: number;
  readonly cancelOnDisconnect: boolean;
}

const currencyPattern = /^[A-Z]{3}$/;

/**
 * Finished order objects kept for reuse: enough for the orders a burst of cancels and fills
 * finishes between placements, few enough that a mass cancel does not pin memory.
 */
const finishedOrdersKept = 1_024;

/** Entries the reused events array keeps after a command with more events than this. */
const outKeptMax = 4_096;

function inRange(value: number, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * Cash a buy needs for `qtyLots` at `priceTicks`: the value plus the fee at
 * `feeBps`, floored as fees are charged. The one definition of a buy reservation.
 */
function cashFor(priceTicks: number, qtyLots: number, tickValueMinor: number, feeBps: number): number {
  const notional = priceTicks * qtyLots * tickValueMinor;
  return notional + Math.floor((notional * feeBps) / 10_000);
}

function validText(value: string, charsMax: number): boolean {
  return value.length > 0 && value.length <= charsMax;
}

export class Engine {
  readonly instruments = new IdMap<Instrument>();
  readonly accounts = new IdMap<Account>();
  readonly killedFirms = new Set<number>();
  readonly sessions = new Map<number, Session>();
  /** Every open order (resting or pending stop), in acceptance order. */
  readonly orders = new OrderIndex();
  /** Fee income per currency folded so far (see `feesCollected`). */
  private readonly feeTotals = new Map<string, number>();
  /** Cash deposited minus withdrawn per currency (= balances + fee income): bounded by `cashMinorMax`. */
  readonly cashOutstanding = new Map<string, number>();
  /** Securities deposited minus withdrawn per instrument (= sum of positions): bounded by `positionLotsMax`. */
  readonly lotsOutstanding = new Map<number, number>();
  /**
   * Payments applied by CreditCash / DebitCash, keyed `C:<paymentId>` or
   * `D:<paymentId>`, with the command's timestamp: a repeat is refused with
   * `duplicate_payment`. Kept `paymentRetentionUs` past its day (pruned at end of day).
   */
  readonly paymentsApplied = new Map<string, number>();

  eventSeq = 0;
  nextOrderId = 1;
  nextTradeId = 1;
  prioritySeq = 0;
  commandCount = 0;

  private readonly bookFactory: (instrumentId: number) => OrderBook;
  /**
   * Objects of finished orders, reused for new ones (at most `finishedOrdersKept`): a new order
   * then costs no allocation, and resting orders stop churning through the young generation. An
   * order finishes once no book, stop list or `orders` holds it, and an object is taken again only
   * when a PlaceOrder makes its order, before anything of that command finishes. So code that still
   * reads a finished order in the command that finished it sees its final state, and an `Order`
   * read from `orders` stays valid until its order has finished and a later order has been placed.
   */
  private readonly finishedOrders: Order[] = [];
  /** The events of the command being applied: the first `outCount` entries. */
  private out: Array<EngineEvent | undefined> = [];
  /** `out` for `applyInPlace`: reused from command to command. */
  private readonly outInPlace: Array<EngineEvent | undefined> = [];
  private outCount = 0;
  /**
   * Objects for the events of the frequent kinds: reused when the command came through
   * `applyInPlace`; through `apply`, every event is made new.
   */
  private readonly pools = new EventPools();
  private tsUs = 0;
  private readonly touchedLevels: Level[] = [];
  private readonly touchedCash: CashSlot[] = [];
  private readonly touchedPositions: PositionSlot[] = [];
  private touchedLevelCount = 0;
  private touchedCashCount = 0;
  private touchedPositionCount = 0;

  constructor(options: EngineOptions = {}) {
    this.bookFactory = options.bookFactory ?? ((id) => new FastBook(id));
  }

  /** A new, empty book of the kind this engine uses. */
  bookFor(instrumentId: number): OrderBook {
    return this.bookFactory(instrumentId);
  }

  /**
   * Fee income per currency, in minor units. A trade adds its fees to its instrument
   * (no lookup by currency per trade); reading folds those sums in, so read it anew after
   * applying commands rather than keeping the map. A currency is listed at its first trade,
   * so the entries keep the order in which currencies first traded.
   */
  get feesCollected(): Map<string, number> {
    for (const instrument of this.instruments.values()) {
      if (instrument.feesUnfoldedMinor === 0) continue;
      this.feeTotals.set(instrument.currency, (this.feeTotals.get(instrument.currency) ?? 0) + instrument.feesUnfoldedMinor);
      instrument.feesUnfoldedMinor = 0;
    }
    return this.feeTotals;
  }

  private listFeeCurrency(instrument: Instrument): void {
    if (!this.feeTotals.has(instrument.currency)) this.feeTotals.set(instrument.currency, 0);
    instrument.feeCurrencyListed = true;
  }

  /** Applies one command and returns the events it caused, in order: new objects the caller may keep. */
  apply(command: Command): EngineEvent[] {
    this.pools.reset(false);
    // Sized for the usual command (an order accepted and resting, or a cancel: three events), so that
    // it allocates just that instead of the 17 slots the first `push` to an empty array takes. Filled
    // with `undefined`, not holes: a holey array is slower to fill and to grow (measured). New, not
    // reused: storing new events into an old array would cost a write barrier entry each.
    const out: Array<EngineEvent | undefined> = [undefined, undefined, undefined];
    this.out = out;
    const count = this.run(command);
    if (out.length !== count) out.length = count;
    // Every entry is an event now: `emit` set the first `count` (appending past the end extends the array).
    return out as EngineEvent[];
  }

  /**
   * Applies one command like `apply`, without allocating for the usual command: the events are the
   * first `count` entries of `eventsInPlace`, where `count` is what this returns, and the frequent
   * kinds are objects the engine reuses. They are valid only until the next command; for consumers
   * that read them at once (journal replay, the event-stream hash, the benchmark).
   */
  applyInPlace(command: Command): number {
    this.pools.reset(true);
    this.out = this.outInPlace;
    return this.run(command);
  }

  /** The events of the last `applyInPlace`, up to the count it returned (entries past it are stale). */
  get eventsInPlace(): readonly EngineEvent[] {
    return this.outInPlace as readonly EngineEvent[];
  }

  private run(command: Command): number {
    this.outCount = 0;
    this.tsUs = command.tsUs;
    this.commandCount += 1;
    switch (command.type) {
      case "PlaceOrder":
        this.placeOrder(command);
        break;
      case "CancelOrder":
        this.cancelOrder(command);
        break;
      case "ReplaceOrder":
        this.replaceOrder(command);
        break;
      case "MassCancel":
        this.massCancel(command);
        break;
      case "OpenSession":
        this.openSession(command);
        break;
      case "CloseSession":
        this.closeSession(command);
        break;
      case "CreateInstrument":
        this.createInstrument(command);
        break;
      case "UpdateInstrument":
        this.updateInstrument(command);
        break;
      case "SetReferencePrice":
        this.setReferencePrice(command);
        break;
      case "SetTradingState":
        this.setTradingState(command);
        break;
      case "CreateAccount":
        this.createAccount(command);
        break;
      case "DepositCash":
      case "WithdrawCash":
        this.moveCash(command);
        break;
      case "DepositSecurities":
      case "WithdrawSecurities":
        this.moveSecurities(command);
        break;
      case "SetKillSwitch":
        this.setKillSwitch(command);
        break;
      case "EndOfDay":
        this.endOfDay();
        break;
      case "CreditCash":
      case "DebitCash":
        this.movePaymentCash(command);
        break;
      default:
        unreachable(command, "command");
    }
    this.flushTouched();
    const count = this.outCount;
    // A command with very many events (a mass cancel) does not leave them all referenced.
    if (this.outInPlace.length > outKeptMax && count <= outKeptMax) this.outInPlace.length = outKeptMax;
    return count;
  }

  // ── Events ──────────────────────────────────────────────────────────────

  private emit(event: EngineEvent): void {
    this.out[this.outCount] = event;
    this.outCount += 1;
  }

  /** OrderCancelled for `cancelledQtyLots` taken off `order` (its leaves are already updated). */
  private emitCancelled(order: Order, cancelledQtyLots: number, reason: CancelReason): void {
    const seq = this.nextSeq();
    const pooled = this.pools.cancelled.next();
    this.emit(pooled === null ? this.pools.cancelled.adopt(orderCancelled(seq, this.tsUs, order, cancelledQtyLots, reason)) : orderCancelledInto(pooled, seq, this.tsUs, order, cancelledQtyLots, reason));
  }

  private nextSeq(): number {
    this.eventSeq += 1;
    return this.eventSeq;
  }

  private reject(command: CommandType, reason: RejectCode, ids: { accountId?: number; clientOrderId?: string; orderId?: number }): void {
    const seq = this.nextSeq();
    const accountId = ids.accountId ?? 0;
    const clientOrderId = ids.clientOrderId ?? "";
    const orderId = ids.orderId ?? 0;
    const pooled = this.pools.rejected.next();
    this.emit(
      pooled === null
        ? this.pools.rejected.adopt(commandRejected(seq, this.tsUs, command, reason, accountId, clientOrderId, orderId))
        : commandRejectedInto(pooled, seq, this.tsUs, command, reason, accountId, clientOrderId, orderId),
    );
  }

  private touchLevel(level: Level): void {
    if (level.touchMark !== this.commandCount) {
      level.touchMark = this.commandCount;
      this.touchedLevels[this.touchedLevelCount++] = level;
    }
  }

  private touchCash(slot: CashSlot, reason: BalanceReason): void {
    slot.reason = reason;
    if (slot.touchMark !== this.commandCount) {
      slot.touchMark = this.commandCount;
      this.touchedCash[this.touchedCashCount++] = slot;
    }
  }

  private touchPosition(slot: PositionSlot, reason: BalanceReason): void {
    slot.reason = reason;
    if (slot.touchMark !== this.commandCount) {
      slot.touchMark = this.commandCount;
      this.touchedPositions[this.touchedPositionCount++] = slot;
    }
  }

  /** One balance/position/level event per thing the command changed, with its final value. */
  private flushTouched(): void {
    for (let i = 0; i < this.touchedCashCount; i += 1) {
      const slot = this.touchedCash[i] as CashSlot;
      const seq = this.nextSeq();
      const pooled = this.pools.balance.next();
      this.emit(pooled === null ? this.pools.balance.adopt(balanceChanged(seq, this.tsUs, slot)) : balanceChangedInto(pooled, seq, this.tsUs, slot));
    }
    for (let i = 0; i < this.touchedPositionCount; i += 1) {
      const slot = this.touchedPositions[i] as PositionSlot;
      const seq = this.nextSeq();
      const pooled = this.pools.position.next();
      this.emit(pooled === null ? this.pools.position.adopt(positionChanged(seq, this.tsUs, slot)) : positionChangedInto(pooled, seq, this.tsUs, slot));
    }
    for (let i = 0; i < this.touchedLevelCount; i += 1) {
      const level = this.touchedLevels[i] as Level;
      // A level emptied and then re-created at the same price in one command (a replace re-queuing the
      // level's only order, a stop triggered into the price an STP cancel emptied) is two Level objects
      // for one price, three if the new one empties too. Only the newest is reported, so each price
      // gets one event carrying its final state.
      if (level.count === 0 && this.newerTwinTouched(i, level)) continue;
      const seq = this.nextSeq();
      const pooled = this.pools.level.next();
      this.emit(pooled === null ? this.pools.level.adopt(bookLevelChanged(seq, this.tsUs, level)) : bookLevelChangedInto(pooled, seq, this.tsUs, level));
    }
    // Counters rather than truncation: the arrays keep their capacity, so the hot path allocates nothing here.
    this.touchedCashCount = 0;
    this.touchedPositionCount = 0;
    this.touchedLevelCount = 0;
  }

  /**
   * Whether a level at the price of the emptied `level` (touched at position `at`) was touched
   * later in this command. Every level the book creates is touched when its first order is
   * inserted, and a level at that price can only be created after `level` emptied (which
   * nothing touches again), so a newer one — live, or emptied in turn — comes later in the list.
   */
  private newerTwinTouched(at: number, level: Level): boolean {
    for (let i = at + 1; i < this.touchedLevelCount; i += 1) {
      const other = this.touchedLevels[i] as Level;
      if (other.price === level.price && other.side === level.side && other.instrumentId === level.instrumentId) return true;
    }
    return false;
  }

  // ── Reservations ────────────────────────────────────────────────────────

  /** Cash a buy order needs for `leaves` lots at its price, with the larger of its fees (floored, as charged). */
  private cashNeeded(order: Order, instrument: Instrument, leaves: number): number {
    if (!order.isBuy) return 0;
    return cashFor(order.price, leaves, instrument.tickValueMinor, Math.max(order.makerFeeBps, order.takerFeeBps));
  }

  /** Re-derives the order's reservation from its open quantity and moves the difference on the account. */
  private reserve(order: Order, instrument: Instrument, reason: BalanceReason): void {
    if (order.isBuy) {
      const need = this.cashNeeded(order, instrument, order.leaves);
      if (need !== order.reservedCash) {
        order.cash.reserved += need - order.reservedCash;
        order.reservedCash = need;
        this.touchCash(order.cash, reason);
      }
    } else if (order.leaves !== order.reservedLots) {
      order.position.reserved += order.leaves - order.reservedLots;
      order.reservedLots = order.leaves;
      this.touchPosition(order.position, reason);
    }
  }

  // ── Orders ──────────────────────────────────────────────────────────────

  /** The price an order matches up to: its limit, or a protection price for market and stop orders. */
  private effectivePrice(command: PlaceOrder, instrument: Instrument): number {
    switch (command.orderType) {
      case "limit":
      case "stop_limit":
        return command.priceTicks;
      case "market":
        return command.side === "buy" ? instrument.collarHigh() : instrument.collarLow();
      case "stop": {
        const band = Math.floor((command.stopPriceTicks * instrument.priceBandBps) / 10_000);
        return command.side === "buy" ? command.stopPriceTicks + band : Math.max(1, command.stopPriceTicks - band);
      }
      default:
        return unreachable(command.orderType, "order type");
    }
  }

  /** Checks the order's own fields; null when the shape is valid. */
  private orderShapeError(c: PlaceOrder, instrument: Instrument, account: Account): RejectCode | null {
    if (!validText(c.clientOrderId, clientOrderIdCharsMax)) return "invalid_order";
    if (!inRange(c.qtyLots, 1, qtyLotsMax)) return "invalid_quantity";
    const persistent = c.tif === "GTC" || c.tif === "DAY";
    switch (c.orderType) {
      case "limit":
        if (!inRange(c.priceTicks, 1, priceTicksMax)) return "invalid_price";
        if (c.stopPriceTicks !== 0) return "invalid_order";
        break;
      case "market":
        if (c.priceTicks !== 0 || c.stopPriceTicks !== 0 || persistent) return "invalid_order";
        break;
      case "stop":
        if (c.priceTicks !== 0 || !persistent) return "invalid_order";
        if (!inRange(c.stopPriceTicks, 1, priceTicksMax)) return "invalid_price";
        break;
      case "stop_limit":
        if (!persistent) return "invalid_order";
        if (!inRange(c.priceTicks, 1, priceTicksMax) || !inRange(c.stopPriceTicks, 1, priceTicksMax)) return "invalid_price";
        break;
      default:
        return unreachable(c.orderType, "order type");
    }
    if (c.displayQtyLots !== 0) {
      if (c.orderType !== "limit" || !persistent || !inRange(c.displayQtyLots, 1, c.qtyLots)) return "invalid_order";
    }
    if (c.postOnly && (c.orderType !== "limit" || !persistent)) return "invalid_order";
    if (c.sessionId !== 0 && this.sessions.get(c.sessionId)?.accountId !== account.id) return "unknown_session";
    if (c.qtyLots > instrument.maxOrderQtyLots) return "max_quantity_exceeded";
    if (c.orderType === "limit" || c.orderType === "stop_limit") {
      if (c.priceTicks > instrument.collarHigh() || c.priceTicks < instrument.collarLow()) return "price_outside_collar";
    }
    return null;
  }

  private crossesBook(instrument: Instrument, isBuy: boolean, price: number): boolean {
    const best = instrument.book.best(isBuy ? "sell" : "buy");
    return best !== null && (isBuy ? best.price <= price : best.price >= price);
  }

  /**
   * The checks of an order against the account's and the instrument's state that follow the
   * duplicate check (rate, open orders, stops, funds, post-only), in that order; null admits it.
   * The rate window counts the order even when a later check rejects it. `available` is what the
   * account has free for the order: cash for a buy, lots for a sell, −∞ without a slot (nothing).
   */
  private admissionError(c: PlaceOrder, instrument: Instrument, account: Account, price: number, available: number): RejectCode | null {
    if (c.tsUs - account.rateWindowStartUs >= rateWindowUs) {
      account.rateWindowStartUs = c.tsUs;
      account.rateCount = 0;
    }
    if (account.rateCount >= account.ordersPerSecondMax) return "order_rate_exceeded";
    account.rateCount += 1;
    if (account.openOrders >= account.openOrdersMax) return "open_orders_limit";
    const isStop = c.orderType === "stop" || c.orderType === "stop_limit";
    if (isStop && instrument.stops.length >= stopOrdersPerInstrumentMax) return "open_orders_limit";
    // Funds are checked before any slot is created, so a rejected order leaves no trace in the state.
    if (c.side === "buy") {
      const need = cashFor(price, c.qtyLots, instrument.tickValueMinor, Math.max(instrument.makerFeeBps, instrument.takerFeeBps));
      if (available < need) return "insufficient_funds";
    } else if (available < c.qtyLots) {
      return "insufficient_position";
    }
    if (c.postOnly && this.crossesBook(instrument, c.side === "buy", price)) return "post_only_would_cross";
    return null;
  }

  private placeOrder(c: PlaceOrder): void {
    // The command itself carries the ids a rejection reports: nothing is allocated for them.
    const instrument = this.instruments.find(c.instrumentId);
    if (instrument === undefined) return this.reject("PlaceOrder", "unknown_instrument", c);
    const account = this.accounts.find(c.accountId);
    if (account === undefined) return this.reject("PlaceOrder", "unknown_account", c);
    if (account.killed || (this.killedFirms.size !== 0 && this.killedFirms.has(account.firmId))) {
      return this.reject("PlaceOrder", "kill_switch_active", c);
    }
    if (instrument.state !== "open") {
      return this.reject("PlaceOrder", instrument.state === "halted" ? "instrument_halted" : "instrument_closed", c);
    }
    const shapeError = this.orderShapeError(c, instrument, account);
    if (shapeError !== null) return this.reject("PlaceOrder", shapeError, c);
    const price = this.effectivePrice(c, instrument);
    // A float product is exact whenever it is below the limit, which is all we accept.
    if (price * c.qtyLots * instrument.tickValueMinor > instrument.maxOrderNotionalMinor) {
      return this.reject("PlaceOrder", "max_notional_exceeded", c);
    }
    // Checked and added in one probe of the set; a later rejection takes the id back out.
    if (!account.clientOrderIds.addIfAbsent(c.clientOrderId)) return this.reject("PlaceOrder", "duplicate_client_order_id", c);
    // Each slot is looked up once: the funds check reads it, the order keeps it (created only once admitted).
    // The check gets a number rather than the slots in an object: `admissionError` is not inlined, so
    // such an object would be allocated for every order.
    const cashFound = account.cash.get(instrument.currency);
    const positionFound = account.positions.get(instrument.id);
    const available =
      c.side === "buy"
        ? cashFound === undefined ? -Infinity : cashFound.balance - cashFound.reserved
        : positionFound === undefined ? -Infinity : positionFound.position - positionFound.reserved;
    const admissionError = this.admissionError(c, instrument, account, price, available);
    if (admissionError !== null) {
      account.clientOrderIds.removeLast(c.clientOrderId);
      return this.reject("PlaceOrder", admissionError, c);
    }
    const cash = cashFound ?? account.cashSlot(instrument.currency);
    const position = positionFound ?? account.positionSlot(instrument.id);
    const id = this.nextOrderId;
    const { makerFeeBps, takerFeeBps } = instrument;
    const finished = this.finishedOrders.pop();
    const order = finished === undefined
      ? new Order().open(id, c.accountId, c.instrumentId, c.clientOrderId, c.side, c.orderType, c.tif, price, c.stopPriceTicks, c.qtyLots, c.qtyLots, c.displayQtyLots, c.postOnly, c.sessionId, makerFeeBps, takerFeeBps, cash, position)
      : finished.open(id, c.accountId, c.instrumentId, c.clientOrderId, c.side, c.orderType, c.tif, price, c.stopPriceTicks, c.qtyLots, c.qtyLots, c.displayQtyLots, c.postOnly, c.sessionId, makerFeeBps, takerFeeBps, cash, position);

    this.nextOrderId += 1;
    account.openOrders += 1;
    this.orders.set(order.id, order);
    this.reserve(order, instrument, "reserve");
    const seq = this.nextSeq();
    const pooled = this.pools.accepted.next();
    this.emit(pooled === null ? this.pools.accepted.adopt(orderAccepted(seq, this.tsUs, order, c)) : orderAcceptedInto(pooled, seq, this.tsUs, order, c));
    if (c.orderType === "stop" || c.orderType === "stop_limit") {
      order.status = "pending_stop";
      instrument.stops.push(order);
    } else {
      this.execute(order, instrument);
    }
    this.triggerStops(instrument);
  }

  /** Runs an active order against the book, then rests it or cancels what is left. */
  private execute(order: Order, instrument: Instrument): void {
    if (order.tif === "FOK" && !this.fillableInFull(order, instrument)) {
      this.cancel(order, instrument, "fok_not_filled");
      return;
    }
    this.match(order, instrument);
    if (order.status === "done") return;
    const immediate = order.tif === "IOC" || order.tif === "FOK" || order.orderType === "market" || order.orderType === "stop";
    if (immediate) {
      const reason: CancelReason = order.orderType === "market" || order.orderType === "stop" ? "market_no_liquidity" : "ioc_remainder";
      this.cancel(order, instrument, reason);
      return;
    }
    order.visible = order.displayQty > 0 ? Math.min(order.displayQty, order.leaves) : order.leaves;
    this.prioritySeq += 1;
    order.priority = this.prioritySeq;
    this.touchLevel(instrument.book.insert(order));
  }

  /**
   * FOK pre-check: can the whole quantity trade now without self-trade prevention or a circuit breaker
   * interfering? It walks the book exactly as `match` will: own orders first meet self-trade prevention,
   * and the circuit band is anchored on the previous fill of the sweep (the last trade moves with every
   * fill), so a FOK that passes cannot be stopped half-filled and one that would fill is never refused.
   */
  private fillableInFull(order: Order, instrument: Instrument): boolean {
    const stpMode = this.accounts.find(order.accountId)?.stpMode ?? "none";
    const book = instrument.book;
    let needed = order.leaves;
    let anchorTicks: number | undefined;
    let maker = book.best(order.isBuy ? "sell" : "buy");
    while (maker !== null) {
      const price = maker.price;
      if (order.isBuy ? price > order.price : price < order.price) return false;
      // Walk one price level. An own order that self-trade prevention would stop at
      // ends the fill there; icebergs ahead of it give only their shown slice, because
      // each replenished slice goes to the back of the level, behind the own order.
      let levelQty = 0;
      let aheadOfOwnQty = 0;
      let blocked = false;
      let priced = false;
      for (; maker !== null && maker.price === price; maker = book.nextAfter(maker)) {
        if (maker.accountId === order.accountId && stpMode !== "none") {
          if (stpMode === "cancel_oldest") continue;
          blocked = true;
          break;
        }
        if (!priced) {
          // The first fill at this price must not break the circuit band.
          if (instrument.breaksCircuit(price, anchorTicks)) return false;
          priced = true;
        }
        levelQty += maker.leaves;
        aheadOfOwnQty += maker.displayQty > 0 ? maker.visible : maker.leaves;
      }
      if (blocked) return needed <= aheadOfOwnQty;
      if (priced) anchorTicks = price;
      needed -= levelQty;
      if (needed <= 0) return true;
    }
    return false;
  }

  private match(order: Order, instrument: Instrument): void {
    const book = instrument.book;
    const opposite = order.isBuy ? "sell" : "buy";
    while (order.leaves > 0) {
      const maker = book.best(opposite);
      if (maker === null) return;
      if (order.isBuy ? maker.price > order.price : maker.price < order.price) return;
      if (maker.accountId === order.accountId) {
        const mode = this.accounts.find(order.accountId)?.stpMode ?? "none";
        if (mode !== "none") {
          if (!this.preventSelfTrade(order, maker, instrument)) return;
          continue;
        }
      }
      // After self-trade prevention: a pair that STP keeps apart never trades, so it cannot move the price.
      if (instrument.breaksCircuit(maker.price)) {
        this.haltForCircuitBreaker(instrument);
        this.cancel(order, instrument, "circuit_breaker");
        return;
      }
      this.trade(instrument, maker, order);
    }
  }

  /** Applies the account's self-trade prevention; returns whether the aggressor may keep matching. */
  private preventSelfTrade(taker: Order, maker: Order, instrument: Instrument): boolean {
    const mode = this.accounts.get(taker.accountId)?.stpMode ?? "none";
    switch (mode) {
      case "none":
        return true;
      case "cancel_newest":
        this.cancel(taker, instrument, "self_trade_prevention");
        return false;
      case "cancel_oldest":
        this.cancel(maker, instrument, "self_trade_prevention");
        return true;
      case "cancel_both":
        this.cancel(maker, instrument, "self_trade_prevention");
        this.cancel(taker, instrument, "self_trade_prevention");
        return false;
      case "decrement_and_cancel": {
        const qty = Math.min(taker.leaves, maker.leaves);
        this.decrement(maker, instrument, qty);
        this.decrement(taker, instrument, qty);
        return taker.status !== "done";
      }
      default:
        return unreachable(mode, "self-trade prevention mode");
    }
  }

  /** Removes `qty` from an order without trading it; the order ends when nothing is left. */
  private decrement(order: Order, instrument: Instrument, qty: number): void {
    if (qty >= order.leaves) {
      this.cancel(order, instrument, "self_trade_prevention");
      return;
    }
    order.leaves -= qty;
    if (order.level !== null && order.visible > order.leaves) {
      this.touchLevel(order.level);
      instrument.book.changeVisible(order, order.leaves - order.visible);
    }
    this.reserve(order, instrument, "release");
    this.emitCancelled(order, qty, "self_trade_prevention");
  }

  private trade(instrument: Instrument, maker: Order, taker: Order): void {
    const qty = Math.min(taker.leaves, maker.visible);
    const price = maker.price;
    const notional = price * qty * instrument.tickValueMinor;
    const makerFee = Math.floor((notional * maker.makerFeeBps) / 10_000);
    const takerFee = Math.floor((notional * taker.takerFeeBps) / 10_000);
    const buyer = taker.isBuy ? taker : maker;
    const seller = taker.isBuy ? maker : taker;
    buyer.cash.balance -= notional + (taker.isBuy ? takerFee : makerFee);
    seller.cash.balance += notional - (taker.isBuy ? makerFee : takerFee);
    buyer.position.position += qty;
    seller.position.position -= qty;
    if (!instrument.feeCurrencyListed) this.listFeeCurrency(instrument);
    instrument.feesUnfoldedMinor += makerFee + takerFee;

    const level = maker.level;
    assert(level !== null, "maker is not resting");
    this.touchLevel(level);
    instrument.book.changeVisible(maker, -qty);
    maker.leaves -= qty;
    maker.filled += qty;
    taker.leaves -= qty;
    taker.filled += qty;
    this.reserve(maker, instrument, "trade");
    this.reserve(taker, instrument, "trade");
    this.touchCash(buyer.cash, "trade");
    this.touchCash(seller.cash, "trade");
    this.touchPosition(buyer.position, "trade");
    this.touchPosition(seller.position, "trade");
    instrument.lastPriceTicks = price;

    const seq = this.nextSeq();
    const pooled = this.pools.trade.next();
    this.emit(pooled === null ? this.pools.trade.adopt(tradeExecuted(seq, this.tsUs, this.nextTradeId, instrument.id, price, qty, notional, maker, taker, makerFee, takerFee)) : tradeExecutedInto(pooled, seq, this.tsUs, this.nextTradeId, instrument.id, price, qty, notional, maker, taker, makerFee, takerFee));
    this.nextTradeId += 1;

    if (maker.leaves === 0) {
      instrument.book.remove(maker);
      this.finish(maker);
    } else if (maker.visible === 0) {
      // Iceberg: show the next slice at the back of the queue (it loses priority).
      this.prioritySeq += 1;
      maker.priority = this.prioritySeq;
      instrument.book.changeVisible(maker, Math.min(maker.displayQty, maker.leaves));
      instrument.book.moveToBack(maker);
    }
    if (taker.leaves === 0) this.finish(taker);
  }

  /** Retires an order that has no open quantity left. */
  private finish(order: Order): void {
    assert(order.leaves === 0 && order.reservedCash === 0 && order.reservedLots === 0, "finishing an order that still holds quantity");
    order.status = "done";
    this.orders.delete(order.id);
    // The order's cash slot leads to its account without a lookup by id.
    const account = order.cash.account;
    assert(account !== null, "order of an unknown account");
    account.openOrders -= 1;
    if (this.finishedOrders.length < finishedOrdersKept) this.finishedOrders.push(order);
  }

  /** Cancels everything an open order has left, wherever it is (book, stop list, or being matched). */
  private cancel(order: Order, instrument: Instrument, reason: CancelReason): void {
    assert(order.status !== "done", "cancel of a finished order");
    const cancelled = order.leaves;
    if (order.level !== null) this.touchLevel(instrument.book.remove(order));
    if (order.status === "pending_stop") {
      const at = instrument.stops.indexOf(order);
      assert(at >= 0, "pending stop missing from its list");
      instrument.stops.splice(at, 1);
    }
    order.leaves = 0;
    this.reserve(order, instrument, "release");
    this.emitCancelled(order, cancelled, reason);
    this.finish(order);
  }

  private haltForCircuitBreaker(instrument: Instrument): void {
    instrument.state = "halted";
    this.emit({
      type: "TradingStateChanged",
      seq: this.nextSeq(),
      tsUs: this.tsUs,
      instrumentId: instrument.id,
      state: "halted",
      reason: "circuit_breaker",
    });
  }

  /** Triggers pending stops by last trade price; stops triggered by the same price go in acceptance order. */
  private triggerStops(instrument: Instrument): void {
    // The common case, no stop waiting, must cost nothing: this runs after every order. The work
    // is in another method because a function with a closure allocates its context on entry.
    if (instrument.stops.length !== 0) this.triggerPendingStops(instrument);
  }

  private triggerPendingStops(instrument: Instrument): void {
    // Each stop is queued with the last price that triggered it: OrderTriggered reports that price,
    // not the price reached after earlier stops of the same batch traded (which may not satisfy it).
    const queue: Array<{ readonly stop: Order; readonly lastPriceTicks: number }> = [];
    const collect = (): void => {
      const last = instrument.lastPriceTicks;
      if (last === 0 || instrument.stops.length === 0) return;
      for (let i = 0; i < instrument.stops.length; ) {
        const stop = instrument.stops[i] as Order;
        if (stop.isBuy ? last >= stop.stopPrice : last <= stop.stopPrice) {
          instrument.stops.splice(i, 1);
          queue.push({ stop, lastPriceTicks: last });
        } else i += 1;
      }
    };
    collect();
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (instrument.state !== "open") {
        // Halted by a circuit breaker mid-cascade: untriggered stops wait for the resumption.
        instrument.stops.push(next.stop, ...queue.map((entry) => entry.stop));
        instrument.stops.sort((a, b) => a.id - b.id);
        return;
      }
      const stop = next.stop;
      stop.status = "active";
      this.emit({
        type: "OrderTriggered",
        seq: this.nextSeq(),
        tsUs: this.tsUs,
        orderId: stop.id,
        accountId: stop.accountId,
        instrumentId: stop.instrumentId,
        lastPriceTicks: next.lastPriceTicks,
      });
      this.execute(stop, instrument);
      collect();
    }
  }

  private ownedOrder(command: "CancelOrder" | "ReplaceOrder", accountId: number, orderId: number): Order | null {
    const order = this.orders.get(orderId);
    // Another account's order is reported as unknown: its existence is not ours to reveal.
    if (order === undefined || order.accountId !== accountId) {
      this.reject(command, "unknown_order", { accountId, orderId });
      return null;
    }
    return order;
  }

  private instrumentOf(order: Order): Instrument {
    const instrument = this.instruments.find(order.instrumentId);
    assert(instrument !== undefined, "order of an unknown instrument");
    return instrument;
  }

  private cancelOrder(c: CancelOrder): void {
    const order = this.ownedOrder("CancelOrder", c.accountId, c.orderId);
    if (order !== null) this.cancel(order, this.instrumentOf(order), "user_request");
  }

  private replaceOrder(c: ReplaceOrder): void {
    const ids = { accountId: c.accountId, orderId: c.orderId };
    const order = this.ownedOrder("ReplaceOrder", c.accountId, c.orderId);
    if (order === null) return;
    const instrument = this.instrumentOf(order);
    if (order.orderType !== "limit" || order.level === null) return this.reject("ReplaceOrder", "order_not_replaceable", ids);
    if (instrument.state !== "open") {
      return this.reject("ReplaceOrder", instrument.state === "halted" ? "instrument_halted" : "instrument_closed", ids);
    }
    if (!inRange(c.priceTicks, 1, priceTicksMax)) return this.reject("ReplaceOrder", "invalid_price", ids);
    if (!inRange(c.qtyLots, 1, qtyLotsMax)) return this.reject("ReplaceOrder", "invalid_quantity", ids);
    const done = order.qty - order.leaves;
    const leaves = c.qtyLots - done;
    if (leaves <= 0) return this.reject("ReplaceOrder", "replace_qty_below_filled", ids);
    if (c.priceTicks === order.price && c.qtyLots === order.qty) return this.reject("ReplaceOrder", "replace_no_change", ids);
    if (c.qtyLots > instrument.maxOrderQtyLots) return this.reject("ReplaceOrder", "max_quantity_exceeded", ids);
    if (c.priceTicks > instrument.collarHigh() || c.priceTicks < instrument.collarLow()) {
      return this.reject("ReplaceOrder", "price_outside_collar", ids);
    }
    if (c.priceTicks * c.qtyLots * instrument.tickValueMinor > instrument.maxOrderNotionalMinor) {
      return this.reject("ReplaceOrder", "max_notional_exceeded", ids);
    }
    if (order.displayQty > leaves && order.displayQty > 0) {
      // An iceberg whose peak would exceed its open quantity is no longer well formed.
      return this.reject("ReplaceOrder", "invalid_quantity", ids);
    }
    const priceChanged = c.priceTicks !== order.price;
    if (order.postOnly && priceChanged && this.crossesBook(instrument, order.isBuy, c.priceTicks)) {
      return this.reject("ReplaceOrder", "post_only_would_cross", ids);
    }
    if (order.isBuy) {
      const need = cashFor(c.priceTicks, leaves, instrument.tickValueMinor, Math.max(order.makerFeeBps, order.takerFeeBps));
      if (order.cash.balance - order.cash.reserved + order.reservedCash < need) return this.reject("ReplaceOrder", "insufficient_funds", ids);
    } else if (order.position.position - order.position.reserved + order.reservedLots < leaves) {
      return this.reject("ReplaceOrder", "insufficient_position", ids);
    }

    const keepPriority = !priceChanged && leaves <= order.leaves;
    const level = order.level;
    this.touchLevel(level);
    if (keepPriority) {
      order.qty = c.qtyLots;
      order.leaves = leaves;
      if (order.visible > leaves) instrument.book.changeVisible(order, leaves - order.visible);
    } else {
      instrument.book.remove(order);
      order.price = c.priceTicks;
      order.qty = c.qtyLots;
      order.leaves = leaves;
      order.visible = 0;
    }
    this.reserve(order, instrument, keepPriority ? "release" : "reserve");
    const seq = this.nextSeq();
    const pooled = this.pools.replaced.next();
    this.emit(pooled === null ? this.pools.replaced.adopt(orderReplaced(seq, this.tsUs, order, keepPriority)) : orderReplacedInto(pooled, seq, this.tsUs, order, keepPriority));
    if (!keepPriority) {
      this.execute(order, instrument);
      this.triggerStops(instrument);
    }
  }

  private cancelWhere(reason: CancelReason, predicate: (order: Order) => boolean): void {
    for (const order of [...this.orders.values()]) {
      if (order.status !== "done" && predicate(order)) this.cancel(order, this.instrumentOf(order), reason);
    }
  }

  private massCancel(c: MassCancel): void {
    if (c.accountId !== 0 && !this.accounts.has(c.accountId)) return this.reject("MassCancel", "unknown_account", { accountId: c.accountId });
    if (c.instrumentId !== 0 && !this.instruments.has(c.instrumentId)) {
      return this.reject("MassCancel", "unknown_instrument", { accountId: c.accountId });
    }
    this.cancelWhere(
      "mass_cancel",
      (order) => (c.accountId === 0 || order.accountId === c.accountId) && (c.instrumentId === 0 || order.instrumentId === c.instrumentId),
    );
  }

  private openSession(c: OpenSession): void {
    const ids = { accountId: c.accountId };
    if (!inRange(c.sessionId, 1, Number.MAX_SAFE_INTEGER)) return this.reject("OpenSession", "unknown_session", ids);
    if (this.sessions.has(c.sessionId)) return this.reject("OpenSession", "session_exists", ids);
    // An id whose earlier session still has open orders is not reusable: closing the new
    // session must never cancel orders the old one entered.
    for (const order of this.orders.values()) {
      if (order.sessionId === c.sessionId) return this.reject("OpenSession", "session_exists", ids);
    }
    if (!this.accounts.has(c.accountId)) return this.reject("OpenSession", "unknown_account", ids);
    this.sessions.set(c.sessionId, { sessionId: c.sessionId, accountId: c.accountId, cancelOnDisconnect: c.cancelOnDisconnect });
    this.emit({
      type: "SessionOpened",
      seq: this.nextSeq(),
      tsUs: this.tsUs,
      sessionId: c.sessionId,
      accountId: c.accountId,
      cancelOnDisconnect: c.cancelOnDisconnect,
    });
  }

  private closeSession(c: CloseSession): void {
    const session = this.sessions.get(c.sessionId);
    if (session === undefined) return this.reject("CloseSession", "unknown_session", {});
    this.sessions.delete(c.sessionId);
    // Session ids may be reused once closed, so an order's session id alone does not say which
    // connection entered it: never cancel another account's orders on this one's disconnect.
    if (session.cancelOnDisconnect) {
      this.cancelWhere("session_disconnect", (order) => order.sessionId === c.sessionId && order.accountId === session.accountId);
    }
    this.emit({ type: "SessionClosed", seq: this.nextSeq(), tsUs: this.tsUs, sessionId: c.sessionId });
  }

  // ── Reference data ──────────────────────────────────────────────────────

  private validLimits(l: {
    priceBandBps: number;
    circuitBandBps: number;
    maxOrderQtyLots: number;
    maxOrderNotionalMinor: number;
    makerFeeBps: number;
    takerFeeBps: number;
  }): boolean {
    return (
      inRange(l.priceBandBps, 1, bpsMax) &&
      inRange(l.circuitBandBps, 1, bpsMax) &&
      inRange(l.maxOrderQtyLots, 1, qtyLotsMax) &&
      inRange(l.maxOrderNotionalMinor, 1, notionalMinorMax) &&
      inRange(l.makerFeeBps, 0, feeBpsMax) &&
      inRange(l.takerFeeBps, 0, feeBpsMax)
    );
  }

  private createInstrument(c: CreateInstrument): void {
    const valid =
      inRange(c.instrumentId, 1, Number.MAX_SAFE_INTEGER) &&
      validText(c.symbol, 16) &&
      validText(c.isin, 16) &&
      validText(c.mic, 16) &&
      validText(c.tickSize, 16) &&
      validText(c.lotSize, 16) &&
      currencyPattern.test(c.currency) &&
      inRange(c.tickValueMinor, 1, tickValueMinorMax) &&
      inRange(c.referencePriceTicks, 1, priceTicksMax) &&
      this.validLimits(c);
    if (!valid) return this.reject("CreateInstrument", "invalid_instrument", {});
    if (this.instruments.has(c.instrumentId)) return this.reject("CreateInstrument", "instrument_exists", {});
    // Field by field, in a fixed order: the caller's key order must not reach events or snapshots.
    const spec: InstrumentSpec = {
      instrumentId: c.instrumentId,
      symbol: c.symbol,
      isin: c.isin,
      mic: c.mic,
      currency: c.currency,
      tickSize: c.tickSize,
      lotSize: c.lotSize,
      tickValueMinor: c.tickValueMinor,
      referencePriceTicks: c.referencePriceTicks,
      priceBandBps: c.priceBandBps,
      circuitBandBps: c.circuitBandBps,
      maxOrderQtyLots: c.maxOrderQtyLots,
      maxOrderNotionalMinor: c.maxOrderNotionalMinor,
      makerFeeBps: c.makerFeeBps,
      takerFeeBps: c.takerFeeBps,
    };
    this.instruments.set(c.instrumentId, new Instrument(spec, this.bookFactory(c.instrumentId)));
    this.emit({ type: "InstrumentCreated", seq: this.nextSeq(), tsUs: this.tsUs, ...spec });
  }

  private updateInstrument(c: UpdateInstrument): void {
    const instrument = this.instruments.get(c.instrumentId);
    if (instrument === undefined) return this.reject("UpdateInstrument", "unknown_instrument", {});
    if (!this.validLimits(c)) return this.reject("UpdateInstrument", "invalid_instrument", {});
    instrument.priceBandBps = c.priceBandBps;
    instrument.circuitBandBps = c.circuitBandBps;
    instrument.maxOrderQtyLots = c.maxOrderQtyLots;
    instrument.maxOrderNotionalMinor = c.maxOrderNotionalMinor;
    instrument.makerFeeBps = c.makerFeeBps;
    instrument.takerFeeBps = c.takerFeeBps;
    this.emit({
      type: "InstrumentUpdated",
      seq: this.nextSeq(),
      tsUs: this.tsUs,
      instrumentId: c.instrumentId,
      priceBandBps: c.priceBandBps,
      circuitBandBps: c.circuitBandBps,
      maxOrderQtyLots: c.maxOrderQtyLots,
      maxOrderNotionalMinor: c.maxOrderNotionalMinor,
      makerFeeBps: c.makerFeeBps,
      takerFeeBps: c.takerFeeBps,
    });
  }

  private setReferencePrice(c: SetReferencePrice): void {
    const instrument = this.instruments.get(c.instrumentId);
    if (instrument === undefined) return this.reject("SetReferencePrice", "unknown_instrument", {});
    if (!inRange(c.priceTicks, 1, priceTicksMax)) return this.reject("SetReferencePrice", "invalid_price", {});
    instrument.referencePriceTicks = c.priceTicks;
    this.emit({ type: "ReferencePriceSet", seq: this.nextSeq(), tsUs: this.tsUs, instrumentId: c.instrumentId, priceTicks: c.priceTicks });
  }

  private setTradingState(c: SetTradingState): void {
    const instrument = this.instruments.get(c.instrumentId);
    if (instrument === undefined) return this.reject("SetTradingState", "unknown_instrument", {});
    instrument.state = c.state;
    this.emit({ type: "TradingStateChanged", seq: this.nextSeq(), tsUs: this.tsUs, instrumentId: c.instrumentId, state: c.state, reason: "operator" });
    // Stops that the last price already crossed fire as soon as trading resumes.
    if (c.state === "open") this.triggerStops(instrument);
  }

  // ── Accounts ────────────────────────────────────────────────────────────

  private createAccount(c: CreateAccount): void {
    const ids = { accountId: c.accountId };
    const valid =
      inRange(c.accountId, 1, Number.MAX_SAFE_INTEGER) &&
      inRange(c.firmId, 1, Number.MAX_SAFE_INTEGER) &&
      inRange(c.openOrdersMax, 1, openOrdersPerAccountMax) &&
      inRange(c.ordersPerSecondMax, 1, ordersPerSecondPerAccountMax);
    if (!valid) return this.reject("CreateAccount", "invalid_account", ids);
    if (this.accounts.has(c.accountId)) return this.reject("CreateAccount", "account_exists", ids);
    this.accounts.set(c.accountId, new Account(c.accountId, c.firmId, c.stpMode, c.openOrdersMax, c.ordersPerSecondMax));
    this.emit({
      type: "AccountCreated",
      seq: this.nextSeq(),
      tsUs: this.tsUs,
      accountId: c.accountId,
      firmId: c.firmId,
      stpMode: c.stpMode,
      openOrdersMax: c.openOrdersMax,
      ordersPerSecondMax: c.ordersPerSecondMax,
    });
  }

  private movePaymentCash(c: CreditCash | DebitCash): void {
    const key = `${c.type === "CreditCash" ? "C" : "D"}:${c.paymentId}`;
    if (c.paymentId.length === 0 || c.paymentId.length > paymentIdCharsMax) return this.reject(c.type, "invalid_payment_id", { accountId: c.accountId });
    if (this.paymentsApplied.has(key)) return this.reject(c.type, "duplicate_payment", { accountId: c.accountId });
    if (this.moveCash(c)) this.paymentsApplied.set(key, c.tsUs);
  }

  /** Moves cash in or out of an account; true when it moved (else a rejection was emitted). */
  private moveCash(c: DepositCash | WithdrawCash | CreditCash | DebitCash): boolean {
    const ids = { accountId: c.accountId };
    const account = this.accounts.get(c.accountId);
    if (account === undefined) return this.refuse(c.type, "unknown_account", ids);
    if (!currencyPattern.test(c.currency)) return this.refuse(c.type, "invalid_currency", ids);
    if (!inRange(c.amountMinor, 1, cashMinorMax)) return this.refuse(c.type, "invalid_amount", ids);
    const slot = account.cash.get(c.currency);
    if (c.type === "DepositCash" || c.type === "CreditCash") {
      // Trades only move cash between accounts and fee income, so bounding the total
      // in the shard bounds every balance: no credit can ever leave the safe integers.
      const outstanding = this.cashOutstanding.get(c.currency) ?? 0;
      if (outstanding > cashMinorMax - c.amountMinor) return this.refuse(c.type, "balance_limit", ids);
      this.cashOutstanding.set(c.currency, outstanding + c.amountMinor);
      const target = slot ?? account.cashSlot(c.currency);
      target.balance += c.amountMinor;
      this.touchCash(target, c.type === "CreditCash" ? "payment_in" : "deposit");
    } else {
      if (slot === undefined || slot.balance - slot.reserved < c.amountMinor) return this.refuse(c.type, "insufficient_funds", ids);
      slot.balance -= c.amountMinor;
      this.cashOutstanding.set(c.currency, (this.cashOutstanding.get(c.currency) ?? 0) - c.amountMinor);
      this.touchCash(slot, c.type === "DebitCash" ? "payment_out" : "withdrawal");
    }
    return true;
  }

  /** `reject`, answering false: for paths that report whether they applied. */
  private refuse(command: CommandType, reason: RejectCode, ids: { accountId?: number }): false {
    this.reject(command, reason, ids);
    return false;
  }

  private moveSecurities(c: DepositSecurities | WithdrawSecurities): void {
    const ids = { accountId: c.accountId };
    const account = this.accounts.get(c.accountId);
    if (account === undefined) return this.reject(c.type, "unknown_account", ids);
    if (!this.instruments.has(c.instrumentId)) return this.reject(c.type, "unknown_instrument", ids);
    if (!inRange(c.qtyLots, 1, qtyLotsMax)) return this.reject(c.type, "invalid_quantity", ids);
    const slot = account.positions.get(c.instrumentId);
    if (c.type === "DepositSecurities") {
      const outstanding = this.lotsOutstanding.get(c.instrumentId) ?? 0;
      if (outstanding > positionLotsMax - c.qtyLots) return this.reject(c.type, "balance_limit", ids);
      this.lotsOutstanding.set(c.instrumentId, outstanding + c.qtyLots);
      const target = slot ?? account.positionSlot(c.instrumentId);
      target.position += c.qtyLots;
      this.touchPosition(target, "deposit");
    } else {
      if (slot === undefined || slot.position - slot.reserved < c.qtyLots) return this.reject(c.type, "insufficient_position", ids);
      slot.position -= c.qtyLots;
      this.lotsOutstanding.set(c.instrumentId, (this.lotsOutstanding.get(c.instrumentId) ?? 0) - c.qtyLots);
      this.touchPosition(slot, "withdrawal");
    }
  }

  private setKillSwitch(c: SetKillSwitch): void {
    if (c.scope === "account") {
      const account = this.accounts.get(c.id);
      if (account === undefined) return this.reject("SetKillSwitch", "unknown_account", { accountId: c.id });
      account.killed = c.active;
    } else {
      if (!inRange(c.id, 1, Number.MAX_SAFE_INTEGER)) return this.reject("SetKillSwitch", "invalid_account", {});
      if (c.active) this.killedFirms.add(c.id);
      else this.killedFirms.delete(c.id);
    }
    this.emit({ type: "KillSwitchSet", seq: this.nextSeq(), tsUs: this.tsUs, scope: c.scope, id: c.id, active: c.active });
    if (c.active) {
      this.cancelWhere("kill_switch", (order) =>
        c.scope === "account" ? order.accountId === c.id : this.accounts.get(order.accountId)?.firmId === c.id,
      );
    }
  }

  private endOfDay(): void {
    for (const order of [...this.orders.values()]) {
      if (order.tif !== "DAY") continue;
      const instrument = this.instrumentOf(order);
      const expired = order.leaves;
      if (order.level !== null) this.touchLevel(instrument.book.remove(order));
      if (order.status === "pending_stop") instrument.stops.splice(instrument.stops.indexOf(order), 1);
      order.leaves = 0;
      this.reserve(order, instrument, "release");
      this.emit({
        type: "OrderExpired",
        seq: this.nextSeq(),
        tsUs: this.tsUs,
        orderId: order.id,
        accountId: order.accountId,
        instrumentId: order.instrumentId,
        expiredQtyLots: expired,
      });
      this.finish(order);
    }
    for (const account of this.accounts.values()) account.clientOrderIds.clear();
    for (const [key, tsUs] of this.paymentsApplied) if (this.tsUs - tsUs > paymentRetentionUs) this.paymentsApplied.delete(key);
    this.emit({ type: "DayEnded", seq: this.nextSeq(), tsUs: this.tsUs });
  }
}

/** The functional form: `apply(state, command) → events`. */
export function apply(engine: Engine, command: Command): EngineEvent[] {
  return engine.apply(command);
}
