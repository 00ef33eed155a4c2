/**
 * Order books. `FastBook` is the production book: per side, a sorted array of
 * levels with the best level last (so the common cases, taking, emptying or
 * improving the best level, touch only the end, and a lookup is a search from the
 * top with no hashing), and an intrusive doubly linked queue per level for O(1)
 * cancel. `ReferenceBook` is a
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

/** What `levelAt` reports for a price without orders (shared: it is never written). */
const emptyLevel: { readonly qty: number; readonly count: number } = Object.freeze({ qty: 0, count: 0 });

/**
 * The levels of one side in price order, worst first and best last, as two
 * parallel arrays: `keys` (the price for bids, minus the price for asks, so that
 * keys ascend toward the best on both sides) and `slots`. There is no hash map: a
 * lookup gallops down from the best level (where most activity is) and then
 * binary-searches. Only `used` entries are live; the arrays never shrink, so the
 * common cases, opening, taking or emptying the best level, are a store and a
 * counter change without any reallocation.
 *
 * A level that empties below the top of the book is left in place as a
 * tombstone (a `Level` with `count === 0`) instead of being spliced out, so a
 * cancel deep in the book costs O(1) and does not shift every better level. A
 * tombstone is skipped by every reader; a new order at its price replaces it
 * with a fresh `Level` in the same slot (a level that emptied stays a distinct
 * object from the one that later opens at its price, as with a map). Emptied
 * levels at the top are dropped at once, so the last used entry is always the
 * live best level, and the arrays are compacted when tombstones outnumber live
 * levels.
 */
class SideIndex {
  private readonly keys: number[] = [];
  private readonly slots: Level[] = [];
  /** Entries in use: keys[0 … used) ascend; entries from `used` on are stale. */
  private used = 0;
  /** Emptied levels among the used entries. */
  private tombstones = 0;
  private readonly sign: number;

  constructor(
    readonly instrumentId: number,
    readonly side: Side,
  ) {
    this.sign = side === "buy" ? 1 : -1;
  }

  /** The best live level, or null. */
  best(): Level | null {
    return this.used === 0 ? null : (this.slots[this.used - 1] as Level);
  }

  /** Index of the first used key that is not below `key` (`used` when every key is below). */
  private lowerBound(key: number): number {
    const keys = this.keys;
    // Gallop down from the top: probes at used−1, used−2, used−4, … until a key is below `key`.
    let hi = this.used;
    let probe = hi - 1;
    let step = 1;
    while (probe >= 0 && (keys[probe] as number) >= key) {
      hi = probe;
      probe = hi - step;
      step *= 2;
    }
    let lo = probe < 0 ? 0 : probe + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the entry holding `key` (live or tombstone), or -1. */
  private indexOf(key: number): number {
    const at = this.lowerBound(key);
    return at < this.used && this.keys[at] === key ? at : -1;
  }

  /** The live level at `price`, or null. */
  find(price: number): Level | null {
    const at = this.indexOf(this.sign * price);
    if (at < 0) return null;
    const level = this.slots[at] as Level;
    return level.count === 0 ? null : level;
  }

  /** The live level at `price`, created when there is none. */
  levelFor(price: number): Level {
    const key = this.sign * price;
    const used = this.used;
    const at = used === 0 || (this.keys[used - 1] as number) < key ? used : this.lowerBound(key);
    if (at < used && this.keys[at] === key) {
      const existing = this.slots[at] as Level;
      if (existing.count > 0) return existing;
      const level = new Level(this.instrumentId, this.side, price);
      this.slots[at] = level;
      this.tombstones -= 1;
      return level;
    }
    const level = new Level(this.instrumentId, this.side, price);
    this.insertAt(at, key, level);
    return level;
  }

  /** Opens entry `at` by moving the better entries up one (few: most activity is near the top). */
  private insertAt(at: number, key: number, level: Level): void {
    const keys = this.keys;
    const slots = this.slots;
    const used = this.used;
    if (used === keys.length) {
      keys.push(key);
      slots.push(level);
    }
    for (let i = used; i > at; i -= 1) {
      keys[i] = keys[i - 1] as number;
      slots[i] = slots[i - 1] as Level;
    }
    keys[at] = key;
    slots[at] = level;
    this.used = used + 1;
  }

  /** Takes an emptied level out of the side. */
  drop(level: Level): void {
    const slots = this.slots;
    let used = this.used;
    if (slots[used - 1] === level) {
      used -= 1;
      // Uncover the next live level.
      while (used > 0 && (slots[used - 1] as Level).count === 0) {
        used -= 1;
        this.tombstones -= 1;
      }
      this.used = used;
      return;
    }
    const at = this.indexOf(this.sign * level.price);
    assert(at >= 0 && slots[at] === level, "level missing from the sorted index");
    this.tombstones += 1;
    if (this.tombstones > 16 && this.tombstones * 2 > used) this.compact();
  }

  /** Removes every tombstone, keeping the order. */
  private compact(): void {
    const keys = this.keys;
    const slots = this.slots;
    let to = 0;
    for (let from = 0; from < this.used; from += 1) {
      const level = slots[from] as Level;
      if (level.count === 0) continue;
      keys[to] = keys[from] as number;
      slots[to] = level;
      to += 1;
    }
    this.used = to;
    this.tombstones = 0;
  }

  /** The next worse live level after `level`, or null. */
  below(level: Level): Level | null {
    const at = this.indexOf(this.sign * level.price);
    assert(at >= 0, "level missing from the sorted index");
    for (let i = at - 1; i >= 0; i -= 1) {
      const candidate = this.slots[i] as Level;
      if (candidate.count > 0) return candidate;
    }
    return null;
  }

  /** Visits every resting order, best level first. */
  forEach(visit: (order: Order) => void): void {
    for (let i = this.used - 1; i >= 0; i -= 1) {
      // A tombstone has no head, so it visits nothing.
      for (let order = (this.slots[i] as Level).head; order !== null; order = order.next) visit(order);
    }
  }

  /** Every live level, best first. */
  levels(): Array<{ price: number; qty: number; count: number }> {
    const out: Array<{ price: number; qty: number; count: number }> = [];
    for (let i = this.used - 1; i >= 0; i -= 1) {
      const level = this.slots[i] as Level;
      if (level.count > 0) out.push({ price: level.price, qty: level.visibleQty, count: level.count });
    }
    return out;
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
    const level = (side === "buy" ? this.bids : this.asks).best();
    return level === null ? null : level.head;
  }

  nextAfter(order: Order): Order | null {
    if (order.next !== null) return order.next;
    const level = order.level;
    assert(level !== null, "nextAfter on an order that is not resting");
    const below = (order.isBuy ? this.bids : this.asks).below(level);
    return below === null ? null : below.head;
  }

  insert(order: Order): Level {
    const level = (order.isBuy ? this.bids : this.asks).levelFor(order.price);
    const tail = level.tail;
    order.level = level;
    order.next = null;
    order.prev = tail;
    if (tail === null) level.head = order;
    else tail.next = order;
    level.tail = order;
    level.count += 1;
    level.visibleQty += order.visible;
    this.size += 1;
    return level;
  }

  private unlink(order: Order, level: Level): void {
    const prev = order.prev;
    const next = order.next;
    if (prev === null) level.head = next;
    else prev.next = next;
    if (next === null) level.tail = prev;
    else next.prev = prev;
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
    if (level.count === 0) (order.isBuy ? this.bids : this.asks).drop(level);
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
    this.index(side).forEach(visit);
  }

  levelAt(side: Side, price: number): { qty: number; count: number } {
    const level = this.index(side).find(price);
    return level === null ? emptyLevel : { qty: level.visibleQty, count: level.count };
  }

  levels(side: Side): Array<{ price: number; qty: number; count: number }> {
    return this.index(side).levels();
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
