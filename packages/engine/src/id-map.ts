/**
 * A `Map` from integer ids that also keeps the entries of small ids in an array
 * indexed by id, so the hot path reaches an account or instrument by `find(id)`,
 * an array load, instead of hashing. Ids are assigned by operators and are usually
 * small and dense; any other id (large, negative, fractional) is found through the
 * map as before. It is a `Map` in every other respect: iteration order, `get`, `has`
 * and `size` are the map's, and `set`, `delete` and `clear` keep the array in step.
 */

/** Ids below this are also kept in the array: it grows to the largest such id in use, at most 512 KB. */
const arrayIdsMax = 1 << 16;

function inArrayRange(id: number): boolean {
  return id >>> 0 === id && id < arrayIdsMax;
}

export class IdMap<V> extends Map<number, V> {
  /** The value of each small id, or undefined where there is none. */
  private readonly byId: Array<V | undefined> = [];

  override set(id: number, value: V): this {
    super.set(id, value);
    if (inArrayRange(id)) {
      while (this.byId.length <= id) this.byId.push(undefined);
      this.byId[id] = value;
    }
    return this;
  }

  override delete(id: number): boolean {
    if (inArrayRange(id) && id < this.byId.length) this.byId[id] = undefined;
    return super.delete(id);
  }

  override clear(): void {
    this.byId.length = 0;
    super.clear();
  }

  /** The value of `id`, as `get` returns it: by array index for a small id. */
  find(id: number): V | undefined {
    return id >>> 0 === id && id < this.byId.length ? this.byId[id] : super.get(id);
  }
}
