import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FifoMap } from "./fifo-map.ts";

type Op =
  | { readonly kind: "set"; readonly key: number; readonly value: number }
  | { readonly kind: "delete"; readonly key: number }
  | { readonly kind: "shift" }
  | { readonly kind: "clear" };

const ops = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), key: fc.integer({ min: 0, max: 20 }), value: fc.integer() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: "shift" as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: "clear" as const }) },
  ),
  { maxLength: 200 },
);

describe("FifoMap", () => {
  it("behaves as a Map whose first key is the oldest, on generated operations", () => {
    fc.assert(
      fc.property(ops, (list: readonly Op[]) => {
        const fifo = new FifoMap<number, number>();
        const model = new Map<number, number>();
        for (const op of list) {
          switch (op.kind) {
            case "set":
              fifo.set(op.key, op.value);
              model.set(op.key, op.value);
              break;
            case "delete":
              expect(fifo.delete(op.key)).toBe(model.delete(op.key));
              break;
            case "shift": {
              const first = model.entries().next();
              const expected = first.done === true ? undefined : first.value;
              if (expected !== undefined) model.delete(expected[0]);
              expect(fifo.shift()).toEqual(expected);
              break;
            }
            case "clear":
              fifo.clear();
              model.clear();
              break;
          }
          expect(fifo.size).toBe(model.size);
          expect(fifo.oldestKey()).toBe(model.keys().next().value);
          expect([...fifo]).toEqual([...model]);
          for (let key = 0; key <= 20; key += 1) {
            expect(fifo.has(key)).toBe(model.has(key));
            expect(fifo.get(key)).toBe(model.get(key));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("lets an iteration delete the current entry and others ahead of it", () => {
    const fifo = new FifoMap<string, number>();
    for (let i = 0; i < 10; i += 1) fifo.set(`k${String(i)}`, i);
    const seen: number[] = [];
    for (const [key, value] of fifo) {
      seen.push(value);
      fifo.delete(key);
      if (value === 2) {
        fifo.delete("k3");
        fifo.delete("k4");
      }
    }
    expect(seen).toEqual([0, 1, 2, 5, 6, 7, 8, 9]);
    expect(fifo.size).toBe(0);
    expect(fifo.oldestKey()).toBeUndefined();
  });

  it("keeps a present key's place when its value is set again", () => {
    const fifo = new FifoMap<string, number>();
    fifo.set("a", 1).set("b", 2).set("a", 3);
    expect([...fifo]).toEqual([["a", 3], ["b", 2]]);
    expect(fifo.shift()).toEqual(["a", 3]);
    expect(fifo.shift()).toEqual(["b", 2]);
    expect(fifo.shift()).toBeUndefined();
  });
});
