import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ClientOrderIdSet, hash30 } from "./client-order-ids.ts";

describe("client order id set", () => {
  it("agrees with a plain Set, including iteration contents and size (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 300 }), (ids) => {
        const ours = new ClientOrderIdSet();
        const reference = new Set<string>();
        for (const id of ids) {
          expect(ours.has(id)).toBe(reference.has(id));
          if (!reference.has(id)) {
            ours.add(id);
            reference.add(id);
          }
        }
        expect(ours.size).toBe(reference.size);
        expect([...ours].sort()).toEqual([...reference].sort());
      }),
    );
  });

  it("tells apart ids whose hashes collide", () => {
    // With a 30-bit hash, ~100k ids contain a few colliding pairs; find one by brute force.
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null && i < 300_000; i += 1) {
      const id = `k${i}`;
      const other = seen.get(hash30(id));
      if (other !== undefined) pair = [other, id];
      else seen.set(hash30(id), id);
    }
    if (pair === null) throw new Error("no collision found among 300,000 ids");
    const [first, second] = pair;
    expect(hash30(first)).toBe(hash30(second));
    const ids = new ClientOrderIdSet();
    ids.add(first);
    expect(ids.has(first)).toBe(true);
    expect(ids.has(second)).toBe(false);
    ids.add(second);
    expect(ids.has(second)).toBe(true);
    expect([...ids]).toEqual([first, second]);
    ids.clear();
    expect(ids.has(first)).toBe(false);
    expect(ids.size).toBe(0);
  });
});
