/**
 * Read-model snapshots: the orders projection's whole state as bytes, saved
 * next to an engine snapshot at the same command, so a restart restores both
 * and replays only the journal's tail instead of the whole journal.
 *
 * The server takes a snapshot synchronously between commands, and a full
 * projection holds half a million orders and a million fills, so the format is
 * columnar binary, not JSON of objects: each table is one column per field
 * (the enums as small-integer codes), and the strings go in one JSON block
 * (lossless for any string, lone surrogates included). A column holds each
 * value as its offset from the column's smallest, in the fewest bytes that
 * hold the largest offset: 1, 2 or 4, or 8 for the values themselves as
 * float64 when the range is wider. Ids, prices, quantities and codes mostly
 * fit in 1 to 4 bytes, so a snapshot is about a third of the size of plain
 * float64 columns (46 rather than 152 MB for 520,000 orders and a million
 * fills). Size costs as much as the work: fresh memory is slow to touch (a
 * page fault per 4 KiB), and tens of megabytes more of it make V8 start a
 * collection that competes with the encoder. So the encoder reads the records
 * twice (once for each column's range, once to write) into one buffer of the
 * exact size, and the decoder reads each column in place.
 *
 * Layout, little-endian: the magic "TSORDERS" (8 bytes), the version (u32),
 * 4 zero bytes, then sections in a fixed order. A section is a width (u32:
 * 1, 2, 4 or 8 for a column, 0 for text), a count (u32: values, or bytes of
 * text), a base (float64: what a column's offsets are from; 0 for width 8 and
 * for text), then the data, zero-padded to a multiple of 8 bytes so that every
 * column starts aligned for its typed array. A column of width 1, 2 or 4 is
 * written only when its base and base + the width's largest offset are safe
 * integers, so every value read back is one.
 *
 * Sections: the counters (lastSeq, nextFillSeq, oldestFillSeq); the strings
 * (JSON: each order's client order id, the currencies); the accounts, their
 * balances and their positions (account after account); the killed firms; the
 * orders by ascending id; the finished orders still kept, oldest to finish
 * first (the eviction order); the accounts' client-order-id entries; the fills
 * by ascending sequence number.
 *
 * Left out because they follow from what is stored: the listing indexes
 * (rebuilt from the orders in id order and the fills in sequence order; a
 * rebuilt index is the compacted form of the live one and answers alike),
 * available amounts (balance − reserved, as the events give them), fill
 * sequence numbers (consecutive from oldestFillSeq), and the keys of an
 * account's client-order-id map: each entry names a kept order of the account
 * under that order's own client order id, so the entries are stored as the
 * order ids alone, exactly as the map holds them (an older order reusing the id
 * may be kept without being the entry, so the map is not re-derived).
 *
 * The enum codes are part of the format: changing one is a new version.
 */
import type { CancelReason, OrderType, Side, StpMode, TimeInForce } from "@tradestream/contracts";
import { InvariantError } from "@tradestream/kernel";
import type { AccountSpec } from "./projection.ts";
import { FillView } from "./fill-ring.ts";
import type { BalanceRecord, Fill, OrderRecord, OrderStatus, PositionRecord } from "./types.ts";

/** The snapshot format this release writes and reads. */
export const ordersSnapshotVersion = 1;

/** Bytes that are not a snapshot this release can restore: the caller replays the journal from the start instead. */
export class OrdersSnapshotError extends Error {
  override readonly name = "OrdersSnapshotError";
}

/** One account as a snapshot holds it. */
export interface AccountSnapshot {
  readonly spec: AccountSpec;
  readonly killed: boolean;
  readonly openOrders: number;
  /** In the order the account first saw each currency. */
  readonly balances: readonly BalanceRecord[];
  /** In the order the account first saw each instrument. */
  readonly positions: readonly PositionRecord[];
}

/** Everything the projection's queries and later events depend on; records are shared, not copied. */
export interface OrdersState {
  readonly lastSeq: number;
  readonly nextFillSeq: number;
  readonly oldestFillSeq: number;
  /** In the order they were created. */
  readonly accounts: readonly AccountSnapshot[];
  readonly killedFirms: readonly number[];
  /** Kept orders by ascending id. */
  readonly orders: readonly OrderRecord[];
  /** The finished orders still kept, oldest to finish first: the order they are evicted in. */
  readonly finished: readonly number[];
  /**
   * The accounts' client-order-id maps as the ids of the orders they name,
   * account after account: an entry's key is its order's client order id, its
   * account the order's account.
   */
  readonly clientOrderIdEntries: readonly number[];
  /**
   * Kept fills by ascending sequence number: fill i has sequence number oldestFillSeq + i.
   * Records, or read when asked: from the snapshot's columns when decoded, from where the
   * projection's ring keeps them when captured from it.
   */
  readonly fills: readonly Fill[] | FillView | DecodedFills;
}

const magic = "TSORDERS";
const headerBytes = 16;
const sectionHeaderBytes = 16;
const textWidth = 0;
const rawWidth = 8;
/** Typed arrays use the platform's byte order; the format is little-endian. */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type ColumnValues = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** The names of a closed union and their one-byte codes; the Record makes the compiler ask for every member. */
class Codes<T extends string> {
  private readonly names: Array<T | undefined> = [];
  /** A Map rather than the Record: a property lookup whose name varies this much would go megamorphic, and this runs for every record. */
  private readonly codes = new Map<T, number>();

  constructor(
    private readonly what: string,
    codes: Readonly<Record<T, number>>,
  ) {
    for (const name of Object.keys(codes) as T[]) {
      this.names[codes[name]] = name;
      this.codes.set(name, codes[name]);
    }
  }

  code(name: T): number {
    return this.codes.get(name) as number;
  }

  name(code: number): T {
    const name = this.names[code];
    if (name === undefined) throw corrupt(`unknown ${this.what} code ${String(code)}`);
    return name;
  }
}

const sides = new Codes<Side>("side", { buy: 0, sell: 1 });
const orderTypes = new Codes<OrderType>("order type", { limit: 0, market: 1, stop: 2, stop_limit: 3 });
const tifs = new Codes<TimeInForce>("time in force", { GTC: 0, DAY: 1, IOC: 2, FOK: 3 });
const statuses = new Codes<OrderStatus>("status", { pending_trigger: 0, new: 1, partially_filled: 2, filled: 3, cancelled: 4, expired: 5 });
/** From 1: 0 is no reason (an order that is not cancelled). */
const cancelReasons = new Codes<CancelReason>("cancel reason", {
  user_request: 1,
  mass_cancel: 2,
  ioc_remainder: 3,
  fok_not_filled: 4,
  market_no_liquidity: 5,
  self_trade_prevention: 6,
  kill_switch: 7,
  session_disconnect: 8,
  circuit_breaker: 9,
  instrument_halted: 10,
});
const liquidities = new Codes<Fill["liquidity"]>("liquidity", { maker: 0, taker: 1 });
const stpModes = new Codes<StpMode>("self-trade prevention mode", { none: 0, cancel_newest: 1, cancel_oldest: 2, cancel_both: 3, decrement_and_cancel: 4 });
/** The open statuses (pending_trigger, new, partially_filled) have the codes below this. */
const finishedStatusCodeMin = statuses.code("filled");

function corrupt(detail: string): OrdersSnapshotError {
  return new OrdersSnapshotError(`orders snapshot is corrupt: ${detail}`);
}

function flag(value: boolean): number {
  return value ? 1 : 0;
}

function isFlag(code: number, what: string): boolean {
  if (code > 1) throw corrupt(`${what} flag ${String(code)}`);
  return code === 1;
}

function sectionBytes(dataBytes: number): number {
  return sectionHeaderBytes + Math.ceil(dataBytes / 8) * 8;
}

/** Whether a column of offsets of this width from `base` reads back as safe integers (the decoder checks the same). */
function offsetsAreSafe(base: number, width: number): boolean {
  return Number.isSafeInteger(base) && Number.isSafeInteger(base + 2 ** (8 * width) - 1);
}

/** The fewest bytes per value that hold a column's range from `min` to `max`; 8 means the values themselves. */
function widthOf(min: number, max: number): number {
  for (const width of [1, 2, 4]) if (max - min < 2 ** (8 * width) && offsetsAreSafe(min, width)) return width;
  return rawWidth;
}

/** The snapshot's one buffer, its size known up front, filled section by section. */
class SnapshotWriter {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = headerBytes;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.bytes.set(new TextEncoder().encode(magic), 0);
    this.view.setUint32(8, ordersSnapshotVersion, true);
  }

  /** A column of `count` values to fill with offsets from `base`. */
  column(width: number, count: number, base: number): ColumnValues {
    const start = this.section(width, count, base, width * count);
    const buffer = this.bytes.buffer;
    return width === 1 ? new Uint8Array(buffer, start, count) : width === 2 ? new Uint16Array(buffer, start, count) : width === 4 ? new Uint32Array(buffer, start, count) : new Float64Array(buffer, start, count);
  }

  text(data: Uint8Array): void {
    this.bytes.set(data, this.section(textWidth, data.length, 0, data.length));
  }

  finish(): Uint8Array {
    if (this.at !== this.bytes.length) throw new InvariantError(`orders snapshot: ${String(this.at)} bytes written of ${String(this.bytes.length)}`);
    return this.bytes;
  }

  private section(width: number, count: number, base: number, dataBytes: number): number {
    this.view.setUint32(this.at, width, true);
    this.view.setUint32(this.at + 4, count, true);
    this.view.setFloat64(this.at + 8, base, true);
    const start = this.at + sectionHeaderBytes;
    this.at += sectionBytes(dataBytes);
    return start;
  }
}

/** Records between two pauses of a resumable encoding (see `encodeOrdersStateSteps`). */
const recordsPerStep = 16_384;

/**
 * One table while it is encoded: `toRow` puts a record's fields (numbers and
 * codes) in a row of numbers, once in `scan` to find each column's range and
 * once in `write`. Reading every record twice costs less than writing wide
 * columns: the records are scattered through the heap, but fresh output memory
 * is dearer. `toRow` gets the record's index too, for a caller gathering
 * something else on the way. Both passes pause every `recordsPerStep` records.
 */
class TableWriter {
  private readonly row: Float64Array;
  private readonly bases: Float64Array;
  private readonly widths: number[] = [];

  /** A table of `count` records; `rowAt(i, row)` puts record i's fields in `row`. */
  constructor(
    private readonly count: number,
    private readonly columns: number,
    private readonly rowAt: (index: number, row: Float64Array) => void,
  ) {
    this.row = new Float64Array(columns);
    this.bases = new Float64Array(columns);
  }

  /** The first pass: each column's range, hence its width and base. */
  *scan(): Generator<void, void, void> {
    const { count, columns, row, rowAt } = this;
    const min = new Float64Array(columns).fill(Number.POSITIVE_INFINITY);
    const max = new Float64Array(columns).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < count; i += 1) {
      if (i % recordsPerStep === recordsPerStep - 1) yield;
      rowAt(i, row);
      for (let k = 0; k < columns; k += 1) {
        const value = row[k] as number;
        // Offsets are exact only for integers (the engine deals in nothing else): anything else is a bug upstream.
        if (!Number.isSafeInteger(value)) throw new InvariantError(`orders snapshot: ${String(value)} in column ${String(k)} of row ${String(i)} is not a safe integer`);
        if (value < (min[k] as number)) min[k] = value;
        if (value > (max[k] as number)) max[k] = value;
      }
    }
    for (let k = 0; k < columns; k += 1) {
      const empty = count === 0;
      const width = empty ? 1 : widthOf(min[k] as number, max[k] as number);
      this.widths.push(width);
      this.bases[k] = empty || width === rawWidth ? 0 : (min[k] as number);
    }
  }

  /** What `write` will take, once scanned. */
  get bytes(): number {
    return this.widths.reduce((sum, width) => sum + sectionBytes(width * this.count), 0);
  }

  *write(out: SnapshotWriter): Generator<void, void, void> {
    const { count, row, bases } = this;
    const columns = this.widths.map((width, k) => out.column(width, count, bases[k] as number));
    for (let i = 0; i < count; i += 1) {
      if (i % recordsPerStep === recordsPerStep - 1) yield;
      this.rowAt(i, row);
      for (let k = 0; k < columns.length; k += 1) (columns[k] as ColumnValues)[i] = (row[k] as number) - (bases[k] as number);
    }
  }
}

/** A table of `records`; `toRow` puts a record's fields in a row (it gets the record's index too). */
function table<T>(records: readonly T[], columns: number, toRow: (record: T, row: Float64Array, index: number) => void): TableWriter {
  return new TableWriter(records.length, columns, (i, row) => toRow(records[i] as T, row, i));
}

/** The strings of a snapshot, in one JSON block. */
export interface Strings {
  /** Each order's, in the orders' order. */
  readonly clientOrderIds: readonly string[];
  /** Indexed by a balance's currency code. */
  readonly currencies: readonly string[];
}

function orderRow(order: OrderRecord, row: Float64Array): void {
  row[0] = order.orderId;
  row[1] = order.accountId;
  row[2] = order.instrumentId;
  row[3] = order.priceTicks;
  row[4] = order.stopPriceTicks;
  row[5] = order.qtyLots;
  row[6] = order.displayQtyLots;
  row[7] = order.filledQtyLots;
  row[8] = order.leavesQtyLots;
  row[9] = order.cancelledQtyLots;
  row[10] = order.expiredQtyLots;
  row[11] = order.filledNotionalMinor;
  row[12] = order.feesMinor;
  row[13] = order.createdAtUs;
  row[14] = order.updatedAtUs;
  row[15] = sides.code(order.side);
  row[16] = orderTypes.code(order.orderType);
  row[17] = tifs.code(order.tif);
  row[18] = flag(order.postOnly);
  row[19] = statuses.code(order.status);
  row[20] = order.cancelReason === null ? 0 : cancelReasons.code(order.cancelReason);
}

/** The fills' table, from records (a decoded snapshot's) or from where a projection's ring keeps them (no record made per fill). */
function fillsTable(fills: OrdersState["fills"]): TableWriter {
  if (fills instanceof DecodedFills) return new TableWriter(fills.length, 11, (i, row) => fillRow(fills.get(i), row));
  if (!(fills instanceof FillView)) return table(fills, 11, fillRow);
  const c = fills.columns;
  return new TableWriter(fills.length, 11, (i, row) => {
    const at = fills.slot(i);
    row[0] = c.tradeIds[at] as number;
    row[1] = c.orderIds[at] as number;
    row[2] = c.accountIds[at] as number;
    row[3] = c.instrumentIds[at] as number;
    row[4] = c.prices[at] as number;
    row[5] = c.quantities[at] as number;
    row[6] = c.notionals[at] as number;
    row[7] = c.fees[at] as number;
    row[8] = c.times[at] as number;
    row[9] = sides.code(c.side(at));
    row[10] = liquidities.code(c.liquidity(at));
  });
}

function fillRow(fill: Fill, row: Float64Array): void {
  row[0] = fill.tradeId;
  row[1] = fill.orderId;
  row[2] = fill.accountId;
  row[3] = fill.instrumentId;
  row[4] = fill.priceTicks;
  row[5] = fill.qtyLots;
  row[6] = fill.notionalMinor;
  row[7] = fill.feeMinor;
  row[8] = fill.tsUs;
  row[9] = sides.code(fill.side);
  row[10] = liquidities.code(fill.liquidity);
}

/** A table of plain numbers (ids, counters). */
function numberTable(values: readonly number[]): TableWriter {
  return table(values, 1, (value, row) => {
    row[0] = value;
  });
}

/**
 * `JSON.stringify(strings)` as UTF-8, made a few thousand client order ids per step:
 * an array's JSON is its elements' JSON joined by commas, so the pieces join to the
 * same bytes (the keys in the order `Strings` declares them).
 */
export function* stringsText(strings: Strings): Generator<void, Uint8Array, void> {
  const encoder = new TextEncoder();
  const pieces: Uint8Array[] = [encoder.encode('{"clientOrderIds":[')];
  const ids = strings.clientOrderIds;
  for (let from = 0; from < ids.length; from += recordsPerStep) {
    const chunk = JSON.stringify(ids.slice(from, from + recordsPerStep));
    pieces.push(encoder.encode(`${from === 0 ? "" : ","}${chunk.slice(1, -1)}`));
    yield;
  }
  pieces.push(encoder.encode(`],"currencies":${JSON.stringify(strings.currencies)}}`));
  return Buffer.concat(pieces);
}

/** Encodes a projection's state; the same state always gives the same bytes. */
export function encodeOrdersState(state: OrdersState): Uint8Array {
  const steps = encodeOrdersStateSteps(state);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * `encodeOrdersState` in steps of a few thousand records, for a caller that
 * runs them between other work (the state is immutable: its records are never
 * changed, its arrays are its own). The generator's return value is the bytes.
 */
export function* encodeOrdersStateSteps(state: OrdersState): Generator<void, Uint8Array, void> {
  if (!littleEndian) throw new InvariantError("orders snapshots need a little-endian platform");
  const { accounts } = state;
  const balances = accounts.flatMap((account) => account.balances);
  const currencies = [...new Set(balances.map((balance) => balance.currency))];
  // Gathered while the orders are read for their ranges, to read each one only twice.
  const clientOrderIds = new Array<string>(state.orders.length);
  const tables = [
    numberTable([state.lastSeq, state.nextFillSeq, state.oldestFillSeq]),
    table(accounts, 9, (account, row) => {
      row[0] = account.spec.accountId;
      row[1] = account.spec.firmId;
      row[2] = account.spec.openOrdersMax;
      row[3] = account.spec.ordersPerSecondMax;
      row[4] = account.openOrders;
      row[5] = account.balances.length;
      row[6] = account.positions.length;
      row[7] = stpModes.code(account.spec.stpMode);
      row[8] = flag(account.killed);
    }),
    table(balances, 3, (balance, row) => {
      row[0] = currencies.indexOf(balance.currency);
      row[1] = balance.balanceMinor;
      row[2] = balance.reservedMinor;
    }),
    table(
      accounts.flatMap((account) => account.positions),
      3,
      (position, row) => {
        row[0] = position.instrumentId;
        row[1] = position.positionLots;
        row[2] = position.reservedLots;
      },
    ),
    numberTable(state.killedFirms),
    table(state.orders, 21, (order, row, i) => {
      orderRow(order, row);
      clientOrderIds[i] = order.clientOrderId;
    }),
    numberTable(state.finished),
    numberTable(state.clientOrderIdEntries),
    fillsTable(state.fills),
  ];
  for (const table of tables) yield* table.scan();
  const text = yield* stringsText({ clientOrderIds, currencies });
  const [counters, ...rest] = tables;
  const out = new SnapshotWriter(tables.reduce((sum, table) => sum + table.bytes, headerBytes + sectionBytes(text.length)));
  if (counters !== undefined) yield* counters.write(out);
  out.text(text);
  for (const table of rest) yield* table.write(out);
  return out.finish();
}

/** A column as read: each value is `base` plus what is stored. */
class Column {
  constructor(
    private readonly base: number,
    private readonly values: ColumnValues,
  ) {}

  get length(): number {
    return this.values.length;
  }

  at(i: number): number {
    return this.base + (this.values[i] as number);
  }
}

/** Reads the sections in the order they were written, checking each one's kind and length. */
class SnapshotReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = headerBytes;

  constructor(bytes: Uint8Array) {
    if (bytes.length < magic.length || new TextDecoder().decode(bytes.subarray(0, magic.length)) !== magic) throw new OrdersSnapshotError("not an orders read-model snapshot");
    if (bytes.length < headerBytes) throw new OrdersSnapshotError(`orders snapshot is truncated: ${String(bytes.length)} bytes, shorter than its header`);
    // A typed array over the bytes must be aligned: copy the rare input that is not (not with `slice`, which a Buffer shares).
    this.bytes = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const version = this.view.getUint32(8, true);
    if (version !== ordersSnapshotVersion) throw new OrdersSnapshotError(`orders snapshot version ${String(version)} is not supported (this release reads ${String(ordersSnapshotVersion)})`);
  }

  /** A column of `count` values (any count when undefined). */
  column(what: string, count?: number): Column {
    const { width, length, base, start } = this.section(what);
    if (width === textWidth) throw corrupt(`${what} is text, not a column`);
    if (count !== undefined && length !== count) throw corrupt(`${what} has ${String(length)} values where ${String(count)} were due`);
    const buffer = this.bytes.buffer;
    const offset = this.bytes.byteOffset + start;
    switch (width) {
      case 1:
      case 2:
      case 4: {
        if (!offsetsAreSafe(base, width)) throw corrupt(`${what} counts from ${String(base)}`);
        const values = width === 1 ? new Uint8Array(buffer, offset, length) : width === 2 ? new Uint16Array(buffer, offset, length) : new Uint32Array(buffer, offset, length);
        return new Column(base, values);
      }
      case rawWidth: {
        const values = new Float64Array(buffer, offset, length);
        for (const value of values) if (!Number.isSafeInteger(value)) throw corrupt(`${what} holds ${String(value)}, not a safe integer`);
        return new Column(0, values);
      }
      default:
        throw corrupt(`${what} has width ${String(width)}`);
    }
  }

  /** All the values of a column of plain numbers. */
  numbers(what: string): number[] {
    const column = this.column(what);
    return Array.from({ length: column.length }, (_, i) => column.at(i));
  }

  text(what: string): string {
    const { width, length, start } = this.section(what);
    if (width !== textWidth) throw corrupt(`${what} is a column, not text`);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(start, start + length));
    } catch {
      throw corrupt(`${what} is not UTF-8`);
    }
  }

  /** Checks that nothing follows the last section. */
  end(): void {
    if (this.at !== this.bytes.length) throw corrupt(`${String(this.bytes.length - this.at)} bytes after the last section`);
  }

  private section(what: string): { width: number; length: number; base: number; start: number } {
    const remaining = this.bytes.length - this.at;
    if (remaining < sectionHeaderBytes) throw new OrdersSnapshotError(`orders snapshot is truncated: it ends before ${what}`);
    const width = this.view.getUint32(this.at, true);
    const length = this.view.getUint32(this.at + 4, true);
    const base = this.view.getFloat64(this.at + 8, true);
    const bytes = sectionBytes(width === textWidth ? length : width * length);
    if (remaining < bytes) throw new OrdersSnapshotError(`orders snapshot is truncated: ${what} needs ${String(bytes)} bytes, ${String(remaining)} remain`);
    const start = this.at + sectionHeaderBytes;
    this.at += bytes;
    return { width, length, base, start };
  }
}

/**
 * Decodes a snapshot, checking that it is one of this version and consistent
 * in itself: every section present with a known width and the right length,
 * known codes, safe integers, orders in ascending id, the accounts' balances
 * and positions adding up, the finished orders exactly the kept finished ones,
 * one fill per sequence number. Throws OrdersSnapshotError otherwise.
 */
export function decodeOrdersState(bytes: Uint8Array): OrdersState {
  if (!littleEndian) throw new InvariantError("orders snapshots need a little-endian platform");
  const input = new SnapshotReader(bytes);
  const counters = input.column("the counters", 3);
  const [lastSeq, nextFillSeq, oldestFillSeq] = [counters.at(0), counters.at(1), counters.at(2)];
  const strings = readStrings(input.text("the strings"));
  const accounts = readAccounts(input, strings.currencies);
  const killedFirms = input.numbers("the killed firms");
  const orders = readOrders(input, strings.clientOrderIds);
  const finished = input.numbers("the finished orders");
  checkFinished(finished, orders);
  const clientOrderIdEntries = input.numbers("the client order id entries");
  const fills = readFills(input);
  input.end();
  if (lastSeq < 0) throw corrupt(`last event seq ${String(lastSeq)}`);
  if (nextFillSeq - oldestFillSeq !== fills.length || oldestFillSeq < 1) throw corrupt(`${String(fills.length)} fills for sequence numbers ${String(oldestFillSeq)} to ${String(nextFillSeq - 1)}`);
  return { lastSeq, nextFillSeq, oldestFillSeq, accounts, killedFirms, orders: orders.records, finished, clientOrderIdEntries, fills };
}

function readStrings(text: string): Strings {
  let strings: unknown;
  try {
    strings = JSON.parse(text);
  } catch {
    throw corrupt("the strings are not JSON");
  }
  const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");
  if (typeof strings !== "object" || strings === null || !("clientOrderIds" in strings) || !("currencies" in strings) || !isStrings(strings.clientOrderIds) || !isStrings(strings.currencies)) {
    throw corrupt("the strings are not client order ids and currencies");
  }
  return { clientOrderIds: strings.clientOrderIds, currencies: strings.currencies };
}

/** The accounts in the order they were created, each with its balances and positions. */
function readAccounts(input: SnapshotReader, currencies: readonly string[]): AccountSnapshot[] {
  const accountId = input.column("the account ids");
  const n = accountId.length;
  const firmId = input.column("the accounts' firms", n);
  const openOrdersMax = input.column("the accounts' open order limits", n);
  const ordersPerSecondMax = input.column("the accounts' order rate limits", n);
  const openOrders = input.column("the accounts' open order counts", n);
  const balanceCount = input.column("the accounts' balance counts", n);
  const positionCount = input.column("the accounts' position counts", n);
  const stpMode = input.column("the accounts' self-trade prevention modes", n);
  const killed = input.column("the accounts' kill switches", n);
  const currency = input.column("the balances' currencies");
  const balanceMinor = input.column("the balances", currency.length);
  const reservedMinor = input.column("the balances' reserved amounts", currency.length);
  const instrumentId = input.column("the positions' instruments");
  const positionLots = input.column("the positions", instrumentId.length);
  const reservedLots = input.column("the positions' reserved lots", instrumentId.length);
  const accounts: AccountSnapshot[] = [];
  let balancesEnd = 0;
  let positionsEnd = 0;
  for (let i = 0; i < n; i += 1) {
    const id = accountId.at(i);
    const balances: BalanceRecord[] = [];
    const positions: PositionRecord[] = [];
    const balancesStart = balancesEnd;
    const positionsStart = positionsEnd;
    balancesEnd += balanceCount.at(i);
    positionsEnd += positionCount.at(i);
    if (balancesEnd > currency.length || positionsEnd > instrumentId.length) throw corrupt(`account ${String(id)} has more balances or positions than the snapshot holds`);
    for (let row = balancesStart; row < balancesEnd; row += 1) {
      const name = currencies[currency.at(row)];
      if (name === undefined) throw corrupt(`unknown currency code ${String(currency.at(row))}`);
      const amount = balanceMinor.at(row);
      const reserved = reservedMinor.at(row);
      balances.push({ accountId: id, currency: name, balanceMinor: amount, reservedMinor: reserved, availableMinor: amount - reserved });
    }
    for (let row = positionsStart; row < positionsEnd; row += 1) {
      const lots = positionLots.at(row);
      const reserved = reservedLots.at(row);
      positions.push({ accountId: id, instrumentId: instrumentId.at(row), positionLots: lots, reservedLots: reserved, availableLots: lots - reserved });
    }
    const spec: AccountSpec = { accountId: id, firmId: firmId.at(i), stpMode: stpModes.name(stpMode.at(i)), openOrdersMax: openOrdersMax.at(i), ordersPerSecondMax: ordersPerSecondMax.at(i) };
    accounts.push({ spec, killed: isFlag(killed.at(i), "kill switch"), openOrders: openOrders.at(i), balances, positions });
  }
  if (balancesEnd !== currency.length || positionsEnd !== instrumentId.length) throw corrupt("the snapshot holds balances or positions of no account");
  return accounts;
}

/** The orders, with their id and status columns (for `checkFinished`). */
interface OrdersRead {
  readonly records: OrderRecord[];
  readonly ids: Column;
  readonly statuses: Column;
}

function readOrders(input: SnapshotReader, clientOrderIds: readonly string[]): OrdersRead {
  const orderId = input.column("the order ids");
  const n = orderId.length;
  if (clientOrderIds.length !== n) throw corrupt(`${String(clientOrderIds.length)} client order ids for ${String(n)} orders`);
  const accountId = input.column("the orders' accounts", n);
  const instrumentId = input.column("the orders' instruments", n);
  const priceTicks = input.column("the orders' prices", n);
  const stopPriceTicks = input.column("the orders' stop prices", n);
  const qtyLots = input.column("the orders' quantities", n);
  const displayQtyLots = input.column("the orders' display quantities", n);
  const filledQtyLots = input.column("the orders' filled quantities", n);
  const leavesQtyLots = input.column("the orders' open quantities", n);
  const cancelledQtyLots = input.column("the orders' cancelled quantities", n);
  const expiredQtyLots = input.column("the orders' expired quantities", n);
  const filledNotionalMinor = input.column("the orders' filled notionals", n);
  const feesMinor = input.column("the orders' fees", n);
  const createdAtUs = input.column("the orders' creation times", n);
  const updatedAtUs = input.column("the orders' update times", n);
  const side = input.column("the orders' sides", n);
  const orderType = input.column("the orders' types", n);
  const tif = input.column("the orders' times in force", n);
  const postOnly = input.column("the orders' post-only flags", n);
  const status = input.column("the orders' statuses", n);
  const cancelReason = input.column("the orders' cancel reasons", n);
  const records: OrderRecord[] = [];
  for (let i = 0; i < n; i += 1) {
    const id = orderId.at(i);
    if (i > 0 && id <= orderId.at(i - 1)) throw corrupt(`order ${String(id)} after order ${String(orderId.at(i - 1))}`);
    const reason = cancelReason.at(i);
    // Every field in one literal, in the projection's order, so restored records share the live ones' shape.
    records.push({
      orderId: id,
      accountId: accountId.at(i),
      instrumentId: instrumentId.at(i),
      clientOrderId: clientOrderIds[i] as string,
      side: sides.name(side.at(i)),
      orderType: orderTypes.name(orderType.at(i)),
      tif: tifs.name(tif.at(i)),
      priceTicks: priceTicks.at(i),
      stopPriceTicks: stopPriceTicks.at(i),
      qtyLots: qtyLots.at(i),
      displayQtyLots: displayQtyLots.at(i),
      postOnly: isFlag(postOnly.at(i), "post-only"),
      filledQtyLots: filledQtyLots.at(i),
      leavesQtyLots: leavesQtyLots.at(i),
      cancelledQtyLots: cancelledQtyLots.at(i),
      expiredQtyLots: expiredQtyLots.at(i),
      filledNotionalMinor: filledNotionalMinor.at(i),
      feesMinor: feesMinor.at(i),
      status: statuses.name(status.at(i)),
      cancelReason: reason === 0 ? null : cancelReasons.name(reason),
      createdAtUs: createdAtUs.at(i),
      updatedAtUs: updatedAtUs.at(i),
    });
  }
  return { records, ids: orderId, statuses: status };
}

/** Checks that the finished-order queue names every kept finished order exactly once (binary search in the id column, which ascends). */
function checkFinished(finished: readonly number[], orders: OrdersRead): void {
  const { ids } = orders;
  const queued = new Uint8Array(ids.length);
  let finishedKept = 0;
  for (let i = 0; i < ids.length; i += 1) if (orders.statuses.at(i) >= finishedStatusCodeMin) finishedKept += 1;
  if (finished.length !== finishedKept) throw corrupt(`${String(finished.length)} orders queued for eviction, ${String(finishedKept)} finished orders kept`);
  for (const id of finished) {
    let low = 0;
    let high = ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ids.at(mid) < id) low = mid + 1;
      else high = mid;
    }
    if (low === ids.length || ids.at(low) !== id || orders.statuses.at(low) < finishedStatusCodeMin || queued[low] === 1) {
      throw corrupt(`order ${String(id)} is queued for eviction but is not a kept finished order, or is queued twice`);
    }
    queued[low] = 1;
  }
}

function readFills(input: SnapshotReader): DecodedFills {
  const tradeId = input.column("the fills' trades");
  const n = tradeId.length;
  return new DecodedFills(n, [
    tradeId,
    input.column("the fills' orders", n),
    input.column("the fills' accounts", n),
    input.column("the fills' instruments", n),
    input.column("the fills' prices", n),
    input.column("the fills' quantities", n),
    input.column("the fills' notionals", n),
    input.column("the fills' fees", n),
    input.column("the fills' times", n),
    input.column("the fills' sides", n),
    input.column("the fills' liquidity", n),
  ]);
}

/**
 * A decoded snapshot's fills, each made from the snapshot's columns when it is read: a
 * restore reads each once into the projection's ring, so no record outlives the young
 * generation (a million made up front were all promoted, then dropped).
 */
class DecodedFills implements Iterable<Fill> {
  constructor(
    readonly length: number,
    private readonly columns: readonly Column[],
  ) {}

  get(i: number): Fill {
    const [tradeId, orderId, accountId, instrumentId, priceTicks, qtyLots, notionalMinor, feeMinor, tsUs, side, liquidity] = this.columns as [Column, Column, Column, Column, Column, Column, Column, Column, Column, Column, Column];
    // In the order of the projection's makerFill and takerFill: one shape for all fills.
    return {
      tradeId: tradeId.at(i),
      orderId: orderId.at(i),
      accountId: accountId.at(i),
      instrumentId: instrumentId.at(i),
      side: sides.name(side.at(i)),
      priceTicks: priceTicks.at(i),
      qtyLots: qtyLots.at(i),
      notionalMinor: notionalMinor.at(i),
      feeMinor: feeMinor.at(i),
      liquidity: liquidities.name(liquidity.at(i)),
      tsUs: tsUs.at(i),
    };
  }

  *[Symbol.iterator](): Iterator<Fill> {
    for (let i = 0; i < this.length; i += 1) yield this.get(i);
  }
}
