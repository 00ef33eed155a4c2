/**
 * Orders and price levels: mutable records owned by one engine. A resting
 * order sits in exactly one level's doubly linked queue (O(1) cancel); `visible`
 * is the displayed part (all of `leaves` unless iceberg), and the level's
 * `visibleQty` is the sum of its orders' `visible`. `priority` grows with each
 * (re)insertion so a naive book can order by it and agree with the fast one.
 */
import type { OrderType, Side, TimeInForce } from "@tradestream/contracts";
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

export class Order {
  filled = 0;
  /** Displayed quantity currently in the book (≤ leaves). */
  visible = 0;
  priority = 0;
  reservedCash = 0;
  reservedLots = 0;
  status: OrderStatus = "active";
  level: Level | null = null;
  prev: Order | null = null;
  next: Order | null = null;

  constructor(
    readonly id: number,
    readonly accountId: number,
    readonly instrumentId: number,
    readonly clientOrderId: string,
    readonly side: Side,
    readonly orderType: OrderType,
    readonly tif: TimeInForce,
    /** The price the order matches at or better: the limit, or the protection price of market/stop orders. */
    public price: number,
    readonly stopPrice: number,
    /** Total quantity (replace may change it). */
    public qty: number,
    /** Open quantity: qty − filled − cancelled. */
    public leaves: number,
    readonly displayQty: number,
    readonly postOnly: boolean,
    readonly sessionId: number,
    /** Fee schedule in force when the order was entered: reservations and charges use it. */
    readonly makerFeeBps: number,
    readonly takerFeeBps: number,
    readonly cash: CashSlot,
    readonly position: PositionSlot,
  ) {}

  get isBuy(): boolean {
    return this.side === "buy";
  }
}
