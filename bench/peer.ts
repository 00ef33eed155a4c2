// The peer: `nodejs-order-book` fed the same order flow as the engine. Each engine
// command maps to one call: a GTC or IOC limit order → `limit()`, a market order →
// `market()`, a cancel → `cancel()` of the same order id (as a string). Arguments
// are built up front, outside the timed region. The peer has no accounts, risk
// checks or events: it only matches, so it does strictly less work per command.

import { OrderBook, Side, type LimitOrderOptions, type MarketOrderOptions } from "nodejs-order-book";
import type { StreamCommand } from "./workload.ts";

export type PeerOp =
  | { readonly kind: 0; readonly options: LimitOrderOptions }
  | { readonly kind: 1; readonly id: string }
  | { readonly kind: 2; readonly options: MarketOrderOptions };

const ioc = "IOC" as unknown as NonNullable<LimitOrderOptions["timeInForce"]>;

/**
 * Maps engine commands to peer calls. `firstOrderId` is the engine order id of the
 * first PlaceOrder in `commands` (every order is accepted, so ids are consecutive).
 */
export function toPeerOps(commands: readonly StreamCommand[], firstOrderId: number): { ops: PeerOp[]; nextOrderId: number } {
  const ops: PeerOp[] = [];
  let nextOrderId = firstOrderId;
  for (const command of commands) {
    if (command.type === "CancelOrder") {
      ops.push({ kind: 1, id: String(command.orderId) });
      continue;
    }
    const id = String(nextOrderId++);
    const side = command.side === "buy" ? Side.BUY : Side.SELL;
    if (command.orderType === "market") {
      ops.push({ kind: 2, options: { side, size: command.qtyLots } });
    } else if (command.tif === "IOC") {
      ops.push({ kind: 0, options: { id, side, size: command.qtyLots, price: command.priceTicks, timeInForce: ioc } });
    } else {
      ops.push({ kind: 0, options: { id, side, size: command.qtyLots, price: command.priceTicks } });
    }
  }
  return { ops, nextOrderId };
}

export function newPeerBook(): OrderBook {
  return new OrderBook();
}

/** Applies one op; returns 1 when the peer reported an error (counted, never expected). */
export function applyPeer(book: OrderBook, op: PeerOp): number {
  switch (op.kind) {
    case 0:
      return book.limit(op.options).err === null ? 0 : 1;
    case 1:
      return book.cancel(op.id) === undefined ? 1 : 0;
    case 2:
      return book.market(op.options).err === null ? 0 : 1;
  }
}

/** Resting orders in the peer book (its `depth()` reports volume per level, so count orders in a snapshot). */
export function peerRestingOrders(book: OrderBook): number {
  const snapshot = book.snapshot();
  let count = 0;
  for (const level of snapshot.bids) count += level.orders.length;
  for (const level of snapshot.asks) count += level.orders.length;
  return count;
}
