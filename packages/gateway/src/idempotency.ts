/**
 * Place-order idempotency: `clientOrderId` is the key, per account. A retry —
 * while the first attempt is in flight or after it answered — gets the first
 * attempt's answer (status and body), never a second execution. Bounded: the
 * oldest answers are forgotten first; the orders read model still answers for
 * accepted orders after that. Cleared at end of day, when ids may be reused.
 */
export interface PlaceOutcome {
  readonly status: number;
  readonly body: unknown;
}

/** A settled answer kept compactly: the body as JSON text (a fraction of the memory of the object graph). */
interface Kept {
  readonly status: number;
  readonly json: string;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Promise<PlaceOutcome> | Kept>();

  constructor(private readonly maxEntries = 100_000) {}

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
      const outcome = existing instanceof Promise ? existing : Promise.resolve({ status: existing.status, body: JSON.parse(existing.json) as unknown });
      return { outcome, replay: true };
    }
    const pending = attempt().then(
      (outcome) => {
        // Server-side failures (overload, I/O) are not results: let the client retry for real.
        if (outcome.status >= 500) this.entries.delete(key);
        else if (this.entries.has(key)) this.entries.set(key, { status: outcome.status, json: JSON.stringify(outcome.body) });
        return outcome;
      },
      (error: unknown) => {
        this.entries.delete(key);
        throw error;
      },
    );
    this.entries.set(key, pending);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return { outcome: pending, replay: false };
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
