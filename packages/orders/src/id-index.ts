/**
 * An index of ids in ascending order (order ids and fill sequence numbers only
 * grow, so appending keeps it sorted), walked newest first from a cursor.
 * Entries leave in two ways: `dropOldest` removes the oldest entry at once
 * (fills are evicted strictly oldest first); `retire` only counts an entry as
 * dead, the walk skips it through the caller's predicate, and the array is
 * compacted once the dead outnumber the live, so a walk costs at most about
 * twice the entries it returns plus those it filters out.
 */
import { InvariantError } from "@tradestream/kernel";

/** Below this many dead entries an index is never compacted: compaction would cost more than it saves. */
const compactionDeadMin = 64;

export class IdIndex {
  private ids: number[] = [];
  /** Entries before `head` have been dropped. */
  private head = 0;
  private dead = 0;

  get size(): number {
    return this.ids.length - this.head;
  }

  push(id: number): void {
    const last = this.ids[this.ids.length - 1];
    if (last !== undefined && id <= last) throw new InvariantError(`index ids must ascend: ${String(id)} after ${String(last)}`);
    this.ids.push(id);
  }

  /** Removes the oldest entry, which must be `id`. */
  dropOldest(id: number): void {
    if (this.ids[this.head] !== id) throw new InvariantError(`dropping ${String(id)}, but the oldest entry is ${String(this.ids[this.head])}`);
    this.head += 1;
    if (this.head >= compactionDeadMin && this.head * 2 >= this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
  }

  /** Notes that one entry is no longer live; `isLive` tells the survivors when the index compacts. */
  retire(isLive: (id: number) => boolean): void {
    this.dead += 1;
    if (this.dead >= compactionDeadMin && this.dead * 2 >= this.size) {
      this.ids = this.ids.slice(this.head).filter(isLive);
      this.head = 0;
      this.dead = 0;
    }
  }

  /** Up to `count` ids below `beforeId` that `accept` takes, newest first. */
  collect(beforeId: number, count: number, accept: (id: number) => boolean): number[] {
    let low = this.head;
    let high = this.ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.ids[mid] as number) < beforeId) low = mid + 1;
      else high = mid;
    }
    const out: number[] = [];
    for (let i = low - 1; i >= this.head && out.length < count; i -= 1) {
      const id = this.ids[i] as number;
      if (accept(id)) out.push(id);
    }
    return out;
  }
}
