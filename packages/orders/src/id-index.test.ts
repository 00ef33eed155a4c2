/**
 * The id index under heavy retirement and eviction: walks stay correct across
 * compactions, and ids must ascend.
 */
import { InvariantError } from "@tradestream/kernel";
import { describe, expect, it } from "vitest";
import { IdIndex } from "./id-index.ts";

describe("IdIndex", () => {
  it("walks live ids newest first from a cursor across many compactions", () => {
    const index = new IdIndex();
    const live = new Set<number>();
    for (let id = 1; id <= 1_000; id += 1) {
      index.push(id);
      live.add(id);
    }
    // Retire four in five, one at a time, as orders finish.
    for (let id = 1; id <= 1_000; id += 1) {
      if (id % 5 === 0) continue;
      live.delete(id);
      index.retire((x) => live.has(x));
    }
    expect(index.size).toBeLessThan(1_000);
    const isLive = (x: number): boolean => live.has(x);
    expect(index.collect(Number.POSITIVE_INFINITY, 3, isLive)).toEqual([1_000, 995, 990]);
    expect(index.collect(990, 3, isLive)).toEqual([985, 980, 975]);
    expect(index.collect(6, 10, isLive)).toEqual([5]);
    expect(index.collect(5, 10, isLive)).toEqual([]);
    expect(index.collect(Number.POSITIVE_INFINITY, 1_000, isLive)).toHaveLength(200);
  });

  it("drops the oldest entries in order and refuses ids out of order", () => {
    const index = new IdIndex();
    for (let id = 10; id < 210; id += 1) index.push(id);
    for (let id = 10; id < 150; id += 1) index.dropOldest(id);
    expect(index.size).toBe(60);
    expect(index.collect(153, 10, () => true)).toEqual([152, 151, 150]);
    expect(() => index.dropOldest(151)).toThrow(InvariantError);
    expect(() => index.push(209)).toThrow(InvariantError);
  });
});
