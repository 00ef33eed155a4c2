/**
 * Orders and price levels: mutable records owned by one engine. A resting
 * order sits in exactly one level's doubly linked queue (O(1) cancel); `visible`
 * is the displayed part (all of `leaves` unless iceberg), and the level's
 * `visibleQty` is the sum of its orders' `visible`. `priority` grows with each
 * (re)insertion so a naive book can order by it and agree with the fast one.
 *
 * An engine holds one `Order` per open order, so its size is the engine's memory
 * per resting order: the immutable enumerations (side, order type, time in force,
 * post-only) are packed into one small integer, as are the two fees (at most
 * `feeBpsMax` each); the account and instrument ids are read from the order's cash
 * and position slots (which belong to exactly that account and instrument) instead
 * of being stored twice; and one field holds the reservation, which is cash for a
 * buy order and lots for a sell order (the other is always 0).
 */
import type { OrderType, Side, TimeInForce } from "@tradestream/contracts";
import { assert } from "@tradestream/kernel";
import type { CashSlot, PositionSlot } from "./account.ts";

export class Level {
  head: Order | null = null;
  tail: Order | null = null;
  visibleQty = 0;
  count = 0;
  /** The command counter of the last command that changed the level (event dedupe). */
  touchMark = -1;
  constructor(
    readonly instrumentId: number,
    readonly side: Side,
    readonly price: number,
  ) {}
}

export type OrderStatus = "pending_stop" | "active" | "done";

// Layout of `Order.kind`: bit 0 side (0 buy, 1 sell), bits 1–2 order type, bits 3–4 time in force, bit 5 post-only.
const sellBit = 1;
const typeShift = 1;
const tifShift = 3;
const postOnlyBit = 1 << 5;
const orderTypes: readonly OrderType[] = ["limit", "market", "stop", "stop_limit"];
const timesInForce: readonly TimeInForce[] = ["GTC", "DAY", "IOC", "FOK"];

function typeCode(orderType: OrderType): number {
  switch (orderType) {
    case "limit":
      return 0;
    case "market":
      return 1;
    case "stop":
      return 2;
    case "stop_limit":
      return 3;
    default:
      return -1;
  }
}

function tifCode(tif: TimeInForce): number {
  switch (tif) {
    case "GTC":
      return 0;
    case "DAY":
      return 1;
    case "IOC":
      return 2;
    case "FOK":
      return 3;
    default:
      return -1;
  }
}

function packKind(side: Side, orderType: OrderType, tif: TimeInForce, postOnly: boolean): number {
  const type = typeCode(orderType);
  const time = tifCode(tif);
  assert((side === "buy" || side === "sell") && type >= 0 && time >= 0, "order with an unknown side, type or time in force");
  return (side === "sell" ? sellBit : 0) | (type << typeShift) | (time << tifShift) | (postOnly ? postOnlyBit : 0);
}

// Layout of `Order.fees`: maker fee in the bits above `feeBits`, taker fee below (each 0 … 2^feeBits − 1 bps).
const feeBits = 11;
const feeMask = (1 << feeBits) - 1;

function packFees(makerFeeBps: number, takerFeeBps: number): number {
  assert((makerFeeBps & feeMask) === makerFeeBps && (takerFeeBps & feeMask) === takerFeeBps, "order fee outside the packable range");
  return (makerFeeBps << feeBits) | takerFeeBps;
}

export class Order {
  // Fields are declared (not initialised) and assigned once, in this order, by `open` (so an
  // order is made as `new Order().open(…)`): every order gets the same hidden class and no
  // field is written twice. An engine reuses the
  // object of a finished order for a later one (see `open`), so the fields the order keeps
  // for its life are writable here, but nothing changes them while the order is open.
  // The fields a cancel, an insert and a fill touch come first, so that they share as few
  // cache lines as possible: in a deep book the order a command names is usually cold.
  /** Side, order type, time in force and post-only, packed (see `packKind`). */
  declare kind: number;
  /** The price the order matches at or better: the limit, or the protection price of market/stop orders. */
  declare price: number;
  /** Open quantity: qty − filled − cancelled. */
  declare leaves: number;
  /** Displayed quantity currently in the book (≤ leaves). */
  declare visible: number;
  declare level: Level | null;
  declare prev: Order | null;
  declare next: Order | null;
  declare cash: CashSlot;
  declare position: PositionSlot;
  declare status: OrderStatus;
  /** Cash reserved by a buy order, or lots reserved by a sell order (see `reservedCash`, `reservedLots`). */
  declare reserved: number;
  /** Maker and taker fee in basis points, packed (see `makerFeeBps`, `takerFeeBps`). */
  declare fees: number;
  declare id: number;
  declare filled: number;
  declare displayQty: number;
  /** Total quantity (replace may change it). */
  declare qty: number;
  declare priority: number;
  declare clientOrderId: string;
  declare stopPrice: number;
  declare sessionId: number;

  /**
   * Makes this object the open order described by the arguments: on a new object, and
   * on the object of an order that has finished and that nothing refers to any more
   * (the engine does so), so that a new order
   * costs no allocation and resting orders do not churn through the young generation.
   */
  open(
    id: number,
    accountId: number,
    instrumentId: number,
    clientOrderId: string,
    side: Side,
    orderType: OrderType,
    tif: TimeInForce,
    price: number,
    stopPrice: number,
    qty: number,
    leaves: number,
    displayQty: number,
    postOnly: boolean,
    sessionId: number,
    makerFeeBps: number,
    takerFeeBps: number,
    cash: CashSlot,
    position: PositionSlot,
  ): this {
    assert(cash.accountId === accountId && position.accountId === accountId, "order slots belong to another account");
    assert(position.instrumentId === instrumentId, "order position slot belongs to another instrument");
    this.kind = packKind(side, orderType, tif, postOnly);
    this.price = price;
    this.leaves = leaves;
    this.visible = 0;
    this.level = null;
    this.prev = null;
    this.next = null;
    this.cash = cash;
    this.position = position;
    this.status = "active";
    this.reserved = 0;
    this.fees = packFees(makerFeeBps, takerFeeBps);
    this.id = id;
    this.filled = 0;
    this.displayQty = displayQty;
    this.qty = qty;
    this.priority = 0;
    this.clientOrderId = clientOrderId;
    this.stopPrice = stopPrice;
    this.sessionId = sessionId;
    return this;
  }

  get accountId(): number {
    return this.cash.accountId;
  }

  get instrumentId(): number {
    return this.position.instrumentId;
  }

  get side(): Side {
    return (this.kind & sellBit) === 0 ? "buy" : "sell";
  }

  get isBuy(): boolean {
    return (this.kind & sellBit) === 0;
  }

  get orderType(): OrderType {
    return orderTypes[(this.kind >>> typeShift) & 3] as OrderType;
  }

  get tif(): TimeInForce {
    return timesInForce[(this.kind >>> tifShift) & 3] as TimeInForce;
  }

  get postOnly(): boolean {
    return (this.kind & postOnlyBit) !== 0;
  }

  /** Fee schedule in force when the order was entered: reservations and charges use it. */
  get makerFeeBps(): number {
    return this.fees >>> feeBits;
  }

  get takerFeeBps(): number {
    return this.fees & feeMask;
  }

  /** Cash the order holds reserved: a buy order's reservation; a sell order reserves no cash. */
  get reservedCash(): number {
    return (this.kind & sellBit) === 0 ? this.reserved : 0;
  }

  set reservedCash(value: number) {
    if ((this.kind & sellBit) === 0) this.reserved = value;
    else assert(value === 0, "a sell order reserves no cash");
  }

  /** Lots the order holds reserved: a sell order's reservation; a buy order reserves no lots. */
  get reservedLots(): number {
    return (this.kind & sellBit) === 0 ? 0 : this.reserved;
  }

  set reservedLots(value: number) {
    if ((this.kind & sellBit) !== 0) this.reserved = value;
    else assert(value === 0, "a buy order reserves no lots");
  }
}
