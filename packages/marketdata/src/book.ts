/**
 * The public (L2) book of one instrument as the engine's BookLevelChanged
 * events describe it: per side, the displayed quantity and order count at each
 * price. A side is a sorted array with the best level last, as in the engine's
 * own book, so the common changes (at or near the top) shift few entries.
 * Invariant: every stored level has at least one order; sorted strictly by
 * price toward the best.
 */
import type { Side } from "@tradestream/contracts";
import { assert, isSafeNonNegativeInteger } from "@tradestream/kernel";
import type { BookLevel, BookLevelChange } from "./types.ts";

class BookSide {
  /** Ascending toward the best: the price for bids, minus the price for asks. */
  private readonly keys: number[] = [];
  private readonly levels: BookLevel[] = [];

  constructor(private readonly sign: 1 | -1) {}

  /** The index of the first key ≥ `key`. */
  private search(key: number): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.keys[mid] as number) < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Sets a level; an order count of 0 removes it. */
  set(priceTicks: number, qtyLots: number, orderCount: number): void {
    const key = this.sign * priceTicks;
    const at = this.search(key);
    const present = this.keys[at] === key;
    if (orderCount === 0) {
      if (present) {
        this.keys.splice(at, 1);
        this.levels.splice(at, 1);
      }
      return;
    }
    const level: BookLevel = { priceTicks, qtyLots, orderCount };
    if (present) {
      this.levels[at] = level;
    } else {
      this.keys.splice(at, 0, key);
      this.levels.splice(at, 0, level);
    }
  }

  best(): BookLevel | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** Up to `depth` levels, best first. */
  top(depth: number): BookLevel[] {
    const out: BookLevel[] = [];
    for (let i = this.levels.length - 1; i >= 0 && out.length < depth; i -= 1) out.push(this.levels[i] as BookLevel);
    return out;
  }

  get size(): number {
    return this.levels.length;
  }
}

export class PublicBook {
  private readonly bids = new BookSide(1);
  private readonly asks = new BookSide(-1);

  set(level: BookLevelChange): void {
    assert(isSafeNonNegativeInteger(level.qtyLots) && isSafeNonNegativeInteger(level.orderCount), "book level with a negative quantity or count");
    this.side(level.side).set(level.priceTicks, level.qtyLots, level.orderCount);
  }

  side(side: Side): BookSide {
    return side === "buy" ? this.bids : this.asks;
  }

  bestBid(): number | null {
    return this.bids.best()?.priceTicks ?? null;
  }

  bestAsk(): number | null {
    return this.asks.best()?.priceTicks ?? null;
  }
}
