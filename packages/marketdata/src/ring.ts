/**
 * A bounded history: keeps the newest `capacity` items, dropping the oldest
 * when full. Storage grows with use up to the capacity, so thousands of quiet
 * instruments cost little. Index 0 is the oldest item kept.
 */
import { assert, isSafePositiveInteger } from "@tradestream/kernel";

export class RingBuffer<T> {
  private readonly items: T[] = [];
  /** Index in `items` of the oldest item once the buffer has wrapped. */
  private start = 0;

  constructor(readonly capacity: number) {
    assert(isSafePositiveInteger(capacity), `ring buffer capacity must be a positive integer, got ${String(capacity)}`);
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  /** The item at `index` (0 = oldest); the index must be in range. */
  at(index: number): T {
    assert(Number.isInteger(index) && index >= 0 && index < this.items.length, `ring buffer index ${String(index)} out of range`);
    return this.items[(this.start + index) % this.items.length] as T;
  }

  last(): T | undefined {
    return this.items.length === 0 ? undefined : this.at(this.items.length - 1);
  }

  /** Replaces the newest item (the buffer must not be empty). */
  replaceLast(item: T): void {
    assert(this.items.length > 0, "replaceLast on an empty ring buffer");
    this.items[(this.start + this.items.length - 1) % this.items.length] = item;
  }

  /** Items from `from` (inclusive) to `to` (exclusive), oldest first. */
  slice(from: number, to: number): T[] {
    const out: T[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.items.length); i += 1) out.push(this.at(i));
    return out;
  }

  /** The newest `count` items, newest first. */
  newest(count: number): T[] {
    const out: T[] = [];
    for (let i = this.items.length - 1; i >= 0 && out.length < count; i -= 1) out.push(this.at(i));
    return out;
  }
}
