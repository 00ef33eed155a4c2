import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FillRing, type FillView } from "./fill-ring.ts";
import type { Fill } from "./types.ts";

function fillOf(seq: number): Fill {
  return {
    tradeId: 1_000 + seq,
    orderId: 2 * seq + 1,
    accountId: 1 + (seq % 7),
    instrumentId: 1 + (seq % 3),
    side: seq % 2 === 0 ? "buy" : "sell",
    priceTicks: 10_000 + (seq % 50),
    qtyLots: 1 + (seq % 9),
    notionalMinor: 2 ** 40 + seq,
    feeMinor: seq % 11,
    liquidity: seq % 3 === 0 ? "maker" : "taker",
    tsUs: 1_767_225_600_000_000 + seq,
  };
}

describe("fill ring", () => {
  it("keeps what a map of the same fills keeps, and its views keep what it held when taken, through growth and wrap-around (property)", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.array(fc.tuple(fc.nat({ max: 3_000 }), fc.nat({ max: 3_000 }), fc.constantFrom("none", "take", "release")), { maxLength: 12 }),
        (start, rounds) => {
          const ring = new FillRing();
          const model = new Map<number, Fill>();
          const views: Array<{ view: FillView; seqs: number[] }> = [];
          let next = start;
          let oldest = start;
          for (const [adds, drops, viewAction] of rounds) {
            if (viewAction === "take") views.push({ view: ring.view(), seqs: [...model.keys()] });
            if (viewAction === "release") views.shift()?.view.release();
            for (let i = 0; i < adds; i += 1) {
              ring.push(next, fillOf(next));
              model.set(next, fillOf(next));
              next += 1;
            }
            for (let i = 0; i < drops && oldest < next; i += 1) {
              ring.dropOldest(oldest);
              model.delete(oldest);
              oldest += 1;
            }
            expect(ring.size).toBe(model.size);
            for (const seq of [oldest - 1, oldest, Math.floor((oldest + next) / 2), next - 1, next]) {
              expect(ring.get(seq)).toEqual(model.get(seq));
              const fill = model.get(seq);
              if (fill !== undefined) expect([ring.accountOf(seq), ring.instrumentOf(seq), ring.orderOf(seq)]).toEqual([fill.accountId, fill.instrumentId, fill.orderId]);
            }
            // Every view not released still reads the fills of its moment, whatever came and went since.
            for (const { view, seqs } of views) {
              expect(view.length).toBe(seqs.length);
              for (const i of [0, view.length >> 1, view.length - 1]) if (i >= 0 && i < view.length) expect(view.get(i)).toEqual(fillOf(seqs[i] as number));
            }
          }
          for (const [seq, fill] of model) expect(ring.get(seq)).toEqual(fill);
          for (const { view, seqs } of views) expect([...view]).toEqual(seqs.map(fillOf));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("makes records with the fields in the order the read model's records have them", () => {
    const ring = new FillRing();
    ring.push(5, fillOf(5));
    expect(Object.keys(ring.get(5) ?? {})).toEqual(Object.keys(fillOf(5)));
    expect(JSON.stringify(ring.get(5))).toBe(JSON.stringify(fillOf(5)));
  });

  it("refuses a fill out of sequence and a drop that is not the oldest", () => {
    const ring = new FillRing();
    ring.push(10, fillOf(10));
    expect(() => ring.push(12, fillOf(12))).toThrow(/does not follow 10/);
    expect(() => ring.dropOldest(11)).toThrow(/not the oldest/);
    ring.dropOldest(10);
    expect(() => ring.dropOldest(11)).toThrow(/not the oldest/);
    expect(ring.get(10)).toBeUndefined();
    // Emptied, it starts again wherever the next fill is numbered.
    ring.push(40, fillOf(40));
    expect(ring.get(40)).toEqual(fillOf(40));
  });
});
