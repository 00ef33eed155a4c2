/**
 * A small bounded cache whose entries go stale after a fixed time on the injected
 * clock. Used for per-request lookups (session and user status) that must follow
 * changes made by other processes within seconds, and changes made by this
 * process at once (callers overwrite or delete entries when they change the row).
 */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, { value: V; storedAtMs: number }>();
  readonly #ttlMs: number;
  readonly #capacity: number;

  constructor(ttlMs: number, capacity: number) {
    this.#ttlMs = ttlMs;
    this.#capacity = capacity;
  }

  get(key: K, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs - entry.storedAtMs >= this.#ttlMs || nowMs < entry.storedAtMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, nowMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, storedAtMs: nowMs });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (predicate(entry.value)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
