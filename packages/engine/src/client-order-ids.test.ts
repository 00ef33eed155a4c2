import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ChunkWriter } from "./chunk-writer.ts";
import { ClientOrderIdSet, hash30, rowTextSteps, type ClientOrderIdsRow } from "./client-order-ids.ts";

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

describe("client order id set: add-if-absent and take back", () => {
  it("agrees with a plain Set under adds, re-adds and removals of the last id (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.boolean()), { maxLength: 600 }),
        (steps) => {
          const ours = new ClientOrderIdSet();
          const reference: string[] = [];
          for (const [id, takeBack] of steps) {
            const fresh = !reference.includes(id);
            expect(ours.addIfAbsent(id)).toBe(fresh);
            if (fresh) reference.push(id);
            if (fresh && takeBack) {
              ours.removeLast(id);
              reference.pop();
            }
            expect(ours.has(id)).toBe(fresh ? !takeBack : true);
          }
          expect(ours.size).toBe(reference.length);
          for (const id of reference) expect(ours.has(id)).toBe(true);
          expect([...ours].sort()).toEqual([...reference].sort());
        },
      ),
    );
  });

  it("keeps every id findable when the id taken back had moved in a resize", () => {
    // 33 ids fill a 64-slot table past half, so the 33rd add doubles it; taking that id back must
    // leave the other 32 reachable whatever slots the resize gave them.
    for (let round = 0; round < 50; round += 1) {
      const ids = new ClientOrderIdSet();
      const added = Array.from({ length: 33 }, (_, i) => `r${round}-${i}`);
      for (const id of added) expect(ids.addIfAbsent(id)).toBe(true);
      const last = added.pop() as string;
      ids.removeLast(last);
      expect(ids.has(last)).toBe(false);
      for (const id of added) expect(ids.has(id)).toBe(true);
      expect(ids.size).toBe(32);
      expect(ids.addIfAbsent(last)).toBe(true);
    }
  });

  it("finds every id while a grown table moves into its successor a few slots per add", () => {
    const ids = new ClientOrderIdSet();
    const added: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const id = `g${i}`;
      expect(ids.addIfAbsent(id)).toBe(true);
      added.push(id);
      if (i % 7 === 3) {
        ids.removeLast(id);
        added.pop();
        expect(ids.has(id)).toBe(false);
      }
      // Earlier ids stay findable at every step of every resize, and are still refused as duplicates.
      const earlier = added[(i * 7_919) % added.length] as string;
      expect(ids.has(earlier)).toBe(true);
      expect(ids.addIfAbsent(earlier)).toBe(false);
    }
    expect(ids.size).toBe(added.length);
    for (const id of added) expect(ids.has(id)).toBe(true);
    expect([...ids]).toEqual(added);
  });

  it("refuses to take back an id that was not added last", () => {
    const ids = new ClientOrderIdSet();
    ids.add("a");
    ids.add("b");
    expect(() => ids.removeLast("a")).toThrow(RangeError);
    expect(() => new ClientOrderIdSet().removeLast("a")).toThrow(RangeError);
  });

  it("iterates ids that share a hash grouped by their first insertion, as the hash-keyed map did", () => {
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
    const ids = new ClientOrderIdSet();
    for (const id of [first, "x1", "x2", second, "x3"]) ids.add(id);
    expect([...ids]).toEqual([first, second, "x1", "x2", "x3"]);
  });
});

describe("client order id set: numbered ids", () => {
  /** Ids as clients number them: a few prefixes, counters that mostly grow, sometimes go back or carry leading zeros. */
  const numberedId = fc
    .tuple(fc.constantFrom("o", "o-", "x", "", "9a"), fc.nat({ max: 60 }), fc.constantFrom("", "", "", "0", "00"))
    .map(([prefix, counter, zeros]) => `${prefix}${zeros}${counter}`);

  it("agrees with a plain Set under adds, re-adds, take-backs and clears (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(numberedId, fc.nat({ max: 9 })), { maxLength: 800 }), (steps) => {
        const ours = new ClientOrderIdSet();
        let reference: string[] = [];
        for (const [id, dice] of steps) {
          if (dice === 0) {
            ours.clear();
            reference = [];
            continue;
          }
          expect(ours.has(id)).toBe(reference.includes(id));
          const fresh = !reference.includes(id);
          expect(ours.addIfAbsent(id)).toBe(fresh);
          if (fresh) reference.push(id);
          if (fresh && dice === 1) {
            ours.removeLast(id);
            reference.pop();
            expect(ours.has(id)).toBe(false);
          }
          expect(ours.size).toBe(reference.length);
        }
        for (const id of reference) expect(ours.has(id)).toBe(true);
        expect([...ours].sort()).toEqual([...reference].sort());
      }),
    );
  });

  it("takes back a run of numbered ids one by one, newest first, and re-accepts them", () => {
    const ids = new ClientOrderIdSet();
    const added = ["n7", "n9", "n8", "m1", "n10", "n11"];
    for (const id of added) expect(ids.addIfAbsent(id)).toBe(true);
    for (const id of [...added].reverse()) {
      ids.removeLast(id);
      expect(ids.has(id)).toBe(false);
    }
    expect(ids.size).toBe(0);
    for (const id of added) expect(ids.addIfAbsent(id)).toBe(true);
    for (const id of added) expect(ids.addIfAbsent(id)).toBe(false);
  });

  it("tells numbered ids apart from their spellings with leading zeros", () => {
    const ids = new ClientOrderIdSet();
    expect(ids.addIfAbsent("c5")).toBe(true);
    expect(ids.addIfAbsent("c05")).toBe(true);
    expect(ids.addIfAbsent("c005")).toBe(true);
    expect(ids.has("c5") && ids.has("c05") && ids.has("c005")).toBe(true);
    expect(ids.has("c0005")).toBe(false);
    expect(ids.addIfAbsent("c5")).toBe(false);
    expect(ids.addIfAbsent("c0")).toBe(true);
    expect(ids.addIfAbsent("c0")).toBe(false);
  });

  it("handles counters too long to be numbers in the table", () => {
    const ids = new ClientOrderIdSet();
    const long = "q1234567890123456";
    expect(ids.addIfAbsent("q1")).toBe(true);
    expect(ids.addIfAbsent(long)).toBe(true);
    expect(ids.addIfAbsent(`${long}7`)).toBe(true);
    expect(ids.has(long)).toBe(true);
    expect(ids.addIfAbsent(long)).toBe(false);
    expect(ids.addIfAbsent("q999999999999999")).toBe(true);
    expect(ids.has("q999999999999999")).toBe(true);
  });

  describe("snapshot rows", () => {
    // Numbered ids under a few prefixes (the first numbered id fixes the run's), counters that go
    // back, leading zeros and free text: every path of the set.
    const idArbitrary = fc.oneof(
      fc.tuple(fc.constantFrom("o", "ws-3-", "rest-3-", ""), fc.integer({ min: 0, max: 60 })).map(([prefix, n]) => `${prefix}${String(n)}`),
      fc.constantFrom("o007", "x", "ws-3-", "o-1", "é1"),
      fc.string({ maxLength: 4 }),
    );

    it("restore a set that answers and grows exactly as the one the row was taken from (property)", () => {
      fc.assert(
        fc.property(fc.array(idArbitrary, { maxLength: 200 }), fc.array(idArbitrary, { maxLength: 100 }), fc.boolean(), (before, after, undoLast) => {
          const original = new ClientOrderIdSet();
          for (const id of before) original.addIfAbsent(id);
          // An order rejected after its id was taken gives the id back.
          const last = before.at(-1);
          if (undoLast && last !== undefined && original.has(last) && before.indexOf(last) === before.length - 1) original.removeLast(last);
          const row = original.toRow();
          const restored = new ClientOrderIdSet();
          restored.restoreFrom(JSON.parse(JSON.stringify(row)) as typeof row);
          expect(restored.toRow()).toEqual(row);
          expect(restored.size).toBe(original.size);
          expect([...restored]).toEqual([...original]);
          for (const id of after) expect(restored.addIfAbsent(id)).toBe(original.addIfAbsent(id));
          expect(restored.toRow()).toEqual(original.toRow());
        }),
      );
    });

    it("are written in steps, while ids keep arriving and the day is cleared, as JSON.stringify spells the row (property)", () => {
      fc.assert(
        fc.property(
          fc.array(idArbitrary, { maxLength: 200 }),
          fc.array(idArbitrary, { maxLength: 100 }),
          fc.integer({ min: 1, max: 8 }),
          fc.option(fc.nat({ max: 100 }), { nil: null }),
          (before, after, idsPerStep, clearAt) => {
            const set = new ClientOrderIdSet();
            for (const id of before) set.addIfAbsent(id);
            const expected = JSON.stringify(set.toRow());
            const out = new ChunkWriter();
            const steps = rowTextSteps(set.capture(), out, idsPerStep);
            let next = 0;
            do {
              // Before each step: an id arrives (or is refused and given back), or the day ends.
              if (next === clearAt) set.clear();
              const id = after[next];
              if (id !== undefined && set.addIfAbsent(id) && next % 2 === 0) set.removeLast(id);
              next += 1;
            } while (steps.next().done !== true);
            out.flush();
            expect(new TextDecoder().decode(Buffer.concat(out.chunks))).toBe(expected);
          },
        ),
      );
    });

    it("keep consecutive counters as one span", () => {
      const set = new ClientOrderIdSet();
      for (let n = 1; n <= 10_000; n += 1) set.add(`o${String(n)}`);
      set.add("o20000");
      for (let n = 1; n <= 500; n += 1) set.add(`ws-1-${String(n)}`);
      const row = set.toRow();
      expect(row.prefix).toBe("o");
      expect(row.run).toEqual([1, 10_000, 20_000, 1]);
      expect(row.table).toEqual([["ws-1-", 1, 500]]);
      expect(row.positions).toEqual([10_001, 500]);
    });

    it("are refused when they break the set's invariants", () => {
      const restore = (row: ClientOrderIdsRow): void => new ClientOrderIdSet().restoreFrom(row);
      expect(() => restore({ prefix: "o", run: [1, 3], table: ["x", "x"], positions: [3, 2] })).toThrow(/twice/);
      expect(() => restore({ prefix: "o", run: [1, 3], table: ["o2"], positions: [3, 1] })).toThrow(/twice/);
      expect(() => restore({ prefix: "o", run: [1, 3], table: ["o9"], positions: [3, 1] })).toThrow(/above its largest counter/);
      expect(() => restore({ prefix: "o", run: [5, 2, 3, 1], table: [], positions: [] })).toThrow(/out of order/);
      expect(() => restore({ prefix: null, run: [1, 1], table: [], positions: [] })).toThrow(/prefix/);
      expect(() => restore({ prefix: "o", run: [1, 1], table: ["x"], positions: [] })).toThrow(/positions/);
      // A span must spell its ids as the set would: a prefix that ends in a digit cannot.
      expect(() => restore({ prefix: "o", run: [1, 1], table: [["x1", 5, 2]], positions: [1, 2] })).toThrow(/cannot prefix/);
      expect(() => restore({ prefix: "o", run: [1, 1], table: [["x", 5, 1]], positions: [1, 1] })).toThrow(/malformed/);
      const set = new ClientOrderIdSet();
      set.add("o1");
      expect(() => set.restoreFrom({ prefix: null, run: [], table: [], positions: [] })).toThrow(/empty/);
    });
  });
});

