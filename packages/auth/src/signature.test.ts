import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { lockDurationMs } from "./service.ts";
import { NonceCache, canonicalRequest, signRequest } from "./signature.ts";

describe("signRequest", () => {
  const parts = { timestamp: "1767603600000", nonce: "abcdefgh", method: "post", path: "/v1/orders?x=1", body: '{"a":1}' };

  it("is the hex HMAC-SHA256 of the canonical string under SHA-256(secret)", () => {
    const bodyHash = createHash("sha256").update('{"a":1}').digest("hex");
    expect(canonicalRequest(parts)).toBe(`1767603600000\nabcdefgh\nPOST\n/v1/orders?x=1\n${bodyHash}`);
    const key = createHash("sha256").update("tsk_secret").digest();
    const expected = createHmac("sha256", key).update(canonicalRequest(parts)).digest("hex");
    expect(signRequest("tsk_secret", parts)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with every part", () => {
    const base = signRequest("s", parts);
    for (const change of [{ timestamp: "1767603600001" }, { nonce: "abcdefgi" }, { method: "GET" }, { path: "/v1/orders?x=2" }, { body: '{"a":2}' }]) {
      expect(signRequest("s", { ...parts, ...change })).not.toBe(base);
    }
    expect(signRequest("t", parts)).not.toBe(base);
  });
});

describe("NonceCache", () => {
  it("remembers a nonce per key until it expires", () => {
    const cache = new NonceCache(10);
    expect(cache.remember("k1", "n1", 1_000, 0)).toBe("fresh");
    expect(cache.remember("k1", "n1", 1_000, 500)).toBe("replayed");
    expect(cache.remember("k2", "n1", 1_000, 500)).toBe("fresh");
    expect(cache.remember("k1", "n1", 2_000, 1_001)).toBe("fresh");
  });

  it("is bounded: at capacity it drops expired entries, and refuses when none has expired", () => {
    const cache = new NonceCache(3);
    for (const n of ["a", "b", "c"]) expect(cache.remember("k", n, 100, 0)).toBe("fresh");
    expect(cache.size).toBe(3);
    expect(cache.remember("k", "d", 100, 50)).toBe("full");
    expect(cache.remember("k", "d", 300, 101)).toBe("fresh");
    expect(cache.size).toBe(1);
  });
});

describe("lockDurationMs", () => {
  const policy = { maxFailures: 5, baseLockS: 30, maxLockS: 3600 };

  it("is zero below the limit, base at it, doubling past it, capped", () => {
    expect(lockDurationMs(policy, 4)).toBe(0);
    expect(lockDurationMs(policy, 5)).toBe(30_000);
    expect(lockDurationMs(policy, 6)).toBe(60_000);
    expect(lockDurationMs(policy, 11)).toBe(1_920_000);
    expect(lockDurationMs(policy, 12)).toBe(3_600_000);
    expect(lockDurationMs(policy, 10_000)).toBe(3_600_000);
  });
});
