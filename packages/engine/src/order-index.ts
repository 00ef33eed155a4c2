/**
 * Every open order of an engine by id, iterated in id order. The engine numbers
 * orders 1, 2, 3 … in acceptance order and adds each when it is accepted, so ids
 * arrive increasing and nearly dense: the index is a run of fixed-size pages
 * (a page holds the orders whose ids share `id / pageSlots`), found by page
 * number in a small map, with the page that takes new orders kept at hand. An
 * add is then a store into a page that is already in cache, a lookup or a
 * removal one small-map probe and one store, and nothing is rehashed or copied
 * as the set of open orders turns over all day. A page is dropped when its last
 * order goes, so memory follows the open orders, not the ids ever issued.
 *
 * Invariant (asserted): ids are added in increasing order, so id order is
 * acceptance order, the order the earlier `Map` iterated in.
 */
import { assert } from "@tradestream/kernel";
import type { Order } from "./order.ts";

/**
 * Orders per page: large enough that new pages are rare, small enough that a lone long-lived
 * order keeps little memory alive and that iterating a sparse index stays cheap.
 */
const pageSlots = 256;

class Page {
  readonly slots: Array<Order | null> = [];
  count = 0;
  /** Set anew when an emptied page is reused for another page number. */
  constructor(public number: number) {
    for (let i = 0; i < pageSlots; i += 1) this.slots.push(null);
  }
}

export class OrderIndex {
  /** Pages by page number, in increasing page number (pages are created in id order). */
  private readonly pages = new Map<number, Page>();
  /** The page of the highest id added (where new orders go), or null. */
  private newest: Page | null = null;
  /** The highest id ever added: the next must be higher. */
  private highestId = 0;
  private count = 0;
  /**
   * The page dropped last (all its slots empty), kept to serve the next new page: pages
   * turn over as the open orders do, and a reused page costs no allocation and no copy
   * by the garbage collector.
   */
  private spare: Page | null = null;
  /**
   * The page the last look-up found in `pages`, or null: a cancel looks its order up and then
   * removes it, and the second look-up of the same (cold) page then costs no hashing.
   */
  private recent: Page | null = null;

  get size(): number {
    return this.count;
  }

  private pageOf(id: number): Page | undefined {
    const number = Math.floor(id / pageSlots);
    const newest = this.newest;
    if (newest !== null && newest.number === number) return newest;
    const recent = this.recent;
    if (recent !== null && recent.number === number) return recent;
    const page = this.pages.get(number);
    if (page !== undefined) this.recent = page;
    return page;
  }

  get(id: number): Order | undefined {
    if (!Number.isSafeInteger(id) || id < 1) return undefined;
    return this.pageOf(id)?.slots[id % pageSlots] ?? undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds an order under an id higher than every id added before. */
  set(id: number, order: Order): this {
    assert(Number.isSafeInteger(id) && id > this.highestId, "orders are indexed in increasing id order");
    this.highestId = id;
    const number = Math.floor(id / pageSlots);
    let page = this.newest;
    if (page === null || page.number !== number) {
      page = this.spare ?? new Page(number);
      this.spare = null;
      page.number = number;
      this.pages.set(number, page);
      this.newest = page;
    }
    page.slots[id % pageSlots] = order;
    page.count += 1;
    this.count += 1;
    return this;
  }

  delete(id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) return false;
    const page = this.pageOf(id);
    const at = id % pageSlots;
    if (page === undefined || page.slots[at] === null) return false;
    page.slots[at] = null;
    page.count -= 1;
    this.count -= 1;
    if (page.count === 0) {
      this.pages.delete(page.number);
      if (this.newest === page) this.newest = null;
      if (this.recent === page) this.recent = null;
      this.spare = page;
    }
    return true;
  }

  *entries(): IterableIterator<[number, Order]> {
    for (const page of this.pages.values()) {
      const slots = page.slots;
      for (let at = 0; at < pageSlots; at += 1) {
        const order = slots[at] as Order | null;
        if (order !== null) yield [page.number * pageSlots + at, order];
      }
    }
  }

  *values(): IterableIterator<Order> {
    for (const [, order] of this.entries()) yield order;
  }

  *keys(): IterableIterator<number> {
    for (const [id] of this.entries()) yield id;
  }

  [Symbol.iterator](): IterableIterator<[number, Order]> {
    return this.entries();
  }
}
