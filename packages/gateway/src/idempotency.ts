/**
 * Place-order idempotency: `clientOrderId` is the key, per account. A retry —
 * while the first attempt is in flight or after it answered — gets the first
 * attempt's answer (status and body), never a second execution. Bounded by
 * count and by the bytes of the kept answers: the oldest are forgotten first, and
 * the orders read model still answers for accepted orders after that (with the
 * order as it is now). The byte bound matters: an answer with its fills is ≈ 1 KB,
 * so 100,000 kept answers were ≈ 100 MB of old-generation strings that every
 * major collection had to mark. Cleared at end of day, when ids may be reused.
 * The eviction order is a `FifoMap`: with a plain `Map`, finding the oldest entry
 * of a full cache walked every slot evicted before it (≈ 30 µs per order at
 * 100,000 entries).
 */
import { FifoMap } from "@tradestream/kernel";


/** Bytes of kept answers (their JSON text) before the oldest are forgotten: 32 MiB, ≈ 40,000 answers of a few fills each. */
export const idempotencyBytesMaxDefault = 32 * 1024 * 1024;
export interface PlaceOutcome {
  readonly status: number;
  readonly body: unknown;
  /** `body` as JSON text, when the cache made it: the answer is sent as that text, not serialized again. */
  readonly json?: string;
}

/** A settled answer kept compactly: the body as JSON text (a fraction of the memory of the object graph). */
interface Kept {
  readonly status: number;
  readonly json: string;
}

export class IdempotencyCache {
  private readonly entries = new FifoMap<string, Promise<PlaceOutcome> | Kept>();
  /** Characters of JSON held by the kept answers (one byte each for the ASCII they are). */
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
      const outcome = existing instanceof Promise ? existing : Promise.resolve({ status: existing.status, body: JSON.parse(existing.json) as unknown, json: existing.json });
      return { outcome, replay: true };
    }
    const pending = attempt().then(
      (outcome): PlaceOutcome => {
        const json = JSON.stringify(outcome.body);
        // Server-side failures (overload, I/O) are not results: let the client retry for real.
        if (outcome.status >= 500) this.entries.delete(key);
        else if (this.entries.has(key)) {
          this.entries.set(key, { status: outcome.status, json });
          this.keptBytes += json.length;
          this.evict();
        }
        return { status: outcome.status, body: outcome.body, json };
      },
      (error: unknown) => {
        this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, pending);
    this.evict();
    return { outcome: pending, replay: false };
  }

  /** Forgets the oldest entries while there are too many or their answers hold too many bytes. */
  private evict(): void {
    while (this.entries.size > this.maxEntries || this.keptBytes > this.maxBytes) {
      const oldest = this.entries.shift();
      if (oldest === undefined) return;
      const entry = oldest[1];
      if (!(entry instanceof Promise)) this.keptBytes -= entry.json.length;
    }
  }

  /** Characters of JSON held by the kept answers. */
  get bytes(): number {
    return this.keptBytes;
  }

  clear(): void {
    this.entries.clear();
    this.keptBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
