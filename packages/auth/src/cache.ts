/**
 * A small bounded cache whose entries go stale after a fixed time on the injected
 * clock. Used for per-request lookups (session and user status) that must follow
 * changes made by other processes within seconds, and changes made by this
 * process at once (callers overwrite or delete entries when they change the row).
 *
 * `getOrLoad` refreshes ahead: an entry read in the second half of its lifetime is
 * reloaded in the background (once at a time per key) while the read is answered
 * from it, so a key in steady use never waits for the database — and never serves
 * a value older than the lifetime either. A background result lands only if nobody
 * changed or removed the entry meanwhile (a revocation made while the reload was in
 * flight is not undone by it).
 */
import { FifoMap } from "@tradestream/kernel";

interface Entry<V> {
  readonly value: V;
  readonly storedAtMs: number;
}

export class TtlCache<K, V> {
  readonly #entries = new FifoMap<K, Entry<V>>();
  readonly #loading = new Set<K>();
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
      // The oldest entry goes, in constant time however many went before it.
      this.#entries.shift();
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

  /**
   * The cached value, or `load`'s (cached; undefined is not cached). In the second half
   * of an entry's lifetime the cached value is returned and `load` runs in the
   * background; its errors go to `onError` and the entry simply ages out.
   */
  async getOrLoad(key: K, nowMs: number, load: () => Promise<V | undefined>, onError: (error: unknown) => void): Promise<V | undefined> {
    const entry = this.#entries.get(key);
    const age = entry === undefined ? Number.POSITIVE_INFINITY : nowMs - entry.storedAtMs;
    if (entry !== undefined && age >= 0 && age < this.#ttlMs) {
      if (age * 2 >= this.#ttlMs && !this.#loading.has(key)) {
        this.#loading.add(key);
        load()
          .then((value) => {
            // Only over the very entry this refresh started from: a change made meanwhile wins.
            if (value !== undefined && this.#entries.get(key) === entry) this.set(key, value, nowMs);
          }, onError)
          .finally(() => this.#loading.delete(key));
      }
      return entry.value;
    }
    const value = await load();
    if (value !== undefined) this.set(key, value, nowMs);
    return value;
  }
}
