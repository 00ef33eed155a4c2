/**
 * Token-bucket rate limits per key (user id, client IP). In-process: each
 * gateway replica limits what reaches it. Buckets are refilled lazily on use and
 * idle ones are swept, so memory stays bounded by the number of active clients.
 * At `maxKeys` the oldest bucket goes, in constant time (`FifoMap`: many new keys,
 * as a spread of addresses brings, must not make each request walk the evicted ones).
 */
import { FifoMap } from "@tradestream/kernel";

export interface RateLimit {
  /** Sustained requests per second. */
  readonly ratePerS: number;
  /** Requests allowed in a burst above the sustained rate. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new FifoMap<string, Bucket>();
  private lastSweepMs = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Takes `cost` tokens (one request, or each order of a batch); returns 0 when allowed, else the
   * seconds to wait before retrying. A refused take takes nothing.
   */
  take(key: string, cost = 1): number {
    const now = this.now();
    this.sweep(now);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
      bucket = { tokens: this.limit.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.updatedMs) / 1000) * this.limit.ratePerS;
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + refill);
      bucket.updatedMs = now;
    }
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - bucket.tokens) / this.limit.ratePerS));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweepMs < 10_000) return;
    this.lastSweepMs = now;
    const fullAfterMs = (this.limit.burst / this.limit.ratePerS) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.updatedMs > fullAfterMs) this.buckets.delete(key);
  }

  private evictOldest(): void {
    this.buckets.shift();
  }
}

/**
 * Parses rate limits from configuration text such as "ip=2000/4000,user=1000/2000,auth=5/20"
 * (sustained per second / burst); scopes not named keep their defaults.
 */
export function parseRateLimits<K extends string>(text: string, defaults: Readonly<Record<K, RateLimit>>): Record<K, RateLimit> {
  const result: Record<K, RateLimit> = { ...defaults };
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const match = /^(\w+)=(\d+(?:\.\d+)?)\/(\d+)$/.exec(part);
    if (match === null) throw new Error(`rate limit "${part}" must look like scope=ratePerSecond/burst`);
    const [, scope = "", rate = "", burst = ""] = match;
    if (!(scope in defaults)) throw new Error(`unknown rate-limit scope "${scope}" (known: ${Object.keys(defaults).join(", ")})`);
    const limit = { ratePerS: Number(rate), burst: Number(burst) };
    if (!(limit.ratePerS > 0) || !(limit.burst >= 1)) throw new Error(`rate limit "${part}" must be positive`);
    result[scope as K] = limit;
  }
  return result;
}
