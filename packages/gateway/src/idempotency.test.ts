import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IdempotencyCache, type PlaceOutcome } from "./idempotency.ts";

const answer = (orderId: number, padding = 0): PlaceOutcome => ({ status: 201, body: { order: { orderId, note: "x".repeat(padding) }, fills: [] } });
/** What the cache answers: the outcome with its body's JSON text, made once. */
const answered = (outcome: PlaceOutcome): PlaceOutcome => ({ ...outcome, json: JSON.stringify(outcome.body) });

describe("idempotency cache", () => {
  it("runs an attempt once: a concurrent and a later retry get the first answer", async () => {
    const cache = new IdempotencyCache();
    let runs = 0;
    const attempt = (): Promise<PlaceOutcome> => {
      runs += 1;
      return Promise.resolve(answer(runs));
    };
    const first = cache.run("1\u0000a", attempt);
    const concurrent = cache.run("1\u0000a", attempt);
    expect(first.replay).toBe(false);
    expect(concurrent.replay).toBe(true);
    expect(await concurrent.outcome).toEqual(await first.outcome);
    const later = cache.run("1\u0000a", attempt);
    expect(later.replay).toBe(true);
    expect(await later.outcome).toEqual(answered(answer(1)));
    expect(runs).toBe(1);
  });

  it("forgets a server-side failure, so that a retry runs for real", async () => {
    const cache = new IdempotencyCache();
    await cache.run("k", () => Promise.resolve({ status: 503, body: { error: { code: "engine_busy" } } })).outcome;
    expect(cache.has("k")).toBe(false);
    expect(cache.bytes).toBe(0);
  });

  it("keeps at most maxBytes of answers, forgetting the oldest first, and counts exactly what it keeps", async () => {
    const one = JSON.stringify(answer(1, 100).body).length;
    const cache = new IdempotencyCache(1_000, one * 3 + 10);
    for (let i = 1; i <= 5; i += 1) await cache.run(`k${String(i)}`, () => Promise.resolve(answer(i, 100))).outcome;
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(3 * one);
    expect(["k1", "k2", "k3", "k4", "k5"].map((key) => cache.has(key))).toEqual([false, false, true, true, true]);
    // The kept ones still answer exactly.
    expect(await cache.run("k3", () => Promise.resolve(answer(99))).outcome).toEqual(answered(answer(3, 100)));
    cache.clear();
    expect(cache.bytes).toBe(0);
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, oldest first", async () => {
    const cache = new IdempotencyCache(2);
    for (let i = 1; i <= 3; i += 1) await cache.run(`k${String(i)}`, () => Promise.resolve(answer(i))).outcome;
    expect([cache.has("k1"), cache.has("k2"), cache.has("k3")]).toEqual([false, true, true]);
    expect(cache.bytes).toBe(2 * JSON.stringify(answer(1).body).length);
  });

  it("keeps answers of any text in its ring: each kept one replays exactly, the kept ones are the newest, and the bytes add up (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "grapheme", maxLength: 60 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 200, max: 2_000 }),
        fc.integer({ min: 2, max: 40 }),
        async (notes, maxBytes, maxEntries) => {
          const cache = new IdempotencyCache(maxEntries, maxBytes);
          const bodies = notes.map((note, i) => ({ order: { orderId: i, note }, fills: [] }));
          for (const [i, body] of bodies.entries()) await cache.run(`k${String(i)}`, () => Promise.resolve({ status: 201, body })).outcome;
          const kept = bodies.map((_, i) => cache.has(`k${String(i)}`));
          // The newest answer always fits (each is far below maxBytes), and what is kept is the newest ones.
          expect(kept.at(-1)).toBe(true);
          const firstKept = kept.indexOf(true);
          expect(kept.slice(firstKept).every(Boolean)).toBe(true);
          expect(cache.size).toBe(kept.length - firstKept);
          expect(cache.size).toBeLessThanOrEqual(maxEntries);
          let bytes = 0;
          for (let i = firstKept; i < bodies.length; i += 1) {
            const json = JSON.stringify(bodies[i]);
            bytes += Buffer.byteLength(json);
            const replayed = cache.run(`k${String(i)}`, () => Promise.reject(new Error("must not run again")));
            expect(replayed.replay).toBe(true);
            expect(await replayed.outcome).toEqual({ status: 201, body: bodies[i], json });
          }
          expect(cache.bytes).toBe(bytes);
          expect(bytes).toBeLessThanOrEqual(maxBytes);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("grows its ring up to the limit without losing an answer, and keeps answers that settle out of order", async () => {
    const cache = new IdempotencyCache(100_000, 1024 * 1024);
    const padded = (i: number): PlaceOutcome => answer(i, 900);
    for (let i = 0; i < 900; i += 1) await cache.run(`k${String(i)}`, () => Promise.resolve(padded(i))).outcome;
    expect(cache.size).toBe(900);
    for (const i of [0, 63, 64, 65, 500, 899]) expect(await cache.run(`k${String(i)}`, () => Promise.resolve(answer(-1))).outcome).toEqual(answered(padded(i)));
    let settleA: (outcome: PlaceOutcome) => void = () => undefined;
    const a = cache.run("a", () => new Promise<PlaceOutcome>((resolve) => (settleA = resolve)));
    await cache.run("b", () => Promise.resolve(answer(2))).outcome;
    settleA(answer(1));
    await a.outcome;
    expect(await cache.run("a", () => Promise.resolve(answer(-1))).outcome).toEqual(answered(answer(1)));
    expect(await cache.run("b", () => Promise.resolve(answer(-1))).outcome).toEqual(answered(answer(2)));
  });
});

