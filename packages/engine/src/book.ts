/**
 * Order books. `FastBook` is the production book: a map from price to level for
 * O(1) lookup, a sorted array of prices per side with the best price last (so
 * the common case, taking or emptying the best level, is a pop), and an
 * intrusive doubly linked queue per level for O(1) cancel. `ReferenceBook` is a
 * deliberately naive book (one array per side, re-sorted) that the differential
 * tests run beside the fast one: both must produce identical events.
 *
 * The book only orders and stores; matching, risk and events live in the engine.
 */
import type { Side } from "@tradestream/contracts";
import { assert } from "@tradestream/kernel";
import { Level, type Order } from "./order.ts";

export interface OrderBook {
  /** The order with the highest priority on a side, or null. */
  best(side: Side): Order | null;
  /** The order after `order` in priority on its side, or null. */
  nextAfter(order: Order): Order | null;
  /** Appends the order at the back of its price level (its `price`, `side`, `visible` and `priority` are set). */
  insert(order: Order): Level;
  /** Removes a resting order. Returns its level (possibly now empty). */
  remove(order: Order): Level;
  /** Moves a resting order to the back of its level (iceberg replenishment). */
  moveToBack(order: Order): void;
  /** Adjusts the displayed quantity of a resting order by `delta` lots. */
  changeVisible(order: Order, delta: number): void;
  /** Visits every resting order on a side in priority order. */
  forEach(side: Side, visit: (order: Order) => void): void;
  /** The displayed quantity and order count at a price (0, 0 when empty). */
  levelAt(side: Side, price: number): { readonly qty: number; readonly count: number };
  /** Every non-empty level on a side, best first. */
  levels(side: Side): Array<{ readonly price: number; readonly qty: number; readonly count: number }>;
  readonly size: number;
}

/** Sorted prices with the best price at the end: bids ascending, asks descending. */
class SideIndex {
  readonly byPrice = new Map<number, Level>();
  readonly prices: number[] = [];
  bestLevel: Level | null = null;

  constructor(
    readonly instrumentId: number,
    readonly side: Side,
  ) {}

  /** True when price a is worse (further from the top of book) than b. */
  private worse(a: number, b: number): boolean {
    return this.side === "buy" ? a < b : a > b;
  }

  /** First index whose price is not worse than `price` (prices are sorted worst → best). */
  private lowerBound(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.worse(this.prices[mid] as number, price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  levelFor(price: number): Level {
    let level = this.byPrice.get(price);
    if (level !== undefined) return level;
    level = new Level(this.instrumentId, this.side, price);
    this.byPrice.set(price, level);
    const count = this.prices.length;
    if (count === 0 || this.worse(this.prices[count - 1] as number, price)) {
      this.prices.push(price);
      this.bestLevel = level;
    } else {
      this.prices.splice(this.lowerBound(price), 0, price);
    }
    return level;
  }

  drop(level: Level): void {
    this.byPrice.delete(level.price);
    const count = this.prices.length;
    if (this.prices[count - 1] === level.price) {
      this.prices.pop();
      const best = this.prices[count - 2];
      this.bestLevel = best === undefined ? null : (this.byPrice.get(best) ?? null);
    } else {
      const at = this.lowerBound(level.price);
      assert(this.prices[at] === level.price, "level price missing from the sorted index");
      this.prices.splice(at, 1);
    }
  }

  /** The next worse level after `level`, or null. */
  below(level: Level): Level | null {
    const at = this.lowerBound(level.price);
    const price = this.prices[at - 1];
    return price === undefined ? null : (this.byPrice.get(price) ?? null);
  }
}

export class FastBook implements OrderBook {
  private readonly bids: SideIndex;
  private readonly asks: SideIndex;
  size = 0;

  constructor(instrumentId: number) {
    this.bids = new SideIndex(instrumentId, "buy");
    this.asks = new SideIndex(instrumentId, "sell");
  }

  private index(side: Side): SideIndex {
    return side === "buy" ? this.bids : this.asks;
  }

  best(side: Side): Order | null {
    const level = (side === "buy" ? this.bids : this.asks).bestLevel;
    return level === null ? null : level.head;
  }

  nextAfter(order: Order): Order | null {
    if (order.next !== null) return order.next;
    const level = order.level;
    assert(level !== null, "nextAfter on an order that is not resting");
    const below = this.index(order.side).below(level);
    return below === null ? null : below.head;
  }

  insert(order: Order): Level {
    const level = this.index(order.side).levelFor(order.price);
    order.level = level;
    order.next = null;
    order.prev = level.tail;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.count += 1;
    level.visibleQty += order.visible;
    this.size += 1;
    return level;
  }

  private unlink(order: Order, level: Level): void {
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    order.prev = null;
    order.next = null;
  }

  remove(order: Order): Level {
    const level = order.level;
    assert(level !== null, "remove of an order that is not resting");
    this.unlink(order, level);
    level.count -= 1;
    level.visibleQty -= order.visible;
    order.level = null;
    this.size -= 1;
    if (level.count === 0) this.index(order.side).drop(level);
    return level;
  }

  moveToBack(order: Order): void {
    const level = order.level;
    assert(level !== null, "moveToBack of an order that is not resting");
    if (level.tail === order) return;
    this.unlink(order, level);
    order.prev = level.tail;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
  }

  changeVisible(order: Order, delta: number): void {
    const level = order.level;
    assert(level !== null, "changeVisible of an order that is not resting");
    order.visible += delta;
    level.visibleQty += delta;
  }

  forEach(side: Side, visit: (order: Order) => void): void {
    const index = this.index(side);
    for (let i = index.prices.length - 1; i >= 0; i -= 1) {
      const level = index.byPrice.get(index.prices[i] as number);
      for (let order = level?.head ?? null; order !== null; order = order.next) visit(order);
    }
  }

  levelAt(side: Side, price: number): { qty: number; count: number } {
    const level = this.index(side).byPrice.get(price);
    return level === undefined ? { qty: 0, count: 0 } : { qty: level.visibleQty, count: level.count };
  }

  levels(side: Side): Array<{ price: number; qty: number; count: number }> {
    const index = this.index(side);
    const out: Array<{ price: number; qty: number; count: number }> = [];
    for (let i = index.prices.length - 1; i >= 0; i -= 1) {
      const level = index.byPrice.get(index.prices[i] as number);
      if (level !== undefined) out.push({ price: level.price, qty: level.visibleQty, count: level.count });
    }
    return out;
  }
}

/**
 * The naive reference: every side is one array kept sorted by (price, priority)
 * with a full sort after each change. Obviously correct, obviously slow.
 * `Level` objects are still handed out (one per price, kept in a map) because the
 * engine reports level changes through them.
 */
export class ReferenceBook implements OrderBook {
  private readonly sides = { buy: [] as Order[], sell: [] as Order[] };
  private readonly levelObjects = { buy: new Map<number, Level>(), sell: new Map<number, Level>() };

  constructor(private readonly instrumentId: number) {}

  get size(): number {
    return this.sides.buy.length + this.sides.sell.length;
  }

  private sort(side: Side): void {
    const sign = side === "buy" ? -1 : 1;
    this.sides[side].sort((a, b) => (a.price === b.price ? a.priority - b.priority : sign * (a.price - b.price)));
  }

  private level(side: Side, price: number): Level {
    let level = this.levelObjects[side].get(price);
    if (level === undefined) {
      level = new Level(this.instrumentId, side, price);
      this.levelObjects[side].set(price, level);
    }
    return level;
  }

  private recount(level: Level): void {
    let qty = 0;
    let count = 0;
    for (const order of this.sides[level.side]) {
      if (order.price === level.price) {
        qty += order.visible;
        count += 1;
      }
    }
    level.visibleQty = qty;
    level.count = count;
    if (count === 0) this.levelObjects[level.side].delete(level.price);
  }

  best(side: Side): Order | null {
    return this.sides[side][0] ?? null;
  }

  nextAfter(order: Order): Order | null {
    const list = this.sides[order.side];
    return list[list.indexOf(order) + 1] ?? null;
  }

  insert(order: Order): Level {
    const level = this.level(order.side, order.price);
    order.level = level;
    this.sides[order.side].push(order);
    this.sort(order.side);
    this.recount(level);
    return level;
  }

  remove(order: Order): Level {
    const list = this.sides[order.side];
    const at = list.indexOf(order);
    assert(at >= 0, "remove of an order that is not resting");
    list.splice(at, 1);
    const level = this.level(order.side, order.price);
    order.level = null;
    this.recount(level);
    return level;
  }

  moveToBack(order: Order): void {
    // The engine gives the order a new, larger priority before calling this.
    this.sort(order.side);
  }

  changeVisible(order: Order, delta: number): void {
    order.visible += delta;
    this.recount(this.level(order.side, order.price));
  }

  forEach(side: Side, visit: (order: Order) => void): void {
    for (const order of [...this.sides[side]]) visit(order);
  }

  levelAt(side: Side, price: number): { qty: number; count: number } {
    let qty = 0;
    let count = 0;
    for (const order of this.sides[side]) {
      if (order.price === price) {
        qty += order.visible;
        count += 1;
      }
    }
    return { qty, count };
  }

  levels(side: Side): Array<{ price: number; qty: number; count: number }> {
    const out: Array<{ price: number; qty: number; count: number }> = [];
    for (const order of this.sides[side]) {
      const last = out[out.length - 1];
      if (last !== undefined && last.price === order.price) {
        last.qty += order.visible;
        last.count += 1;
      } else out.push({ price: order.price, qty: order.visible, count: 1 });
    }
    return out;
  }
}
