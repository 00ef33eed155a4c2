/**
 * FastBook against ReferenceBook at the book interface, without the engine: long
 * random runs of inserts, removes, re-queues and visible-quantity changes over
 * narrow and wide price ranges, so that levels open and empty everywhere in the
 * book (deep levels, the top, tombstones and their compaction). After every
 * operation the two books must answer every query identically.
 */
import type { Side } from "@tradestream/contracts";
import { mulberry32 } from "@tradestream/kernel";
import { describe, expect, it } from "vitest";
import { CashSlot, PositionSlot } from "./account.ts";
import { FastBook, ReferenceBook, type OrderBook } from "./book.ts";
import { Order } from "./order.ts";

const cash = new CashSlot(1, "EUR");
const position = new PositionSlot(1, 1);

function newOrder(id: number, side: Side, price: number, visible: number, priority: number): Order {
  const order = new Order().open(id, 1, 1, `c${id}`, side, "limit", "GTC", price, 0, 100, 100, 0, false, 0, 0, 0, cash, position);
  order.visible = visible;
  order.priority = priority;
  return order;
}

function walk(book: OrderBook, side: Side): number[] {
  const ids: number[] = [];
  for (let order = book.best(side); order !== null; order = book.nextAfter(order)) ids.push(order.id);
  return ids;
}

function visited(book: OrderBook, side: Side): number[] {
  const ids: number[] = [];
  book.forEach(side, (order) => ids.push(order.id));
  return ids;
}

function compare(fast: OrderBook, reference: OrderBook, random: () => number, priceMax: number, full: boolean, step: string): void {
  expect(fast.size, step).toBe(reference.size);
  for (const side of ["buy", "sell"] as const) {
    expect(fast.best(side)?.id, step).toBe(reference.best(side)?.id);
    const price = 1 + Math.floor(random() * priceMax);
    expect(fast.levelAt(side, price), step).toEqual(reference.levelAt(side, price));
    if (full) {
      expect(fast.levels(side), step).toEqual(reference.levels(side));
      expect(walk(fast, side), step).toEqual(walk(reference, side));
      expect(visited(fast, side), step).toEqual(visited(reference, side));
    }
  }
}

function run(seed: number, steps: number): void {
  const random = mulberry32(seed);
  const fast = new FastBook(1);
  const reference = new ReferenceBook(1);
  // Each resting order exists twice, one object per book.
  const resting: Array<[Order, Order]> = [];
  let nextId = 1;
  let priority = 0;
  for (let step = 0; step < steps; step += 1) {
    // Phases alternate between a narrow book (deep queues) and a wide one (many sparse levels).
    const priceMax = Math.floor(step / 500) % 2 === 0 ? 40 : 3_000;
    const roll = random();
    const label = `seed ${seed} step ${step}`;
    if (roll < 0.5 || resting.length === 0) {
      const side: Side = random() < 0.5 ? "buy" : "sell";
      // Bids below 1,000 and asks above it on the wide phase; overlapping prices are fine for a bare book.
      const price = 1 + Math.floor(random() * priceMax);
      const visible = 1 + Math.floor(random() * 9);
      priority += 1;
      const pair: [Order, Order] = [newOrder(nextId, side, price, visible, priority), newOrder(nextId, side, price, visible, priority)];
      nextId += 1;
      const a = fast.insert(pair[0]);
      const b = reference.insert(pair[1]);
      expect([a.price, a.count, a.visibleQty], label).toEqual([b.price, b.count, b.visibleQty]);
      resting.push(pair);
    } else {
      const at = Math.floor(random() * resting.length);
      const pair = resting[at] as [Order, Order];
      if (roll < 0.8) {
        const a = fast.remove(pair[0]);
        const b = reference.remove(pair[1]);
        expect([a.price, a.count, a.visibleQty], label).toEqual([b.price, b.count, b.visibleQty]);
        resting[at] = resting[resting.length - 1] as [Order, Order];
        resting.pop();
      } else if (roll < 0.9) {
        priority += 1;
        pair[0].priority = priority;
        pair[1].priority = priority;
        fast.moveToBack(pair[0]);
        reference.moveToBack(pair[1]);
      } else {
        const delta = random() < 0.5 && pair[0].visible > 1 ? -1 : 1;
        fast.changeVisible(pair[0], delta);
        reference.changeVisible(pair[1], delta);
      }
    }
    compare(fast, reference, random, priceMax, step % 25 === 0, label);
  }
  compare(fast, reference, random, 3_000, true, `seed ${seed} end`);
}

describe("FastBook against ReferenceBook (book interface)", () => {
  it("agree on every query through long random runs", () => {
    for (let seed = 1; seed <= 6; seed += 1) run(seed, 4_000);
  });

  it("report an emptied price as empty and reopen it as a new level", () => {
    const book = new FastBook(1);
    const orders = [10, 11, 12, 13].map((price, i) => newOrder(i + 1, "buy", price, 5, i + 1));
    const levels = orders.map((order) => book.insert(order));
    // Empty a level below the top: it reads as empty everywhere.
    const emptied = book.remove(orders[1] as Order);
    expect(emptied.count).toBe(0);
    expect(book.levelAt("buy", 11)).toEqual({ qty: 0, count: 0 });
    expect(book.levels("buy").map((level) => level.price)).toEqual([13, 12, 10]);
    expect(book.nextAfter(orders[2] as Order)?.id).toBe(1);
    // Reopening the price gives a fresh level, not the emptied one.
    const reopened = book.insert(newOrder(9, "buy", 11, 3, 9));
    expect(reopened).not.toBe(levels[1]);
    expect(book.levels("buy")).toEqual([
      { price: 13, qty: 5, count: 1 },
      { price: 12, qty: 5, count: 1 },
      { price: 11, qty: 3, count: 1 },
      { price: 10, qty: 5, count: 1 },
    ]);
    // Emptying the top uncovers the next live level.
    book.remove(orders[3] as Order);
    book.remove(orders[2] as Order);
    expect(book.best("buy")?.id).toBe(9);
  });
});
