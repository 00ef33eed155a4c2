/**
 * A map from integer ids that mostly arrive in ascending order and mostly leave
 * oldest first: order ids, fill sequence numbers. The read model keeps hundreds of
 * thousands of these, and a V8 `Map` that size rebuilds its whole table whenever
 * its slots run out (a deleted entry keeps its slot until then): with steady churn
 * that was a 20–40 ms stop of the gateway's thread every few hundred thousand
 * orders. Here the recent ids live in an array indexed by `id - base`; the window
 * moves forward past the ids that left, and an entry that stays while those around
 * it leave (an order resting for days) moves to a small `Map` below the window, so
 * the array never holds more than about twice the entries in it.
 *
 * Values are never undefined (undefined marks an empty slot). No iteration: the
 * read model walks its own indexes (and `layout` tells a snapshot which ids to
 * read). Invariant: every id below the window is less than `base` (the window
 * only moves forward), every id in it at least `base`.
 */

/** Slack before a sparse window moves its front entries below it (and the array drops its dead front). */
const sparseSlackDefault = 1_024;
/** A set this far past the window's end starts a new window (the old one moves below). */
const gapMax = 65_536;

export class IdWindowMap<V> {
  private slots: Array<V | undefined> = [];
  /** Index in `slots` of the window's first id. */
  private head = 0;
  /** The id at `slots[head]`. */
  private base = 0;
  /** Entries in the window. */
  private inWindow = 0;
  private readonly below = new Map<number, V>();

  /** `sparseSlack` is for tests, to move entries below the window after a few ids. */
  constructor(private readonly sparseSlack = sparseSlackDefault) {}

  get size(): number {
    return this.inWindow + this.below.size;
  }

  /** Entries kept below the window (the long-lived ones); for tests and metrics. */
  get belowWindow(): number {
    return this.below.size;
  }

  get(id: number): V | undefined {
    const at = id - this.base;
    if (at < 0) return this.below.get(id);
    return this.slots[this.head + at];
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  set(id: number, value: V): this {
    if (!Number.isSafeInteger(id)) throw new RangeError(`ids must be safe integers, got ${String(id)}`);
    if (value === undefined) throw new RangeError("values must not be undefined");
    let span = this.slots.length - this.head;
    if (span === 0) {
      // An empty window starts at the new id, never behind where it was: every id below
      // the window stays below it, so an id is never in both.
      this.slots = [];
      this.head = 0;
      if (id > this.base) this.base = id;
    }
    let at = id - this.base;
    if (at < 0) {
      this.below.set(id, value);
      return this;
    }
    if (at >= span + gapMax) {
      this.moveBelow(this.slots.length);
      this.slots = [];
      this.head = 0;
      this.base = id;
      span = 0;
      at = 0;
    }
    if (at >= span) {
      while (this.slots.length - this.head < at) this.slots.push(undefined);
      this.slots.push(value);
      this.inWindow += 1;
    } else {
      if (this.slots[this.head + at] === undefined) this.inWindow += 1;
      this.slots[this.head + at] = value;
    }
    this.tidy();
    return this;
  }

  delete(id: number): boolean {
    const at = id - this.base;
    if (at < 0) return this.below.delete(id);
    const index = this.head + at;
    if (this.slots[index] === undefined) return false;
    this.slots[index] = undefined;
    this.inWindow -= 1;
    this.tidy();
    return true;
  }

  /** Moves the window's front past empty slots and, while it is sparse, its front entries below it. */
  private tidy(): void {
    while (this.head < this.slots.length && this.slots[this.head] === undefined) {
      this.head += 1;
      this.base += 1;
    }
    while (this.slots.length - this.head > 2 * this.inWindow + this.sparseSlack) {
      this.moveBelow(this.head + 1);
      while (this.head < this.slots.length && this.slots[this.head] === undefined) {
        this.head += 1;
        this.base += 1;
      }
    }
    // Drop the array's dead front once it is half the array (amortized: each slot is copied at most once more).
    if (this.head >= this.sparseSlack && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Where the entries are now, for a caller that reads them later by id (a snapshot
   * gathered in slices): the ids below the window, ascending, and the window's id
   * range [`from`, `to`). Every id set so far is below `to`, and every entry is in
   * one of the two, wherever later calls move it.
   */
  layout(): { readonly belowIds: number[]; readonly from: number; readonly to: number } {
    const belowIds = [...this.below.keys()].sort((a, b) => a - b);
    return { belowIds, from: this.base, to: this.base + (this.slots.length - this.head) };
  }

  /** Moves the window's entries before index `end` below the window and the window's start to `end`. */
  private moveBelow(end: number): void {
    for (let index = this.head; index < end; index += 1) {
      const value = this.slots[index];
      if (value === undefined) continue;
      this.below.set(this.base + (index - this.head), value);
      this.slots[index] = undefined;
      this.inWindow -= 1;
    }
    this.base += end - this.head;
    this.head = end;
  }
}
