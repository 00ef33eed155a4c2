import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CashSlot, PositionSlot } from "./account.ts";
import { Order } from "./order.ts";
import { OrderIndex } from "./order-index.ts";

const cash = new CashSlot(1, "EUR");
const position = new PositionSlot(1, 1);
const order = (id: number): Order => new Order().open(id, 1, 1, `c${id}`, "buy", "limit", "GTC", 100, 0, 1, 1, 0, false, 0, 0, 0, cash, position);

describe("order index", () => {
  it("agrees with a Map under increasing adds, removals and lookups, including iteration order (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 700 }) }), fc.record({ remove: fc.nat() }), fc.record({ lookup: fc.integer({ min: -2, max: 5_000 }) })), { maxLength: 400 }),
        (steps) => {
          const ours = new OrderIndex();
          const reference = new Map<number, Order>();
          let nextId = 0;
          for (const step of steps) {
            if ("add" in step) {
              nextId += step.add;
              const added = order(nextId);
              ours.set(nextId, added);
              reference.set(nextId, added);
            } else if ("remove" in step) {
              const ids = [...reference.keys()];
              const id = ids.length === 0 ? step.remove : (ids[step.remove % ids.length] as number);
              expect(ours.delete(id)).toBe(reference.delete(id));
            } else {
              expect(ours.get(step.lookup)).toBe(reference.get(step.lookup));
              expect(ours.has(step.lookup)).toBe(reference.has(step.lookup));
            }
            expect(ours.size).toBe(reference.size);
          }
          expect([...ours.keys()]).toEqual([...reference.keys()]);
          expect([...ours.values()]).toEqual([...reference.values()]);
          expect([...ours]).toEqual([...reference]);
        },
      ),
    );
  });

  it("refuses an id that is not above every id added before", () => {
    const index = new OrderIndex();
    index.set(5, order(5));
    expect(() => index.set(5, order(5))).toThrow();
    expect(() => index.set(3, order(3))).toThrow();
    index.delete(5);
    expect(() => index.set(4, order(4))).toThrow();
    index.set(6, order(6));
    expect([...index.keys()]).toEqual([6]);
  });

  it("finds nothing under ids that cannot be order ids", () => {
    const index = new OrderIndex();
    index.set(1, order(1));
    for (const id of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(index.get(id)).toBeUndefined();
      expect(index.delete(id)).toBe(false);
    }
    expect(index.get(1)?.id).toBe(1);
  });

  it("drops a page when its last order goes and keeps id order when the newest page comes back", () => {
    const index = new OrderIndex();
    index.set(1, order(1));
    index.set(300, order(300));
    index.set(301, order(301));
    index.delete(300);
    index.delete(301);
    index.set(302, order(302));
    index.set(2_000, order(2_000));
    index.delete(1);
    expect([...index.keys()]).toEqual([302, 2_000]);
    expect(index.size).toBe(2);
  });
});
