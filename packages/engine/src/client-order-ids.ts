/**
 * The client order ids an account used this trading day. Looked up once per
 * order, so it is on the hot path: ids are keyed by a 30-bit FNV-1a hash (a
 * small integer key hashes and compares without touching the string), and the
 * string itself is compared only on a hash match, so a collision never rejects a
 * fresh id. Iteration (for snapshots) is deterministic: by first insertion of
 * each hash, then insertion within it.
 */
export function hash30(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x3fffffff;
}

export class ClientOrderIdSet {
  private readonly byHash = new Map<number, string | string[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(id: string): boolean {
    const entry = this.byHash.get(hash30(id));
    if (entry === undefined) return false;
    return typeof entry === "string" ? entry === id : entry.includes(id);
  }

  /** Adds an id that is not in the set (callers check `has` first). */
  add(id: string): void {
    const key = hash30(id);
    const entry = this.byHash.get(key);
    if (entry === undefined) this.byHash.set(key, id);
    else if (typeof entry === "string") this.byHash.set(key, [entry, id]);
    else entry.push(id);
    this.count += 1;
  }

  clear(): void {
    this.byHash.clear();
    this.count = 0;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    for (const entry of this.byHash.values()) {
      if (typeof entry === "string") yield entry;
      else yield* entry;
    }
  }
}
