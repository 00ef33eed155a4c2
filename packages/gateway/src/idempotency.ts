/**
 * Place-order idempotency: `clientOrderId` is the key, per account. A retry —
 * while the first attempt is in flight or after it answered — gets the first
 * attempt's answer (status and body), never a second execution. Bounded by
 * count and by the bytes of the kept answers: the oldest are forgotten first, and
 * the orders read model still answers for accepted orders after that (with the
 * order as it is now). Cleared at end of day, when ids may be reused.
 *
 * Where the answers live matters more than their number. As strings, every
 * answer (≈ 300 B–1 KB of JSON) outlived the young generation: it was copied by
 * a scavenge, promoted, then marked by every major collection — a quarter of
 * what the gateway's scavenges copied, and their pauses are the order path's
 * tail. The answers' UTF-8 bytes are therefore written into one buffer used as a
 * ring (outside the collector's heap); an entry keeps only where its answer is.
 * An answer is forgotten when the ring wraps over it, or when the entry count
 * limit takes its entry. The eviction order is a `FifoMap`: with a plain `Map`,
 * finding the oldest entry of a full cache walked every slot evicted before it
 * (≈ 30 µs per order at 100,000 entries).
 */
import { FifoMap } from "@tradestream/kernel";

/** Bytes of kept answers (their UTF-8 JSON text) before the oldest are forgotten: 32 MiB, ≈ 40,000–100,000 answers. */
export const idempotencyBytesMaxDefault = 32 * 1024 * 1024;
/** The ring starts this small and doubles up to its limit, so an idle gateway does not hold the whole limit. */
const ringBytesInitial = 64 * 1024;

export interface PlaceOutcome {
  readonly status: number;
  readonly body: unknown;
  /** `body` as JSON text, when the cache made it: the answer is sent as that text, not serialized again. */
  readonly json?: string;
}

/** A settled answer: its status and where its JSON text is in the ring (`start` counts every byte the ring ever took). */
interface Kept {
  readonly status: number;
  readonly start: number;
  readonly length: number;
}

export class IdempotencyCache {
  private readonly entries = new FifoMap<string, Promise<PlaceOutcome> | Kept>();
  private ring = Buffer.allocUnsafe(0);
  /** Bytes the ring ever took, skipped ends included: the next answer goes at `written % capacity` or later. */
  private written = 0;
  /** Kept answers in the order they were written, with their entry; `ringHead` is the oldest not yet overwritten. */
  private ringOrder: Array<{ readonly key: string; readonly kept: Kept }> = [];
  private ringHead = 0;
  /** Bytes of JSON held by the kept answers. */
  private keptBytes = 0;

  constructor(
    private readonly maxEntries = 100_000,
    private readonly maxBytes = idempotencyBytesMaxDefault,
  ) {}

  static key(accountId: number, clientOrderId: string): string {
    return `${String(accountId)}\u0000${clientOrderId}`;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Runs `attempt` once per key; concurrent and later callers share its outcome. */
  run(key: string, attempt: () => Promise<PlaceOutcome>): { readonly outcome: Promise<PlaceOutcome>; readonly replay: boolean } {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing instanceof Promise) return { outcome: existing, replay: true };
      const at = existing.start % this.ring.length;
      const json = this.ring.toString("utf8", at, at + existing.length);
      return { outcome: Promise.resolve({ status: existing.status, body: JSON.parse(json) as unknown, json }), replay: true };
    }
    const pending = attempt().then(
      (outcome): PlaceOutcome => {
        const json = JSON.stringify(outcome.body);
        // Server-side failures (overload, I/O) are not results: let the client retry for real.
        if (outcome.status >= 500) this.entries.delete(key);
        else if (this.entries.get(key) === pending) this.keep(key, outcome.status, json);
        return { status: outcome.status, body: outcome.body, json };
      },
      (error: unknown) => {
        this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, pending);
    this.evictEntries();
    return { outcome: pending, replay: false };
  }

  /** Writes an answer into the ring (forgetting those it overwrites) and keeps where it is; an answer larger than the ring is not kept. */
  private keep(key: string, status: number, json: string): void {
    const length = Buffer.byteLength(json, "utf8");
    if (length > this.maxBytes) {
      this.entries.delete(key);
      return;
    }
    if (this.ring.length < this.maxBytes && this.written + length > this.ring.length) this.grow(this.written + length);
    const capacity = this.ring.length;
    let at = this.written % capacity;
    if (at + length > capacity) {
      // Not enough room before the end: skip it, and start again at the ring's beginning.
      this.written += capacity - at;
      at = 0;
    }
    this.forgetOverwritten(this.written + length - capacity);
    this.ring.write(json, at, length, "utf8");
    const kept: Kept = { status, start: this.written, length };
    this.written += length;
    this.keptBytes += length;
    this.ringOrder.push({ key, kept });
    // In place of its pending promise: the entry count does not change.
    this.entries.set(key, kept);
  }

  /** A larger ring (before it ever wrapped, so every answer keeps its offset). */
  private grow(needed: number): void {
    let capacity = Math.max(this.ring.length, ringBytesInitial);
    while (capacity < needed && capacity < this.maxBytes) capacity *= 2;
    capacity = Math.min(capacity, this.maxBytes);
    if (capacity === this.ring.length) return;
    const ring = Buffer.allocUnsafe(capacity);
    this.ring.copy(ring, 0, 0, Math.min(this.written, this.ring.length));
    this.ring = ring;
  }

  /** Forgets the kept answers that start before `through` (the ring is about to overwrite them). */
  private forgetOverwritten(through: number): void {
    while (this.ringHead < this.ringOrder.length) {
      const oldest = this.ringOrder[this.ringHead] as { readonly key: string; readonly kept: Kept };
      if (oldest.kept.start >= through) break;
      this.ringHead += 1;
      // The entry may be gone already (count limit, clear) or hold a newer answer for the key.
      if (this.entries.get(oldest.key) === oldest.kept) {
        this.entries.delete(oldest.key);
        this.keptBytes -= oldest.kept.length;
      }
    }
    if (this.ringHead >= 1_024 && this.ringHead * 2 >= this.ringOrder.length) {
      this.ringOrder = this.ringOrder.slice(this.ringHead);
      this.ringHead = 0;
    }
  }

  /** Forgets the oldest entries while there are too many. */
  private evictEntries(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.shift();
      if (oldest === undefined) return;
      const entry = oldest[1];
      if (!(entry instanceof Promise)) this.keptBytes -= entry.length;
    }
  }

  /** Bytes of JSON held by the kept answers. */
  get bytes(): number {
    return this.keptBytes;
  }

  clear(): void {
    this.entries.clear();
    this.ringOrder = [];
    this.ringHead = 0;
    this.written = 0;
    this.keptBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
