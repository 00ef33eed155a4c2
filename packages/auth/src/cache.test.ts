// The status cache: bounded, aged on the injected clock, refreshed ahead of expiry without making readers wait.
import { describe, expect, it } from "vitest";
import { TtlCache } from "./cache.ts";

describe("TtlCache.getOrLoad", () => {
  const ttl = 5_000;

  it("loads on a miss, answers from the cache while fresh, and reloads in the background in the second half of the lifetime", async () => {
    const cache = new TtlCache<string, number>(ttl, 10);
    let stored = 1;
    let loads = 0;
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const load = async (): Promise<number> => {
      loads += 1;
      await gate;
      return stored;
    };
    const errors: unknown[] = [];
    expect(await cache.getOrLoad("s", 0, load, (e) => errors.push(e))).toBe(1);
    stored = 2;
    expect(await cache.getOrLoad("s", 2_000, load, (e) => errors.push(e))).toBe(1); // fresh: no load
    expect(loads).toBe(1);
    gate = new Promise<void>((resolve) => (release = resolve));
    // Second half: answered at once from the cache, one background reload however many readers.
    expect(await cache.getOrLoad("s", 3_000, load, (e) => errors.push(e))).toBe(1);
    expect(await cache.getOrLoad("s", 3_100, load, (e) => errors.push(e))).toBe(1);
    expect(loads).toBe(2);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await cache.getOrLoad("s", 3_200, load, (e) => errors.push(e))).toBe(2);
    // Never older than the lifetime: past it, the reader waits for a load.
    stored = 3;
    expect(await cache.getOrLoad("s", 3_000 + ttl, load, (e) => errors.push(e))).toBe(3);
    expect(errors).toEqual([]);
  });

  it("does not let a background reload undo a change made while it was in flight", async () => {
    const cache = new TtlCache<string, string>(ttl, 10);
    await cache.getOrLoad("session", 0, () => Promise.resolve("active"), () => undefined);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The reload read the row before the revocation committed…
    expect(await cache.getOrLoad("session", 3_000, async () => (await gate, "active"), () => undefined)).toBe("active");
    // …the revocation lands in the cache…
    cache.set("session", "revoked", 3_001);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    // …and stays.
    expect(await cache.getOrLoad("session", 3_002, () => Promise.resolve("active"), () => undefined)).toBe("revoked");
  });

  it("reports a failed background reload and keeps serving the entry until it expires", async () => {
    const cache = new TtlCache<string, number>(ttl, 10);
    await cache.getOrLoad("u", 0, () => Promise.resolve(7), () => undefined);
    const errors: unknown[] = [];
    expect(await cache.getOrLoad("u", 4_000, () => Promise.reject(new Error("database down")), (e) => errors.push(e))).toBe(7);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors).toHaveLength(1);
    await expect(cache.getOrLoad("u", ttl + 1, () => Promise.reject(new Error("database down")), () => undefined)).rejects.toThrow(/database down/);
  });
});
