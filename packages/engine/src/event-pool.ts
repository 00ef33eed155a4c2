import type {
  BalanceChanged,
  BookLevelChanged,
  CommandRejected,
  OrderAccepted,
  OrderCancelled,
  OrderReplaced,
  PositionChanged,
  TradeExecuted,
  PlaceOrder,
  CancelReason,
  CommandType,
  RejectCode,
} from "@tradestream/contracts";
import type { CashSlot, PositionSlot } from "./account.ts";
import type { Level, Order } from "./order.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Objects of one event type kept per pool: more than any usual command emits, few enough that a
 * mass cancel of many orders does not pin them all (past this, `take` hands out objects it does
 * not keep).
 */
export const eventsPooledMax = 256;

/**
 * Event objects of one kind, reused command after command by `applyInPlace`. `next` hands out a
 * kept object to write the next event into, or null when none is free or the command is not
 * applied in place: the caller then makes a new event and passes it to `adopt`, which keeps it
 * for later commands when the command is applied in place. `reset`, at the start of each
 * command, frees them all, so what the pool hands out is valid only until the next command.
 */
export class EventPool<T extends object> {
  private readonly kept: T[] = [];
  private used = 0;
  private inPlace = false;

  next(): T | null {
    if (!this.inPlace || this.used >= this.kept.length) return null;
    const kept = this.kept[this.used] as T;
    this.used += 1;
    return kept;
  }

  adopt(made: T): T {
    if (this.inPlace && this.kept.length < eventsPooledMax) {
      this.kept.push(made);
      this.used += 1;
    }
    return made;
  }

  reset(inPlace: boolean): void {
    this.used = 0;
    this.inPlace = inPlace;
  }
}

/** An engine's pools, one per frequent kind. */
export class EventPools {
  readonly accepted = new EventPool<Mutable<OrderAccepted>>();
  readonly rejected = new EventPool<Mutable<CommandRejected>>();
  readonly trade = new EventPool<Mutable<TradeExecuted>>();
  readonly cancelled = new EventPool<Mutable<OrderCancelled>>();
  readonly replaced = new EventPool<Mutable<OrderReplaced>>();
  readonly balance = new EventPool<Mutable<BalanceChanged>>();
  readonly position = new EventPool<Mutable<PositionChanged>>();
  readonly level = new EventPool<Mutable<BookLevelChanged>>();

  /** Frees every kept object for the next command; `inPlace`: whether that command's events may be kept objects. */
  reset(inPlace: boolean): void {
    this.accepted.reset(inPlace);
    this.rejected.reset(inPlace);
    this.trade.reset(inPlace);
    this.cancelled.reset(inPlace);
    this.replaced.reset(inPlace);
    this.balance.reset(inPlace);
    this.position.reset(inPlace);
    this.level.reset(inPlace);
  }
}

// For each frequent kind, a new event and the same fields written into a pooled one. The literal
// lists the keys in the order the event-stream hash walks them (a pooled object was made by it);
// the writes cover every field but the type.

// The order was built from the command's fields (`Order.open` asserts side, type and time in force).
export function orderAccepted(seq: number, tsUs: number, order: Order, c: PlaceOrder): OrderAccepted {
  return {
    type: "OrderAccepted",
    seq,
    tsUs,
    orderId: order.id,
    accountId: c.accountId,
    instrumentId: c.instrumentId,
    clientOrderId: c.clientOrderId,
    side: c.side,
    orderType: c.orderType,
    tif: c.tif,
    priceTicks: c.priceTicks,
    stopPriceTicks: c.stopPriceTicks,
    qtyLots: c.qtyLots,
    displayQtyLots: c.displayQtyLots,
    postOnly: order.postOnly,
  };
}

export function orderAcceptedInto(e: Mutable<OrderAccepted>, seq: number, tsUs: number, order: Order, c: PlaceOrder): OrderAccepted {
  e.seq = seq;
  e.tsUs = tsUs;
  e.orderId = order.id;
  e.accountId = c.accountId;
  e.instrumentId = c.instrumentId;
  e.clientOrderId = c.clientOrderId;
  e.side = c.side;
  e.orderType = c.orderType;
  e.tif = c.tif;
  e.priceTicks = c.priceTicks;
  e.stopPriceTicks = c.stopPriceTicks;
  e.qtyLots = c.qtyLots;
  e.displayQtyLots = c.displayQtyLots;
  e.postOnly = order.postOnly;
  return e;
}

export function commandRejected(seq: number, tsUs: number, command: CommandType, reason: RejectCode, accountId: number, clientOrderId: string, orderId: number): CommandRejected {
  return {
    type: "CommandRejected",
    seq,
    tsUs,
    command: command,
    reason: reason,
    accountId: accountId,
    clientOrderId: clientOrderId,
    orderId: orderId,
  };
}

export function commandRejectedInto(e: Mutable<CommandRejected>, seq: number, tsUs: number, command: CommandType, reason: RejectCode, accountId: number, clientOrderId: string, orderId: number): CommandRejected {
  e.seq = seq;
  e.tsUs = tsUs;
  e.command = command;
  e.reason = reason;
  e.accountId = accountId;
  e.clientOrderId = clientOrderId;
  e.orderId = orderId;
  return e;
}

export function tradeExecuted(seq: number, tsUs: number, tradeId: number, instrumentId: number, priceTicks: number, qtyLots: number, notionalMinor: number, maker: Order, taker: Order, makerFeeMinor: number, takerFeeMinor: number): TradeExecuted {
  return {
    type: "TradeExecuted",
    seq,
    tsUs,
    tradeId: tradeId,
    instrumentId: instrumentId,
    priceTicks: priceTicks,
    qtyLots: qtyLots,
    notionalMinor: notionalMinor,
    takerSide: taker.side,
    makerOrderId: maker.id,
    takerOrderId: taker.id,
    makerAccountId: maker.accountId,
    takerAccountId: taker.accountId,
    makerFeeMinor: makerFeeMinor,
    takerFeeMinor: takerFeeMinor,
  };
}

export function tradeExecutedInto(e: Mutable<TradeExecuted>, seq: number, tsUs: number, tradeId: number, instrumentId: number, priceTicks: number, qtyLots: number, notionalMinor: number, maker: Order, taker: Order, makerFeeMinor: number, takerFeeMinor: number): TradeExecuted {
  e.seq = seq;
  e.tsUs = tsUs;
  e.tradeId = tradeId;
  e.instrumentId = instrumentId;
  e.priceTicks = priceTicks;
  e.qtyLots = qtyLots;
  e.notionalMinor = notionalMinor;
  e.takerSide = taker.side;
  e.makerOrderId = maker.id;
  e.takerOrderId = taker.id;
  e.makerAccountId = maker.accountId;
  e.takerAccountId = taker.accountId;
  e.makerFeeMinor = makerFeeMinor;
  e.takerFeeMinor = takerFeeMinor;
  return e;
}

export function orderCancelled(seq: number, tsUs: number, order: Order, cancelledQtyLots: number, reason: CancelReason): OrderCancelled {
  return {
    type: "OrderCancelled",
    seq,
    tsUs,
    orderId: order.id,
    accountId: order.accountId,
    instrumentId: order.instrumentId,
    cancelledQtyLots: cancelledQtyLots,
    leavesQtyLots: order.leaves,
    reason: reason,
  };
}

export function orderCancelledInto(e: Mutable<OrderCancelled>, seq: number, tsUs: number, order: Order, cancelledQtyLots: number, reason: CancelReason): OrderCancelled {
  e.seq = seq;
  e.tsUs = tsUs;
  e.orderId = order.id;
  e.accountId = order.accountId;
  e.instrumentId = order.instrumentId;
  e.cancelledQtyLots = cancelledQtyLots;
  e.leavesQtyLots = order.leaves;
  e.reason = reason;
  return e;
}

export function orderReplaced(seq: number, tsUs: number, order: Order, priorityKept: boolean): OrderReplaced {
  return {
    type: "OrderReplaced",
    seq,
    tsUs,
    orderId: order.id,
    accountId: order.accountId,
    instrumentId: order.instrumentId,
    priceTicks: order.price,
    qtyLots: order.qty,
    leavesQtyLots: order.leaves,
    priorityKept: priorityKept,
  };
}

export function orderReplacedInto(e: Mutable<OrderReplaced>, seq: number, tsUs: number, order: Order, priorityKept: boolean): OrderReplaced {
  e.seq = seq;
  e.tsUs = tsUs;
  e.orderId = order.id;
  e.accountId = order.accountId;
  e.instrumentId = order.instrumentId;
  e.priceTicks = order.price;
  e.qtyLots = order.qty;
  e.leavesQtyLots = order.leaves;
  e.priorityKept = priorityKept;
  return e;
}

export function balanceChanged(seq: number, tsUs: number, slot: CashSlot): BalanceChanged {
  return {
    type: "BalanceChanged",
    seq,
    tsUs,
    accountId: slot.accountId,
    currency: slot.currency,
    balanceMinor: slot.balance,
    reservedMinor: slot.reserved,
    reason: slot.reason,
  };
}

export function balanceChangedInto(e: Mutable<BalanceChanged>, seq: number, tsUs: number, slot: CashSlot): BalanceChanged {
  e.seq = seq;
  e.tsUs = tsUs;
  e.accountId = slot.accountId;
  e.currency = slot.currency;
  e.balanceMinor = slot.balance;
  e.reservedMinor = slot.reserved;
  e.reason = slot.reason;
  return e;
}

export function positionChanged(seq: number, tsUs: number, slot: PositionSlot): PositionChanged {
  return {
    type: "PositionChanged",
    seq,
    tsUs,
    accountId: slot.accountId,
    instrumentId: slot.instrumentId,
    positionLots: slot.position,
    reservedLots: slot.reserved,
    reason: slot.reason,
  };
}

export function positionChangedInto(e: Mutable<PositionChanged>, seq: number, tsUs: number, slot: PositionSlot): PositionChanged {
  e.seq = seq;
  e.tsUs = tsUs;
  e.accountId = slot.accountId;
  e.instrumentId = slot.instrumentId;
  e.positionLots = slot.position;
  e.reservedLots = slot.reserved;
  e.reason = slot.reason;
  return e;
}

export function bookLevelChanged(seq: number, tsUs: number, level: Level): BookLevelChanged {
  return {
    type: "BookLevelChanged",
    seq,
    tsUs,
    instrumentId: level.instrumentId,
    side: level.side,
    priceTicks: level.price,
    qtyLots: level.visibleQty,
    orderCount: level.count,
  };
}

export function bookLevelChangedInto(e: Mutable<BookLevelChanged>, seq: number, tsUs: number, level: Level): BookLevelChanged {
  e.seq = seq;
  e.tsUs = tsUs;
  e.instrumentId = level.instrumentId;
  e.side = level.side;
  e.priceTicks = level.price;
  e.qtyLots = level.visibleQty;
  e.orderCount = level.count;
  return e;
}

