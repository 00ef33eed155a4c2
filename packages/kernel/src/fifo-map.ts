/**
 * A map that keeps its keys in insertion order and gives up the oldest entry in
 * constant time: the bounded caches' eviction order.
 *
 * A plain `Map` iterates in insertion order too, but V8 keeps a deleted entry's
 * slot until the table is next rebuilt, and `map.keys().next()` walks every such
 * slot from the front. A cache that is full and keeps evicting its oldest entry
 * therefore pays for all the entries it evicted before: at 100,000 entries each
 * eviction cost ≈ 30 µs. This map keeps its own order, a doubly linked list.
 */
interface Node<K, V> {
  readonly key: K;
  value: V;
  older: Node<K, V> | null;
  newer: Node<K, V> | null;
  /** Set once the entry is deleted, so an iteration standing on it moves on. */
  removed: boolean;
}

export class FifoMap<K, V> {
  readonly #nodes = new Map<K, Node<K, V>>();
  #oldest: Node<K, V> | null = null;
  #newest: Node<K, V> | null = null;

  get size(): number {
    return this.#nodes.size;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** Sets the value: a new key becomes the newest, a present key keeps its place (as `Map` does). */
  set(key: K, value: V): this {
    const present = this.#nodes.get(key);
    if (present !== undefined) {
      present.value = value;
      return this;
    }
    const node: Node<K, V> = { key, value, older: this.#newest, newer: null, removed: false };
    if (this.#newest === null) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
    this.#nodes.set(key, node);
    return this;
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    return true;
  }

  /** The oldest key, or undefined when empty. */
  oldestKey(): K | undefined {
    return this.#oldest?.key;
  }

  /** Removes the oldest entry and returns it, or undefined when empty. */
  shift(): readonly [K, V] | undefined {
    const node = this.#oldest;
    if (node === null) return undefined;
    this.#unlink(node);
    return [node.key, node.value];
  }

  clear(): void {
    for (let node = this.#oldest; node !== null; node = node.newer) node.removed = true;
    this.#nodes.clear();
    this.#oldest = null;
    this.#newest = null;
  }

  /** Entries oldest first. Deleting entries (the current one included) while iterating is safe. */
  *entries(): IterableIterator<[K, V]> {
    let node = this.#oldest;
    while (node !== null) {
      if (!node.removed) yield [node.key, node.value];
      // A deleted node keeps its link to what was newer, and that is never older than what is left.
      node = node.newer;
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  #unlink(node: Node<K, V>): void {
    this.#nodes.delete(node.key);
    node.removed = true;
    const { older, newer } = node;
    if (older === null) this.#oldest = newer;
    else older.newer = newer;
    if (newer === null) this.#newest = older;
    else newer.older = older;
  }
}
