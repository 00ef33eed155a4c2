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
});
