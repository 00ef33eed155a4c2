/**
 * Whole-state invariant checks, cheap enough to run after every command in tests
 * and simulations and at every snapshot in production. Each violation is named;
 * an empty list means the state is sound.
 */
import type { Side } from "@tradestream/contracts";
import type { Engine } from "./engine.ts";
import type { Order } from "./order.ts";

export function invariantViolations(engine: Engine): string[] {
  const problems: string[] = [];
  const needCash = new Map<object, number>();
  const needLots = new Map<object, number>();
  const openPerAccount = new Map<number, number>();
  for (const order of engine.orders.values()) {
    if (order.leaves <= 0) problems.push(`order ${order.id} is open with ${order.leaves} lots left`);
    if (order.filled + order.leaves > order.qty) problems.push(`order ${order.id} has more open than ordered`);
    if (order.status === "active" && order.level === null) problems.push(`order ${order.id} is active but not resting`);
    if (order.level !== null && (order.visible <= 0 || order.visible > order.leaves)) problems.push(`order ${order.id} shows ${order.visible} of ${order.leaves}`);
    needCash.set(order.cash, (needCash.get(order.cash) ?? 0) + order.reservedCash);
    needLots.set(order.position, (needLots.get(order.position) ?? 0) + order.reservedLots);
    openPerAccount.set(order.accountId, (openPerAccount.get(order.accountId) ?? 0) + 1);
  }
  for (const account of engine.accounts.values()) {
    if ((openPerAccount.get(account.id) ?? 0) !== account.openOrders) problems.push(`account ${account.id} counts ${account.openOrders} open orders`);
    for (const slot of account.cash.values()) {
      if (slot.reserved !== (needCash.get(slot) ?? 0)) problems.push(`account ${account.id} ${slot.currency} reserved ${slot.reserved} ≠ ${needCash.get(slot) ?? 0} needed`);
      if (slot.reserved < 0 || slot.reserved > slot.balance) problems.push(`account ${account.id} ${slot.currency} reserved ${slot.reserved} outside [0, ${slot.balance}]`);
    }
    for (const slot of account.positions.values()) {
      if (slot.reserved !== (needLots.get(slot) ?? 0)) problems.push(`account ${account.id} instrument ${slot.instrumentId} reserved ${slot.reserved} lots ≠ needed`);
      if (slot.reserved < 0 || slot.reserved > slot.position) problems.push(`account ${account.id} instrument ${slot.instrumentId} reserved lots outside [0, position]`);
    }
  }
  for (const instrument of engine.instruments.values()) {
    const bestBid = instrument.book.best("buy");
    const bestAsk = instrument.book.best("sell");
    if (bestBid !== null && bestAsk !== null && bestBid.price >= bestAsk.price) {
      problems.push(`instrument ${instrument.id} book crossed: ${bestBid.price} ≥ ${bestAsk.price}`);
    }
    for (const side of ["buy", "sell"] as Side[]) {
      let previous: Order | null = null;
      instrument.book.forEach(side, (order) => {
        if (previous !== null) {
          const worse = side === "buy" ? order.price > previous.price : order.price < previous.price;
          if (worse) problems.push(`instrument ${instrument.id} ${side} side out of price order`);
          if (order.price === previous.price && order.priority < previous.priority) problems.push(`instrument ${instrument.id} ${side} level out of time order`);
        }
        if (engine.orders.get(order.id) !== order) problems.push(`resting order ${order.id} is not registered`);
        previous = order;
      });
    }
  }
  return problems;
}

/** Cash per currency held by accounts plus fee income: trades must leave it unchanged. */
export function totalCash(engine: Engine): Map<string, number> {
  const totals = new Map<string, number>();
  for (const account of engine.accounts.values()) {
    for (const slot of account.cash.values()) totals.set(slot.currency, (totals.get(slot.currency) ?? 0) + slot.balance);
  }
  for (const [currency, fees] of engine.feesCollected) totals.set(currency, (totals.get(currency) ?? 0) + fees);
  return totals;
}

/** Position per instrument summed over accounts: trades must leave it unchanged. */
export function totalPositions(engine: Engine): Map<number, number> {
  const totals = new Map<number, number>();
  for (const account of engine.accounts.values()) {
    for (const slot of account.positions.values()) totals.set(slot.instrumentId, (totals.get(slot.instrumentId) ?? 0) + slot.position);
  }
  return totals;
}
