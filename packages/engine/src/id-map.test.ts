import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdMap } from "./id-map.ts";

const anyId = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 65_530, max: 65_540 }),
  fc.constantFrom(-1, -0, 0.5, Number.NaN, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER),
);

describe("id map", () => {
  it("agrees with a Map under sets, deletes, clears and lookups, including iteration order (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("set", "delete", "clear", "find"), anyId, fc.nat()), { maxLength: 300 }), (steps) => {
        const ours = new IdMap<number>();
        const reference = new Map<number, number>();
        for (const [op, id, value] of steps) {
          if (op === "set") {
            ours.set(id, value);
            reference.set(id, value);
          } else if (op === "delete") {
            expect(ours.delete(id)).toBe(reference.delete(id));
          } else if (op === "clear" && value % 10 === 0) {
            ours.clear();
            reference.clear();
          }
          expect(ours.find(id)).toBe(reference.get(id));
          expect(ours.get(id)).toBe(reference.get(id));
          expect(ours.size).toBe(reference.size);
        }
        expect([...ours]).toEqual([...reference]);
      }),
    );
  });

  it("is a Map", () => {
    const ids = new IdMap<string>();
    ids.set(3, "c").set(1, "a");
    expect(ids).toBeInstanceOf(Map);
    expect([...ids.keys()]).toEqual([3, 1]);
    expect(ids.find(2)).toBeUndefined();
  });
});
