// Seeded, exchange-core-like order flow for the engine benchmark.
//
// The generator simulates a price-time book of its own (independent of the engine)
// so that it knows which orders are live when it emits a cancel and how deep a
// crossing order reaches. The engine numbers accepted orders 1, 2, 3 … in
// acceptance order, and every order of this workload is accepted, so the order id
// of the n-th PlaceOrder is `firstOrderId + n`.
//
// Mix of the measured stream: ~70% passive GTC limit adds within 100 ticks of the
// mid (biased to the top of book), ~20% cancels of a uniformly chosen live order,
// ~10% crossing orders (half market, half marketable IOC limit). A crossing order
// reaches K orders deep, with K = 5 × resting / target: at the target size the book
// loses as many orders as it gains (0.7 adds = 0.2 cancels + 0.1 × 5 fills), so it
// holds around `targetResting` orders. The mid drifts with the sweeps; crossing
// sides lean gently back toward the reference price so it cannot wander off.

import { randomUUID } from "node:crypto";
import type { CancelOrder, Command, PlaceOrder } from "@tradestream/contracts";
import { fixtures } from "../packages/engine/src/index.ts";
import { Rng } from "./stats.ts";

export const referencePriceTicks = 10_000;
export const instrumentId = 1;
const priceCeiling = 2 * referencePriceTicks;
/** Passive orders rest within this many ticks of the mid. */
const passiveDepthTicks = 100;
const passiveQtyMax = 20;

export type StreamCommand = PlaceOrder | CancelOrder;

export interface WorkloadOptions {
  seed: number;
  /** Resting orders the book should hold (prefilled, then held around this size). */
  targetResting: number;
  /** Commands in the measured stream. */
  commands: number;
  accounts?: number;
  /** Id the engine will give the first PlaceOrder of the prefill (1 on a fresh engine). */
  firstOrderId?: number;
}

export interface WorkloadStats {
  passive: number;
  cancels: number;
  markets: number;
  iocs: number;
  /** Trades the simulation expects (one per maker order touched). */
  expectedTrades: number;
  restingAfterPrefill: number;
  restingAtEnd: number;
  restingMin: number;
  restingMax: number;
  restingMean: number;
  midStart: number;
  midEnd: number;
  midMin: number;
  midMax: number;
}

export interface Workload {
  /** Instrument, accounts and deposits. */
  setup: Command[];
  /** Passive adds that bring the book to its target size (not timed). */
  prefill: PlaceOrder[];
  /** The measured stream. */
  stream: StreamCommand[];
  /** Engine order id of the first PlaceOrder of the prefill; later ones follow consecutively. */
  firstOrderId: number;
  stats: WorkloadStats;
}

/** Instrument with limits wide enough that every risk check runs and none rejects. */
export function benchInstrument(): Command {
  return fixtures.instrument({
    instrumentId,
    referencePriceTicks,
    priceBandBps: 10_000,
    circuitBandBps: 10_000,
    maxOrderQtyLots: 1_000_000,
    maxOrderNotionalMinor: 900_000_000_000,
    makerFeeBps: 1,
    takerFeeBps: 2,
  });
}

/** Instrument, `accounts` accounts (STP off) and ample cash and securities for each. */
export function setupCommands(accounts: number): Command[] {
  const out: Command[] = [benchInstrument()];
  for (let id = 1; id <= accounts; id++) {
    out.push(fixtures.account(id, { stpMode: "none", openOrdersMax: 100_000, ordersPerSecondMax: 1_000_000 }));
    out.push({ type: "DepositCash", tsUs: 0, accountId: id, currency: "EUR", amountMinor: 10_000_000_000_000 });
    out.push({ type: "DepositSecurities", tsUs: 0, accountId: id, instrumentId, qtyLots: 10_000_000_000 });
  }
  return out;
}

interface SimOrder {
  readonly id: number;
  readonly accountId: number;
  readonly isBuy: boolean;
  readonly price: number;
  leaves: number;
  /** Position in the live list (for O(1) uniform choice and removal). */
  slot: number;
}

/** A minimal price-time book: one FIFO array per price and side. */
class SimBook {
  readonly bids: Array<SimOrder[] | undefined> = new Array<SimOrder[] | undefined>(priceCeiling + 1);
  readonly asks: Array<SimOrder[] | undefined> = new Array<SimOrder[] | undefined>(priceCeiling + 1);
  bestBid = 0;
  bestAsk = priceCeiling + 1;
  bidCount = 0;
  askCount = 0;
  readonly live: SimOrder[] = [];
  trades = 0;

  get size(): number {
    return this.live.length;
  }

  mid(fallback: number): number {
    if (this.bidCount > 0 && this.askCount > 0) return (this.bestBid + this.bestAsk) / 2;
    if (this.bidCount > 0) return Math.max(fallback, this.bestBid + 1);
    if (this.askCount > 0) return Math.min(fallback, this.bestAsk - 1);
    return fallback;
  }

  add(order: SimOrder): void {
    const levels = order.isBuy ? this.bids : this.asks;
    let level = levels[order.price];
    if (level === undefined) {
      level = [];
      levels[order.price] = level;
    }
    level.push(order);
    if (order.isBuy) {
      this.bidCount++;
      if (order.price > this.bestBid) this.bestBid = order.price;
    } else {
      this.askCount++;
      if (order.price < this.bestAsk) this.bestAsk = order.price;
    }
    order.slot = this.live.length;
    this.live.push(order);
  }

  private unlist(order: SimOrder): void {
    const last = this.live.pop();
    if (last !== undefined && last !== order) {
      last.slot = order.slot;
      this.live[order.slot] = last;
    }
    if (order.isBuy) this.bidCount--;
    else this.askCount--;
  }

  private fixBest(isBuy: boolean): void {
    if (isBuy) {
      while (this.bestBid > 0 && (this.bids[this.bestBid]?.length ?? 0) === 0) this.bestBid--;
    } else {
      while (this.bestAsk <= priceCeiling && (this.asks[this.bestAsk]?.length ?? 0) === 0) this.bestAsk++;
    }
  }

  cancel(order: SimOrder): void {
    const level = (order.isBuy ? this.bids : this.asks)[order.price];
    if (level === undefined) throw new Error("sim: cancel of an order without a level");
    level.splice(level.indexOf(order), 1);
    this.unlist(order);
    this.fixBest(order.isBuy);
  }

  /** Sum of leaves and price of the k-th order from the top of a side (k ≥ 1), walking at most k orders. */
  depth(isBuySide: boolean, k: number): { qty: number; price: number; lastLeaves: number } {
    const levels = isBuySide ? this.bids : this.asks;
    let qty = 0;
    let price = 0;
    let lastLeaves = 0;
    let seen = 0;
    for (let p = isBuySide ? this.bestBid : this.bestAsk; p > 0 && p <= priceCeiling && seen < k; p += isBuySide ? -1 : 1) {
      const level = levels[p];
      if (level === undefined) continue;
      for (const order of level) {
        qty += order.leaves;
        price = p;
        lastLeaves = order.leaves;
        if (++seen === k) break;
      }
    }
    return { qty, price, lastLeaves };
  }

  /** Matches a taker against the opposite side up to `limitPrice` (0 = any price); returns the unfilled rest. */
  match(takerIsBuy: boolean, limitPrice: number, qty: number): number {
    const levels = takerIsBuy ? this.asks : this.bids;
    while (qty > 0) {
      const best = takerIsBuy ? this.bestAsk : this.bestBid;
      if (takerIsBuy ? this.askCount === 0 : this.bidCount === 0) break;
      if (limitPrice !== 0 && (takerIsBuy ? best > limitPrice : best < limitPrice)) break;
      const level = levels[best];
      const maker = level?.[0];
      if (level === undefined || maker === undefined) throw new Error("sim: best level is empty");
      const fill = Math.min(qty, maker.leaves);
      this.trades++;
      qty -= fill;
      maker.leaves -= fill;
      if (maker.leaves === 0) {
        level.shift();
        this.unlist(maker);
        this.fixBest(maker.isBuy);
      }
    }
    return qty;
  }
}

/** Builds the setup, the prefill and the measured stream for one seed. */
export function generateWorkload(options: WorkloadOptions): Workload {
  const accounts = options.accounts ?? 100;
  const rng = new Rng(options.seed);
  const book = new SimBook();
  const firstOrderId = options.firstOrderId ?? 1;
  let nextOrderId = firstOrderId;
  let tsUs = 1;
  let clientCounter = 0;
  let lastMid = referencePriceTicks;

  const place = (isBuy: boolean, orderType: "limit" | "market", tif: "GTC" | "IOC", price: number, qty: number): PlaceOrder => {
    const accountId = rng.int(1, accounts);
    clientCounter++;
    const command =
      orderType === "market"
        ? fixtures.market(accountId, isBuy ? "buy" : "sell", qty, { tsUs, clientOrderId: `o${clientCounter}` })
        : fixtures.limit(accountId, isBuy ? "buy" : "sell", price, qty, { tsUs, clientOrderId: `o${clientCounter}`, tif });
    tsUs++;
    const id = nextOrderId++;
    if (orderType === "limit" && tif === "GTC") {
      const rest = book.match(isBuy, price, qty);
      if (rest > 0) book.add({ id, accountId, isBuy, price, leaves: rest, slot: 0 });
    } else {
      book.match(isBuy, orderType === "market" ? 0 : price, qty);
    }
    return command;
  };

  const passive = (): PlaceOrder => {
    const mid = book.mid(lastMid);
    lastMid = mid;
    const total = book.bidCount + book.askCount;
    const isBuy = rng.next() < 0.5 + (0.5 * (book.askCount - book.bidCount)) / (total + 1);
    const u = rng.next();
    const distance = Math.floor(u * u * passiveDepthTicks);
    let price: number;
    if (isBuy) {
      price = Math.ceil(mid) - 1 - distance;
      if (book.askCount > 0) price = Math.min(price, book.bestAsk - 1);
      price = Math.max(1, price);
    } else {
      price = Math.floor(mid) + 1 + distance;
      if (book.bidCount > 0) price = Math.max(price, book.bestBid + 1);
      price = Math.min(priceCeiling - 1, price);
    }
    return place(isBuy, "limit", "GTC", price, rng.int(1, passiveQtyMax));
  };

  const prefill: PlaceOrder[] = [];
  while (book.size < options.targetResting) prefill.push(passive());
  const restingAfterPrefill = book.size;
  const midStart = book.mid(lastMid);

  const stats: WorkloadStats = {
    passive: 0,
    cancels: 0,
    markets: 0,
    iocs: 0,
    expectedTrades: 0,
    restingAfterPrefill,
    restingAtEnd: 0,
    restingMin: book.size,
    restingMax: book.size,
    restingMean: 0,
    midStart,
    midEnd: midStart,
    midMin: midStart,
    midMax: midStart,
  };
  const tradesBefore = book.trades;
  let restingSum = 0;
  const stream: StreamCommand[] = [];
  for (let i = 0; i < options.commands; i++) {
    const roll = rng.next();
    if (roll < 0.2 && book.size > 0) {
      const order = book.live[rng.int(0, book.size - 1)];
      if (order === undefined) throw new Error("sim: live list out of range");
      book.cancel(order);
      stream.push({ type: "CancelOrder", tsUs, accountId: order.accountId, orderId: order.id });
      tsUs++;
      stats.cancels++;
    } else if (roll < 0.3 && book.bidCount > 0 && book.askCount > 0) {
      const mid = book.mid(lastMid);
      const lean = Math.max(-0.25, Math.min(0.25, (mid - referencePriceTicks) / 4000));
      const takerIsBuy = rng.next() >= 0.5 + lean;
      const k = Math.max(1, Math.round((5 * book.size) / options.targetResting));
      const reach = book.depth(!takerIsBuy, k);
      if (rng.next() < 0.5) {
        // Market: takes the first k orders, leaving part of the k-th one.
        const qty = Math.max(1, reach.qty - rng.int(0, reach.lastLeaves - 1));
        stream.push(place(takerIsBuy, "market", "IOC", 0, qty));
        stats.markets++;
      } else {
        // Marketable IOC limit at the k-th order's price, sometimes asking for more than is there.
        const qty = reach.qty + rng.int(0, passiveQtyMax);
        stream.push(place(takerIsBuy, "limit", "IOC", reach.price, qty));
        stats.iocs++;
      }
    } else {
      stream.push(passive());
      stats.passive++;
    }
    const size = book.size;
    restingSum += size;
    if (size < stats.restingMin) stats.restingMin = size;
    if (size > stats.restingMax) stats.restingMax = size;
    const mid = book.mid(lastMid);
    if (mid < stats.midMin) stats.midMin = mid;
    if (mid > stats.midMax) stats.midMax = mid;
  }
  stats.expectedTrades = book.trades - tradesBefore;
  stats.restingAtEnd = book.size;
  stats.restingMean = Math.round(restingSum / Math.max(1, options.commands));
  stats.midEnd = book.mid(lastMid);
  return { setup: setupCommands(accounts), prefill, stream, firstOrderId, stats };
}

/** How a benchmark's clients spell their client order ids: numbered per account (`c-1`, `c-2` …), time-prefixed like the demo simulator once did (`sim-1-<ms in base 36>-<n>`), or UUIDs. */
export type ClientOrderIdStyle = "counter" | "timed" | "uuid";

/** `value` as a style, or an error naming `flag`. */
export function clientOrderIdStyle(value: string, flag: string): ClientOrderIdStyle {
  if (value !== "counter" && value !== "timed" && value !== "uuid") throw new Error(`${flag} takes counter, timed or uuid, not ${value}`);
  return value;
}

/** `commands` with every PlaceOrder's client order id respelled in `style`, numbered per account; `ids` counts them. */
export function withClientOrderIds(commands: readonly Command[], style: ClientOrderIdStyle): { commands: Command[]; ids: number } {
  const perAccount = new Map<number, number>();
  let ids = 0;
  const respelled = commands.map((command): Command => {
    if (command.type !== "PlaceOrder") return command;
    const n = (perAccount.get(command.accountId) ?? 0) + 1;
    perAccount.set(command.accountId, n);
    ids += 1;
    const clientOrderId = style === "counter" ? `c-${String(n)}` : style === "timed" ? `sim-1-${Math.floor(command.tsUs / 1_000).toString(36)}-${String(n)}` : randomUUID();
    return { ...command, clientOrderId };
  });
  return { commands: respelled, ids };
}
