/**
 * The client order ids an account used this trading day. Looked up once per
 * order, so it is on the hot path, and it grows all day (thousands of ids per
 * account), so a lookup in a hash table is mostly a cache miss.
 *
 * Most clients number their orders: a fixed prefix and a counter that only
 * grows (`o1041`, `o1042`, …). Such a run is kept apart: the prefix of the
 * first numbered id of the day, and the counter values of the ids of that
 * prefix that arrived above every earlier one, in increasing order, in a
 * typed array (no string is kept: the id is the prefix and the counter). An
 * id of the run's form above the run's largest value cannot have been used,
 * so it is accepted and recorded without touching any table (no hash, no
 * miss); one at or below it is looked up by binary search. Every other id (another
 * prefix, a counter that went back, leading zeros) goes to an open-addressing
 * table with linear probing: `tags` holds each slot's 30-bit FNV-1a hash + 1
 * (0 marks an empty slot) and `indices` the position of its id in the
 * insertion-ordered list. A fresh id costs one probe sequence over adjacent
 * tags and no string compare; the index and the string (kept in `tableIds`)
 * are read only on a hash match, so a collision never rejects a fresh id. `addIfAbsent` checks
 * and adds in one step, and `removeLast` takes back the id just added, so an
 * order that a later check rejects leaves no trace.
 *
 * Invariant: every id of the run's form (prefix and canonical counter) in the
 * set has a counter at most the run's largest value, and is either in the run
 * or in the table, never both.
 *
 * Insertion order is kept as the position of each table id among all ids, so
 * iteration can merge the two in the order the ids arrived. No array the set grows holds
 * pointers, so growing the set all day gives the garbage collector nothing to
 * copy.
 *
 * Iteration is deterministic and unchanged from the earlier hash-keyed map: by
 * first insertion of each hash, then insertion within it (which is plain
 * insertion order unless two ids share a hash). Snapshots do not iterate: they
 * take the set as it is kept (`toRow`, `restoreFrom`), so a snapshot builds no
 * string per id and hashes none; a day of ids had made every snapshot a
 * stall of the sequencer's thread (≈ 50–80 ms at 400,000 ids). A shard's
 * snapshot goes further: it `capture`s the set between two commands (the arrays
 * and their lengths, nothing copied) and writes the row from the capture in
 * steps while ids keep arriving (`rowTextSteps`).
 */
import { fnv1a32 } from "@tradestream/kernel";
import type { ChunkWriter } from "./chunk-writer.ts";

export function hash30(text: string): number {
  return fnv1a32(text) & 0x3fffffff;
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

/** Longest counter a run id may carry: every value of up to 15 digits is an exact integer. */
const runDigitsMax = 15;

/**
 * Where the counter of `id` starts: the index of its trailing decimal digits, or -1 when it has
 * none, more than `runDigitsMax`, or a leading zero (then the digits are not the one canonical
 * spelling of a number, and the id cannot be told apart from another by its value).
 */
function counterStart(id: string): number {
  const length = id.length;
  let at = length;
  while (at > 0) {
    const code = id.charCodeAt(at - 1);
    if (code < 48 || code > 57) break;
    at -= 1;
  }
  const digits = length - at;
  if (digits === 0 || digits > runDigitsMax || (digits > 1 && id.charCodeAt(at) === 48)) return -1;
  return at;
}

/** Whether the first `count` entries of the increasing `values` hold `value`. */
function sortedHas(values: Float64Array, count: number, value: number): boolean {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo < count && values[lo] === value;
}

/** A typed array of twice the length holding `from`'s entries. */
function grown<T extends Float64Array | Int32Array>(from: T, make: (length: number) => T): T {
  const to = make(from.length * 2);
  to.set(from);
  return to;
}

/** Entries of a new set's run array. */
const initialRunSlots = 64;

/**
 * A set as a snapshot keeps it: the run's prefix, the run's counters as spans of
 * consecutive values (`[first, count, first, count, …]`: a client that numbers its
 * orders one by one needs a single span), the other ids in insertion order, and
 * their positions among all ids as spans the same way.
 */
export interface ClientOrderIdsRow {
  readonly prefix: string | null;
  readonly run: number[];
  /** The other ids; consecutive numbered ones of one prefix as `[prefix, first counter, count]`. */
  readonly table: Array<string | [prefix: string, first: number, count: number]>;
  readonly positions: number[];
}

/** A set at one point (`ClientOrderIdSet.capture`): its arrays then and how much of each was filled. */
export interface ClientOrderIdsCapture {
  readonly prefix: string | null;
  readonly runValues: Float64Array;
  readonly runCount: number;
  readonly tableIds: readonly string[];
  readonly tablePositions: Int32Array;
  readonly tableCount: number;
}

function rowOf(capture: ClientOrderIdsCapture): ClientOrderIdsRow {
  return {
    prefix: capture.prefix,
    run: spansOf(capture.runValues, capture.runCount),
    table: tableSpansOf(capture.tableIds, capture.tableCount),
    positions: spansOf(capture.tablePositions, capture.tableCount),
  };
}

/**
 * The JSON of a captured set's row, exactly as `JSON.stringify(rowOf(capture))` spells it,
 * written to `out` in pieces: the steps end once about `idsPerStep` ids were written since
 * the last (`out.stepIds`), so a day of ids (hundreds of thousands of UUIDs make megabytes)
 * is written between other work rather than in one stall.
 */
export function* rowTextSteps(capture: ClientOrderIdsCapture, out: ChunkWriter, idsPerStep: number): Generator<void, void, void> {
  const { runValues, runCount, tableIds, tableCount, tablePositions } = capture;
  out.text(`{"prefix":${JSON.stringify(capture.prefix)},"run":[`);
  yield* itemsTextSteps(runCount, (from, until, into: number[]) => spanEntries(runValues, from, until, runCount, into), out, idsPerStep);
  out.text(`],"table":[`);
  yield* itemsTextSteps(tableCount, (from, until, into: Array<string | [string, number, number]>) => tableEntries(tableIds, from, until, tableCount, into), out, idsPerStep);
  out.text(`],"positions":[`);
  yield* itemsTextSteps(tableCount, (from, until, into: number[]) => spanEntries(tablePositions, from, until, tableCount, into), out, idsPerStep);
  out.text("]}");
}

/**
 * The items of a JSON array (no brackets) that `take` makes from `count` ids, written to
 * `out` a step's worth of ids at a time: `take(from, until, into)` appends the items of the
 * ids from `from` until one ends at or past `until` and returns where the next starts.
 */
function* itemsTextSteps<T>(count: number, take: (from: number, until: number, into: T[]) => number, out: ChunkWriter, idsPerStep: number): Generator<void, void, void> {
  for (let at = 0; at < count; ) {
    if (out.stepIds >= idsPerStep) {
      yield;
      out.stepIds = 0;
    }
    const items: T[] = [];
    const from = at;
    at = take(at, Math.min(count, at + idsPerStep - out.stepIds), items);
    if (from > 0) out.text(",");
    out.items(items);
    out.stepIds += at - from;
  }
}

/**
 * How many of `ids[at..end)` form the entry starting at `at`: the length of its stretch of
 * consecutive numbered ids of one prefix (`ws-7-41`, `ws-7-42`, …), or 1.
 */
function stretchAt(ids: readonly string[], at: number, end: number): number {
  const id = ids[at] as string;
  const start = counterStart(id);
  if (start < 0) return 1;
  const first = counterAt(id, start);
  const prefix = id.slice(0, start);
  let count = 1;
  while (at + count < end) {
    const next = ids[at + count] as string;
    // Same prefix (it ends in a non-digit, so the counter starts at the same place) and the next counter.
    if (counterAt(next, start) !== first + count || !next.startsWith(prefix)) break;
    count += 1;
  }
  return count;
}

/** The first `end` of `ids` with each stretch of consecutive numbered ids of one prefix as one span. */
function tableSpansOf(ids: readonly string[], end: number): Array<string | [string, number, number]> {
  const out: Array<string | [string, number, number]> = [];
  tableEntries(ids, 0, end, end, out);
  return out;
}

/**
 * Appends to `out` the entries of `ids` from `from` until one ends at or past `until`, each
 * stretch of consecutive numbered ids of one prefix as one span (a stretch may run on to
 * `end`: it is one entry, so it is taken whole); returns where the next entry starts.
 */
function tableEntries(ids: readonly string[], from: number, until: number, end: number, out: Array<string | [string, number, number]>): number {
  let at = from;
  while (at < until) {
    const id = ids[at] as string;
    const count = stretchAt(ids, at, end);
    if (count === 1) out.push(id);
    else {
      const start = counterStart(id);
      out.push([id.slice(0, start), counterAt(id, start), count]);
    }
    at += count;
  }
  return at;
}

/** The counter of `id` if from `start` on it is the canonical spelling of one (digits, no leading zero, at most `runDigitsMax`), else -1. No allocation: it runs for every id of a snapshot. */
function counterAt(id: string, start: number): number {
  const length = id.length;
  if (length <= start || length - start > runDigitsMax || (length - start > 1 && id.charCodeAt(start) === 48)) return -1;
  let value = 0;
  for (let at = start; at < length; at += 1) {
    const code = id.charCodeAt(at);
    if (code < 48 || code > 57) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

/** The ids `tableSpansOf` gave, checked to be spelled as it writes them. */
function tableIdsOf(table: ClientOrderIdsRow["table"]): string[] {
  const ids: string[] = [];
  for (const entry of table) {
    if (typeof entry === "string") {
      ids.push(entry);
      continue;
    }
    const [prefix, first, count] = entry;
    if (typeof prefix !== "string" || !Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(count) || count < 2 || first + count - 1 >= 10 ** runDigitsMax) {
      throw new RangeError("client order id span is malformed");
    }
    for (let value = first; value < first + count; value += 1) {
      const id = `${prefix}${String(value)}`;
      if (counterStart(id) !== prefix.length) throw new RangeError(`"${prefix}" cannot prefix a numbered client order id`);
      ids.push(id);
    }
  }
  return ids;
}

/** The first `count` entries of the increasing `values` as `[first, length]` spans of consecutive values. */
function spansOf(values: Float64Array | Int32Array, count: number): number[] {
  const spans: number[] = [];
  spanEntries(values, 0, count, count, spans);
  return spans;
}

/**
 * Appends to `spans` the `[first, length]` spans of the increasing `values` from `from` until
 * one ends at or past `until` (a span may run on to `count`: it is one item, so it is taken
 * whole); returns where the next span starts.
 */
function spanEntries(values: Float64Array | Int32Array, from: number, until: number, count: number, spans: number[]): number {
  let at = from;
  while (at < until) {
    const first = values[at] as number;
    let length = 1;
    while (at + length < count && values[at + length] === first + length) length += 1;
    spans.push(first, length);
    at += length;
  }
  return at;
}

/** The values of `spans`, checked to increase strictly and to lie in [0, max]. */
function valuesOf(spans: readonly number[], max: number, what: string): number[] {
  if (spans.length % 2 !== 0) throw new RangeError(`${what}: spans come in pairs`);
  const values: number[] = [];
  let last = -1;
  for (let at = 0; at < spans.length; at += 2) {
    const first = spans[at] as number;
    const length = spans[at + 1] as number;
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(length) || first <= last || length < 1 || first + length - 1 > max) {
      throw new RangeError(`${what}: span ${String(first)}+${String(length)} is out of order or out of range`);
    }
    for (let value = first; value < first + length; value += 1) values.push(value);
    last = first + length - 1;
  }
  return values;
}

/** The smallest power of two that is at least `n` and at least `floor`. */
function capacityFor(n: number, floor: number): number {
  let capacity = floor;
  while (capacity < n) capacity *= 2;
  return capacity;
}

export class ClientOrderIdSet {
  /** The prefix of the run of numbered ids: that of the first numbered id added since the last clear, or null. */
  private runPrefix: string | null = null;
  /** Counter values of the ids in the run (the first `runCount`), strictly increasing. */
  private runValues = new Float64Array(initialRunSlots);
  private runCount = 0;
  /** The largest counter in the run (its last), or -1 when it is empty. */
  private runMax = -1;
  /** Ids in the set: `runCount` plus the length of `tableIds`. */
  private count = 0;
  /** The table that takes new ids outside the run. */
  private table = new Table(Math.log2(initialSlotCount));
  /** The ids outside the run, in insertion order; the table's `indices` point here. */
  private tableIds: string[] = [];
  /**
   * The table being replaced after a grow, or null. Its entries move into `table` a few
   * slots per add (incremental resizing), so no single order pays for rehashing a table
   * that holds a whole day of ids; until then a lookup also probes it.
   */
  private retiring: Table | null = null;
  /** Slots of `retiring` already moved. */
  private migrated = 0;
  /** For each id in `tableIds`, its position in insertion order (the ids in between are in the run). */
  private tablePositions = new Int32Array(initialSlotCount / 2);

  get size(): number {
    return this.count;
  }

  /**
   * The counter of `id` when it has the run's form, else -1: the run's prefix, then one to
   * `runDigitsMax` digits without a leading zero. The prefix ends in a non-digit (or is
   * empty), so this agrees with `counterStart`; it is one pass with no call, as it runs for
   * every order.
   */
  private runValue(id: string): number {
    const prefix = this.runPrefix;
    if (prefix === null) return -1;
    const start = prefix.length;
    if (id.length <= start) return -1;
    for (let at = 0; at < start; at += 1) if (id.charCodeAt(at) !== prefix.charCodeAt(at)) return -1;
    return counterAt(id, start);
  }

  /** Whether the id added last is in the run (else it is the last of `tableIds`). */
  private lastInRun(): boolean {
    const tableCount = this.tableIds.length;
    return this.count > 0 && (tableCount === 0 || this.tablePositions[tableCount - 1] !== this.count - 1);
  }

  /** The slot of `id` in `table`, or of the empty slot where it would go. */
  private probe(table: Table, id: string, tag: number): number {
    const tags = table.tags;
    let at = table.home(tag);
    for (;;) {
      const entry = tags[at] as number;
      if (entry === 0) return at;
      if (entry === tag && this.tableIds[table.indices[at] as number] === id) return at;
      at = (at + 1) & table.mask;
    }
  }

  private holds(id: string, tag: number): boolean {
    const retiring = this.retiring;
    return retiring !== null && retiring.tags[this.probe(retiring, id, tag)] !== 0;
  }

  private tableHas(id: string): boolean {
    if (this.tableIds.length === 0) return false;
    const tag = hash30(id) + 1;
    return this.table.tags[this.probe(this.table, id, tag)] !== 0 || this.holds(id, tag);
  }

  has(id: string): boolean {
    const value = this.runValue(id);
    if (value >= 0) {
      if (value > this.runMax) return false;
      if (sortedHas(this.runValues, this.runCount, value)) return true;
    }
    return this.tableHas(id);
  }

  /** Adds an id that is not in the set (callers check `has` first). */
  add(id: string): void {
    this.addIfAbsent(id);
  }

  /** Adds `id` unless present; true when it was added. A fresh id of the run touches no table. */
  addIfAbsent(id: string): boolean {
    if (this.runPrefix === null) {
      const at = counterStart(id);
      if (at >= 0) this.runPrefix = id.slice(0, at);
    }
    const value = this.runValue(id);
    if (value >= 0) {
      // Above every counter of the run's form in the set: unused by the invariant.
      if (value > this.runMax) {
        this.count += 1;
        if (this.runCount === this.runValues.length) this.runValues = grown(this.runValues, (length) => new Float64Array(length));
        this.runValues[this.runCount] = value;
        this.runCount += 1;
        this.runMax = value;
        return true;
      }
      if (sortedHas(this.runValues, this.runCount, value)) return false;
    }
    return this.tableAddIfAbsent(id);
  }

  /** `addIfAbsent` in the table: one probe sequence (two while a grow is under way). */
  private tableAddIfAbsent(id: string): boolean {
    // A grow starts before a table add, never after it, so the id the table took last is always in `table`.
    if (this.retiring === null && this.tableIds.length >= loadFactorMax * this.table.tags.length) this.startGrow();
    const table = this.table;
    const tag = hash30(id) + 1;
    const at = this.probe(table, id, tag);
    if (table.tags[at] !== 0 || this.holds(id, tag)) return false;
    const tableCount = this.tableIds.length;
    if (tableCount === this.tablePositions.length) this.tablePositions = grown(this.tablePositions, (length) => new Int32Array(length));
    this.tablePositions[tableCount] = this.count;
    this.count += 1;
    table.tags[at] = tag;
    table.indices[at] = this.tableIds.length;
    this.tableIds.push(id);
    if (this.retiring !== null) this.migrate();
    return true;
  }

  /**
   * Removes `id`, which must be the id added last (so the others keep their indices). In the
   * table, the entries after its slot move back where their probe sequences allow
   * (backward-shift deletion), so no probe sequence ever crosses an empty slot and no
   * tombstone is needed.
   */
  removeLast(id: string): void {
    const last = this.count - 1;
    if (this.lastInRun()) {
      if (this.runValue(id) !== this.runMax) throw new RangeError("removeLast of an id that was not added last");
      this.runCount -= 1;
      this.runMax = this.runCount === 0 ? -1 : (this.runValues[this.runCount - 1] as number);
      this.count = last;
      return;
    }
    if (last < 0 || this.tableIds[this.tableIds.length - 1] !== id) throw new RangeError("removeLast of an id that was not added last");
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
    this.tableIds.pop();
    this.count = last;
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
    this.runPrefix = null;
    this.runValues = new Float64Array(initialRunSlots);
    this.runCount = 0;
    this.runMax = -1;
    this.count = 0;
    this.table = new Table(Math.log2(initialSlotCount));
    // New arrays, never emptied in place: a snapshot's capture may still be reading the old ones.
    this.tableIds = [];
    this.retiring = null;
    this.migrated = 0;
    this.tablePositions = new Int32Array(initialSlotCount / 2);
  }

  /** The set as a snapshot keeps it (see `ClientOrderIdsRow`). */
  toRow(): ClientOrderIdsRow {
    return rowOf(this.capture());
  }

  /**
   * The set as it is now, for a snapshot written later while ids keep arriving. Between
   * commands the set only appends (`removeLast` takes back only the id of the command under
   * way), its arrays grow by copying, and `clear` replaces them rather than emptying them, so
   * the first `runCount` and `tableCount` entries of the arrays named here never change.
   */
  capture(): ClientOrderIdsCapture {
    return {
      prefix: this.runPrefix,
      runValues: this.runValues,
      runCount: this.runCount,
      tableIds: this.tableIds,
      tablePositions: this.tablePositions,
      tableCount: this.tableIds.length,
    };
  }

  /**
   * Loads a snapshot's row into this set, which must be empty: afterwards it answers and
   * grows exactly as the set the row was taken from. Throws on a row that breaks the
   * set's invariants (a duplicate id, counters or positions out of order).
   */
  restoreFrom(row: ClientOrderIdsRow): void {
    if (this.count !== 0 || this.runPrefix !== null) throw new RangeError("restoreFrom needs an empty set");
    const run = valuesOf(row.run, 10 ** runDigitsMax - 1, "client order id run");
    const table = tableIdsOf(row.table);
    const total = run.length + table.length;
    const positions = valuesOf(row.positions, total - 1, "client order id positions");
    if (positions.length !== table.length) throw new RangeError("client order id positions do not match the ids outside the run");
    if (run.length > 0 && row.prefix === null) throw new RangeError("a client order id run needs its prefix");
    if (row.prefix !== null && counterStart(`${row.prefix}1`) !== row.prefix.length) throw new RangeError(`"${row.prefix}" cannot be a run's prefix`);
    this.runPrefix = row.prefix;
    this.runValues = new Float64Array(capacityFor(run.length, initialRunSlots));
    this.runValues.set(run);
    this.runCount = run.length;
    this.runMax = run.length === 0 ? -1 : (run[run.length - 1] as number);
    this.tablePositions = new Int32Array(capacityFor(positions.length, initialSlotCount / 2));
    this.tablePositions.set(positions);
    // Half load at most, as a grow would have left it.
    this.table = new Table(Math.log2(capacityFor(2 * (table.length + 1), initialSlotCount)));
    for (const id of table) {
      const tag = hash30(id) + 1;
      const at = this.probe(this.table, id, tag);
      const value = this.runValue(id);
      if (this.table.tags[at] !== 0 || (value >= 0 && sortedHas(this.runValues, this.runCount, value))) throw new RangeError(`client order id "${id}" is in the snapshot twice`);
      // The run's fast path takes any id of its form above its largest counter as unused.
      if (value > this.runMax) throw new RangeError(`client order id "${id}" has the run's form above its largest counter`);
      this.table.tags[at] = tag;
      this.table.indices[at] = this.tableIds.length;
      this.tableIds.push(id);
    }
    this.count = total;
  }

  /** Every id in insertion order. */
  private inserted(): string[] {
    const out: string[] = [];
    const prefix = this.runPrefix ?? "";
    let run = 0;
    let table = 0;
    for (let at = 0; at < this.size; at += 1) {
      if (table < this.tableIds.length && this.tablePositions[table] === at) {
        out.push(this.tableIds[table] as string);
        table += 1;
      } else {
        out.push(prefix + String(this.runValues[run]));
        run += 1;
      }
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    const ids = this.inserted();
    // Only when two ids share a hash does iteration group by hash.
    const hashes = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i += 1) hashes[i] = hash30(ids[i] as string);
    hashes.sort();
    let shared = false;
    for (let i = 1; i < hashes.length && !shared; i += 1) shared = hashes[i] === hashes[i - 1];
    if (!shared) {
      yield* ids;
      return;
    }
    const byHash = new Map<number, string[]>();
    for (const id of ids) {
      const key = hash30(id);
      const group = byHash.get(key);
      if (group === undefined) byHash.set(key, [id]);
      else group.push(id);
    }
    for (const group of byHash.values()) yield* group;
  }
}
