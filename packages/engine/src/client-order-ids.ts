/**
 * The client order ids an account used this trading day. Looked up once per
 * order, so it is on the hot path, and it grows all day (thousands of ids per
 * account), so a lookup is mostly a cache miss. Hence an open-addressing table
 * with linear probing: `tags` holds each slot's 30-bit FNV-1a hash + 1 (0 marks
 * an empty slot) and `indices` the position of its id in the insertion-ordered
 * list. A fresh id costs one probe sequence over adjacent tags (usually one
 * cache line of a compact array) and no string compare; the index and the
 * string are read only on a hash match, so a collision never rejects a fresh
 * id. `addIfAbsent` checks and adds in that one probe sequence, and
 * `removeLast` takes back the id just added, so an order that a later check
 * rejects leaves no trace.
 *
 * Iteration (for snapshots) is deterministic and unchanged from the earlier
 * hash-keyed map: by first insertion of each hash, then insertion within it
 * (which is plain insertion order unless two ids share a hash).
 */
export function hash30(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x3fffffff;
}

/** Slots of a new table (a power of two). */
const initialSlotCount = 64;
/** A table grows once it is half full, which keeps probe sequences short. */
const loadFactorMax = 0.5;
/**
 * Slots of the retiring table moved into its successor per add. A grow starts at half load
 * and the successor has twice the slots, so the move ends after a sixteenth of the adds that
 * would fill the successor to half load: two tables are never retiring at once.
 */
const migrationSlotsPerAdd = 8;

/**
 * One open-addressing table: `tags` holds each slot's hash + 1 (0 marks an empty slot)
 * and `indices` the position of its id in the set's insertion-ordered list.
 */
class Table {
  readonly tags: Int32Array;
  readonly indices: Int32Array;
  readonly mask: number;
  private readonly shift: number;

  constructor(readonly slotBits: number) {
    this.tags = new Int32Array(1 << slotBits);
    this.indices = new Int32Array(1 << slotBits);
    this.mask = (1 << slotBits) - 1;
    this.shift = 32 - slotBits;
  }

  /** The first slot to probe for `tag`: Fibonacci hashing spreads the hash's well-mixed high bits over the slots. */
  home(tag: number): number {
    return Math.imul(tag, 0x9e3779b1) >>> this.shift;
  }

  /** The first empty slot of `tag`'s probe sequence. */
  freeSlot(tag: number): number {
    let at = this.home(tag);
    while (this.tags[at] !== 0) at = (at + 1) & this.mask;
    return at;
  }
}

export class ClientOrderIdSet {
  /** The table that takes new ids. */
  private table = new Table(Math.log2(initialSlotCount));
  /**
   * The table being replaced after a grow, or null. Its entries move into `table` a few
   * slots per add (incremental resizing), so no single order pays for rehashing a table
   * that holds a whole day of ids; until then a lookup also probes it.
   */
  private retiring: Table | null = null;
  /** Slots of `retiring` already moved. */
  private migrated = 0;
  /** Ids in insertion order. */
  private readonly ids: string[] = [];
  /** Whether two ids ever shared a hash: only then does iteration need grouping by hash. */
  private hashesShared = false;

  get size(): number {
    return this.ids.length;
  }

  /** The slot of `id` in `table`, or of the empty slot where it would go. */
  private probe(table: Table, id: string, tag: number): number {
    const tags = table.tags;
    let at = table.home(tag);
    for (;;) {
      const entry = tags[at] as number;
      if (entry === 0) return at;
      if (entry === tag) {
        if (this.ids[table.indices[at] as number] === id) return at;
        this.hashesShared = true;
      }
      at = (at + 1) & table.mask;
    }
  }

  private holds(id: string, tag: number): boolean {
    const retiring = this.retiring;
    return retiring !== null && retiring.tags[this.probe(retiring, id, tag)] !== 0;
  }

  has(id: string): boolean {
    const tag = hash30(id) + 1;
    return this.table.tags[this.probe(this.table, id, tag)] !== 0 || this.holds(id, tag);
  }

  /** Adds an id that is not in the set (callers check `has` first). */
  add(id: string): void {
    this.addIfAbsent(id);
  }

  /** Adds `id` unless present; true when it was added. One probe sequence (two while a grow is under way). */
  addIfAbsent(id: string): boolean {
    // A grow starts before the add, never after it, so the id added last is always in `table`.
    if (this.retiring === null && this.ids.length >= loadFactorMax * this.table.tags.length) this.startGrow();
    const table = this.table;
    const tag = hash30(id) + 1;
    const at = this.probe(table, id, tag);
    if (table.tags[at] !== 0 || this.holds(id, tag)) return false;
    table.tags[at] = tag;
    table.indices[at] = this.ids.length;
    this.ids.push(id);
    if (this.retiring !== null) this.migrate();
    return true;
  }

  /**
   * Removes `id`, which must be the id added last (so the others keep their indices). The
   * entries after its slot move back where their probe sequences allow (backward-shift
   * deletion), so no probe sequence ever crosses an empty slot and no tombstone is needed.
   */
  removeLast(id: string): void {
    const last = this.ids.length - 1;
    if (last < 0 || this.ids[last] !== id) throw new RangeError("removeLast of an id that was not added last");
    const { tags, indices, mask } = this.table;
    let hole = this.probe(this.table, id, hash30(id) + 1);
    for (let at = (hole + 1) & mask; tags[at] !== 0; at = (at + 1) & mask) {
      // The entry at `at` may fill the hole unless its home lies cyclically in (hole, at].
      const home = this.table.home(tags[at] as number);
      if (((at - home) & mask) >= ((at - hole) & mask)) {
        tags[hole] = tags[at] as number;
        indices[hole] = indices[at] as number;
        hole = at;
      }
    }
    tags[hole] = 0;
    this.ids.pop();
  }

  private startGrow(): void {
    this.retiring = this.table;
    this.migrated = 0;
    this.table = new Table(this.table.slotBits + 1);
  }

  /** Moves the next few slots of the retiring table; drops it once every slot has moved. */
  private migrate(): void {
    const from = this.retiring;
    if (from === null) return;
    const to = this.table;
    const end = Math.min(from.tags.length, this.migrated + migrationSlotsPerAdd);
    for (let slot = this.migrated; slot < end; slot += 1) {
      const tag = from.tags[slot] as number;
      if (tag === 0) continue;
      const at = to.freeSlot(tag);
      to.tags[at] = tag;
      to.indices[at] = from.indices[slot] as number;
    }
    this.migrated = end;
    if (end === from.tags.length) this.retiring = null;
  }

  clear(): void {
    this.table = new Table(Math.log2(initialSlotCount));
    this.retiring = null;
    this.migrated = 0;
    this.ids.length = 0;
    this.hashesShared = false;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    if (!this.hashesShared) {
      yield* this.ids;
      return;
    }
    const byHash = new Map<number, string[]>();
    for (const id of this.ids) {
      const key = hash30(id);
      const group = byHash.get(key);
      if (group === undefined) byHash.set(key, [id]);
      else group.push(id);
    }
    for (const group of byHash.values()) yield* group;
  }
}
