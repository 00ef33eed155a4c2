/**
 * The bounded history keeps exactly the newest `capacity` items in order,
 * however often it wraps.
 */
import { InvariantError } from "@tradestream/kernel";
import { describe, expect, it } from "vitest";
import { RingBuffer } from "./ring.ts";

describe("RingBuffer", () => {
  it.each([1, 2, 7])("with capacity %i keeps the newest items in order through many wraps", (capacity) => {
    const ring = new RingBuffer<number>(capacity);
    expect(ring.last()).toBeUndefined();
    for (let n = 1; n <= 50; n += 1) {
      ring.push(n);
      const expected = Array.from({ length: Math.min(n, capacity) }, (_, i) => n - Math.min(n, capacity) + 1 + i);
      expect(ring.slice(0, capacity)).toEqual(expected);
      expect(ring.newest(2)).toEqual(expected.slice(-2).reverse());
      expect(ring.last()).toBe(n);
    }
    ring.replaceLast(-1);
    expect(ring.at(ring.length - 1)).toBe(-1);
    expect(() => ring.at(capacity)).toThrow(InvariantError);
  });

  it("refuses a capacity below one", () => {
    expect(() => new RingBuffer<number>(0)).toThrow(InvariantError);
    expect(() => new RingBuffer<number>(2.5)).toThrow(InvariantError);
  });
});
