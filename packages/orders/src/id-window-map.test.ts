import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdWindowMap } from "./id-window-map.ts";

type Op = { readonly kind: "next" | "update" | "delete" | "old" | "jump"; readonly pick: number };

const ops = fc.array(
  fc.record({ kind: fc.constantFrom<Op["kind"]>("next", "next", "next", "update", "delete", "delete", "old", "jump"), pick: fc.nat() }),
  { maxLength: 400 },
);

describe("IdWindowMap", () => {
  it("behaves as a Map on mostly ascending ids, deletions anywhere, old ids and jumps (property)", () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: -5, max: 100_000 }), fc.constantFrom(2, 8, 1_024), (list: readonly Op[], start, slack) => {
        const map = new IdWindowMap<number>(slack);
        const model = new Map<number, number>();
        let next = start;
        for (const [step, op] of list.entries()) {
          const keys = [...model.keys()];
          const some = keys.length === 0 ? next : (keys[op.pick % keys.length] as number);
          switch (op.kind) {
            case "next":
              map.set(next, step);
              model.set(next, step);
              next += 1 + (op.pick % 3 === 0 ? op.pick % 5 : 0);
              break;
            case "update":
              map.set(some, -step);
              model.set(some, -step);
              break;
            case "delete":
              expect(map.delete(some)).toBe(model.delete(some));
              break;
            case "old": {
              const id = start - 1 - (op.pick % 50);
              map.set(id, step);
              model.set(id, step);
              break;
            }
            case "jump":
              next += 70_000 + (op.pick % 1_000);
              break;
          }
          expect(map.size).toBe(model.size);
        }
        // Every kept id, its neighbours, and the stretch just below the next id.
        const probes = new Set<number>();
        for (const id of model.keys()) for (const near of [id - 1, id, id + 1]) probes.add(near);
        for (let id = next - 100; id < next + 5; id += 1) probes.add(id);
        for (const id of probes) {
          expect(map.get(id)).toBe(model.get(id));
          expect(map.has(id)).toBe(model.has(id));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("moves a long-lived entry below the window while the ids around it leave, and keeps the array small", () => {
    const map = new IdWindowMap<string>();
    map.set(1, "resting for days");
    for (let id = 2; id <= 200_000; id += 1) {
      map.set(id, `order ${String(id)}`);
      if (id > 1_001) map.delete(id - 1_000);
    }
    expect(map.size).toBe(1 + 1_000);
    expect(map.belowWindow).toBe(1);
    expect(map.get(1)).toBe("resting for days");
    expect(map.get(199_000)).toBe(undefined);
    expect(map.get(199_001)).toBe("order 199001");
    // The array spans about the live entries, not the 200,000 ids seen.
    const slots = (map as unknown as { slots: unknown[] }).slots.length;
    expect(slots).toBeLessThan(5_000);
    expect(map.delete(1)).toBe(true);
    expect(map.belowWindow).toBe(0);
  });

  it("refuses ids that are not safe integers and undefined values", () => {
    const map = new IdWindowMap<number>();
    expect(() => map.set(1.5, 1)).toThrow(/safe integers/);
    expect(() => map.set(2 ** 53, 1)).toThrow(/safe integers/);
    expect(() => new IdWindowMap<number | undefined>().set(1, undefined)).toThrow(/undefined/);
    expect(map.get(1.5)).toBeUndefined();
    expect(map.size).toBe(0);
  });
});
