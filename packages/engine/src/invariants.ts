/**
 * Whole-state invariant checks, cheap enough to run after every command in tests
 * and simulations and at every snapshot in production. Each violation is named;
 * an empty list means the state is sound.
 *
 * What must hold between commands:
 * - every open order has open quantity, a status that matches where it is (in
 *   the book when active, in its instrument's stop list when pending), and only
 *   orders that may rest (limit or triggered stop-limit, GTC or DAY) rest;
 * - a resting order shows all it has left, or an iceberg slice of it;
 * - each order reserves exactly what its open quantity needs (cash for a buy at
 *   its price plus the larger of its fees, lots for a sell), each account
 *   reserves the sum of its orders' reservations, and 0 ≤ reserved ≤ balance;
 * - balances and positions are safe integers within the platform's limits;
 * - open-order counts match, stay within the account limit, and accounts under
 *   a kill switch have no open orders;
 * - books are uncrossed, in price then time order, and their level totals equal
 *   the sum of their orders;
 * - no pending stop of an open instrument has a trigger the last price crossed;
 * - the outstanding deposit totals equal the cash (with fee income) and
 *   securities held, so the bound on deposits bounds every balance.
 */
import type { Side } from "@tradestream/contracts";
import type { Engine } from "./engine.ts";
import type { Instrument } from "./instrument.ts";
import { cashMinorMax, positionLotsMax } from "./limits.ts";
import type { Order } from "./order.ts";

/** Cash a buy order needs for its open quantity: notional at its price plus the larger of its fees, floored as charged. */
function cashNeeded(order: Order, instrument: Instrument): number {
  if (!order.isBuy) return 0;
  const notional = order.price * order.leaves * instrument.tickValueMinor;
  return notional + Math.floor((notional * Math.max(order.makerFeeBps, order.takerFeeBps)) / 10_000);
}

function inLimit(value: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= max;
}

function orderViolations(engine: Engine, order: Order, problems: string[]): void {
  if (order.leaves <= 0) problems.push(`order ${order.id} is open with ${order.leaves} lots left`);
  if (order.filled + order.leaves > order.qty) problems.push(`order ${order.id} has more open than ordered`);
  if (order.status === "done") problems.push(`order ${order.id} is done but still registered`);
  if (order.status === "active" && order.level === null) problems.push(`order ${order.id} is active but not resting`);
  if (order.status === "pending_stop" && order.level !== null) problems.push(`order ${order.id} is a pending stop but rests in the book`);
  const instrument = engine.instruments.get(order.instrumentId);
  if (instrument === undefined) {
    problems.push(`order ${order.id} names unknown instrument ${order.instrumentId}`);
    return;
  }
  if (order.level !== null) {
    const restable = (order.orderType === "limit" || order.orderType === "stop_limit") && (order.tif === "GTC" || order.tif === "DAY");
    if (!restable) problems.push(`order ${order.id} (${order.orderType} ${order.tif}) rests in the book`);
    const visibleMax = order.displayQty > 0 ? Math.min(order.displayQty, order.leaves) : order.leaves;
    const visibleOk = order.displayQty > 0 ? order.visible > 0 && order.visible <= visibleMax : order.visible === order.leaves;
    if (!visibleOk) problems.push(`order ${order.id} shows ${order.visible} of ${order.leaves} (peak ${order.displayQty})`);
    if (order.level.price !== order.price || order.level.side !== order.side) problems.push(`order ${order.id} sits in the wrong level`);
  }
  const needCash = cashNeeded(order, instrument);
  if (order.reservedCash !== needCash) problems.push(`order ${order.id} reserves ${order.reservedCash} cash, needs ${needCash}`);
  const needLots = order.isBuy ? 0 : order.leaves;
  if (order.reservedLots !== needLots) problems.push(`order ${order.id} reserves ${order.reservedLots} lots, needs ${needLots}`);
}

function accountViolations(engine: Engine, orders: { cash: Map<object, number>; lots: Map<object, number>; open: Map<number, number> }, problems: string[]): void {
  for (const account of engine.accounts.values()) {
    const open = orders.open.get(account.id) ?? 0;
    if (open !== account.openOrders) problems.push(`account ${account.id} counts ${account.openOrders} open orders, has ${open}`);
    if (account.openOrders > account.openOrdersMax) problems.push(`account ${account.id} has ${account.openOrders} open orders, limit ${account.openOrdersMax}`);
    if (open > 0 && (account.killed || engine.killedFirms.has(account.firmId))) problems.push(`account ${account.id} is under a kill switch with ${open} open orders`);
    for (const slot of account.cash.values()) {
      const need = orders.cash.get(slot) ?? 0;
      if (slot.reserved !== need) problems.push(`account ${account.id} ${slot.currency} reserved ${slot.reserved} ≠ ${need} needed`);
      if (slot.reserved < 0 || slot.reserved > slot.balance) problems.push(`account ${account.id} ${slot.currency} reserved ${slot.reserved} outside [0, ${slot.balance}]`);
      if (!inLimit(slot.balance, cashMinorMax)) problems.push(`account ${account.id} ${slot.currency} balance ${slot.balance} outside [0, ${cashMinorMax}]`);
    }
    for (const slot of account.positions.values()) {
      const need = orders.lots.get(slot) ?? 0;
      if (slot.reserved !== need) problems.push(`account ${account.id} instrument ${slot.instrumentId} reserved ${slot.reserved} lots ≠ ${need} needed`);
      if (slot.reserved < 0 || slot.reserved > slot.position) problems.push(`account ${account.id} instrument ${slot.instrumentId} reserved lots outside [0, position]`);
      if (!inLimit(slot.position, positionLotsMax)) problems.push(`account ${account.id} instrument ${slot.instrumentId} position ${slot.position} outside [0, ${positionLotsMax}]`);
    }
  }
}

function bookViolations(engine: Engine, instrument: Instrument, problems: string[]): number {
  const bestBid = instrument.book.best("buy");
  const bestAsk = instrument.book.best("sell");
  if (bestBid !== null && bestAsk !== null && bestBid.price >= bestAsk.price) {
    problems.push(`instrument ${instrument.id} book crossed: ${bestBid.price} ≥ ${bestAsk.price}`);
  }
  let resting = 0;
  for (const side of ["buy", "sell"] as Side[]) {
    const levels: Array<{ price: number; qty: number; count: number }> = [];
    let previous: Order | null = null;
    instrument.book.forEach(side, (order) => {
      resting += 1;
      if (previous !== null) {
        const worse = side === "buy" ? order.price > previous.price : order.price < previous.price;
        if (worse) problems.push(`instrument ${instrument.id} ${side} side out of price order`);
        if (order.price === previous.price && order.priority < previous.priority) problems.push(`instrument ${instrument.id} ${side} level out of time order`);
      }
      if (engine.orders.get(order.id) !== order) problems.push(`resting order ${order.id} is not registered`);
      if (order.side !== side || order.instrumentId !== instrument.id) problems.push(`order ${order.id} rests in the wrong book or side`);
      const last = levels[levels.length - 1];
      if (last !== undefined && last.price === order.price) {
        last.qty += order.visible;
        last.count += 1;
      } else levels.push({ price: order.price, qty: order.visible, count: 1 });
      previous = order;
    });
    const reported = instrument.book.levels(side);
    if (JSON.stringify(reported) !== JSON.stringify(levels)) {
      problems.push(`instrument ${instrument.id} ${side} levels ${JSON.stringify(reported)} ≠ sum of orders ${JSON.stringify(levels)}`);
    }
    for (const level of levels) {
      const at = instrument.book.levelAt(side, level.price);
      if (at.qty !== level.qty || at.count !== level.count) problems.push(`instrument ${instrument.id} ${side} level ${level.price} reports ${at.qty}/${at.count}`);
    }
  }
  if (instrument.book.size !== resting) problems.push(`instrument ${instrument.id} book size ${instrument.book.size} ≠ ${resting} resting orders`);
  return resting;
}

function stopViolations(engine: Engine, instrument: Instrument, problems: string[]): void {
  let previousId = 0;
  for (const stop of instrument.stops) {
    if (engine.orders.get(stop.id) !== stop || stop.status !== "pending_stop" || stop.instrumentId !== instrument.id) {
      problems.push(`instrument ${instrument.id} stop list holds order ${stop.id}, which is not a pending stop of it`);
    }
    if (stop.id <= previousId) problems.push(`instrument ${instrument.id} stop list is out of acceptance order at ${stop.id}`);
    previousId = stop.id;
    const last = instrument.lastPriceTicks;
    const crossed = last > 0 && (stop.isBuy ? last >= stop.stopPrice : last <= stop.stopPrice);
    if (crossed && instrument.state === "open") problems.push(`stop ${stop.id} at ${stop.stopPrice} should have triggered at last price ${last}`);
  }
}

export function invariantViolations(engine: Engine): string[] {
  const problems: string[] = [];
  const needs = { cash: new Map<object, number>(), lots: new Map<object, number>(), open: new Map<number, number>() };
  const active = new Map<number, number>();
  const pending = new Map<number, number>();
  for (const order of engine.orders.values()) {
    orderViolations(engine, order, problems);
    needs.cash.set(order.cash, (needs.cash.get(order.cash) ?? 0) + order.reservedCash);
    needs.lots.set(order.position, (needs.lots.get(order.position) ?? 0) + order.reservedLots);
    needs.open.set(order.accountId, (needs.open.get(order.accountId) ?? 0) + 1);
    const counts = order.status === "pending_stop" ? pending : active;
    counts.set(order.instrumentId, (counts.get(order.instrumentId) ?? 0) + 1);
  }
  accountViolations(engine, needs, problems);
  for (const instrument of engine.instruments.values()) {
    const resting = bookViolations(engine, instrument, problems);
    if (resting !== (active.get(instrument.id) ?? 0)) problems.push(`instrument ${instrument.id} has ${active.get(instrument.id) ?? 0} active orders, ${resting} resting`);
    stopViolations(engine, instrument, problems);
    if (instrument.stops.length !== (pending.get(instrument.id) ?? 0)) problems.push(`instrument ${instrument.id} stop list holds ${instrument.stops.length} of ${pending.get(instrument.id) ?? 0} pending stops`);
  }
  for (const [currency, fees] of engine.feesCollected) {
    if (!inLimit(fees, cashMinorMax)) problems.push(`fees collected in ${currency} are ${fees}`);
  }
  // The deposit bound relies on the outstanding totals being exactly the cash and securities held.
  for (const [currency, total] of totalCash(engine)) {
    if ((engine.cashOutstanding.get(currency) ?? 0) !== total) problems.push(`${currency} outstanding ${engine.cashOutstanding.get(currency) ?? 0} ≠ ${total} held`);
  }
  for (const [instrumentId, total] of totalPositions(engine)) {
    if ((engine.lotsOutstanding.get(instrumentId) ?? 0) !== total) problems.push(`instrument ${instrumentId} outstanding ${engine.lotsOutstanding.get(instrumentId) ?? 0} ≠ ${total} lots held`);
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
