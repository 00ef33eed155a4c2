/**
 * Read-model snapshots of the market data projection, so that a server can
 * restore the projection next to an engine snapshot and replay only the
 * journal's tail instead of the whole journal.
 *
 * Format: the ASCII header line `TSMD <version>\n`, then the state as UTF-8 JSON:
 *
 *     { "lastSeq": 812, "nowUs": 1700000000000000,
 *       "symbols": [["ACME", 1], ...],
 *       "instruments": [{
 *         "spec": { ...InstrumentSpec }, "state": "open", "lastPriceTicks": 10000,
 *         "bookSeq": 17, "bookTsUs": 1700000000000000,
 *         "bids": [[priceTicks, qtyLots, orderCount], ...], "asks": [...],
 *         "trades": [[tradeId, priceTicks, qtyLots, notionalMinor, takerSide, tsUs], ...],
 *         "candles": { "1s": [[startUs, open, high, low, close, volumeLots, notionalMinor, trades], ...], "1m": [...], ... },
 *         "day": { "dayStartUs": ..., "previousCloseTicks": ..., "openTicks": ..., ... } }, ...] }
 *
 * Instruments in creation order; the symbol map as stored, in insertion order
 * (the first instrument to claim a symbol keeps it, so it is not re-derived);
 * book levels best first; trades and candles oldest first. Rows are tuples
 * because trades and candles number in the thousands per instrument.
 *
 * Why JSON: the state is small, and every value in it is a string, a safe
 * integer or null, which JSON carries exactly; a person can read a snapshot
 * with `tail -c +8 | jq`. Fields and collections come in a fixed order, so the
 * same state always gives the same bytes. The header lets a reader tell bytes
 * that are no snapshot, or a snapshot of another version, from a damaged one
 * before parsing: a release reads only its own version (a caller that cannot
 * read a snapshot replays the journal from the start instead).
 *
 * The reader checks every value (types, integer-ness, ranges, the order of
 * book levels and candles, the symbol map's references) and throws an `Error`
 * naming the first bad one, so a projection is only ever built from a snapshot
 * that passed. Listeners and per-`apply` bookkeeping are not state and are not
 * stored; neither are the kept counts, which the restoring side chooses.
 */
import type { InstrumentSpec, Side, TradingState } from "@tradestream/contracts";
import { candleIntervals, dayUs, intervalUs } from "./candles.ts";
import type { DayStats } from "./projection.ts";
import type { BookLevel, Candle, CandleInterval, PublicTrade } from "./types.ts";

/** The snapshot format this release writes and reads. */
export const marketDataSnapshotVersion = 1;

/** One instrument's state as a snapshot carries it. */
export interface InstrumentSnapshot {
  readonly spec: InstrumentSpec;
  readonly state: TradingState;
  readonly lastPriceTicks: number | null;
  readonly bookSeq: number;
  readonly bookTsUs: number;
  /** Best first. */
  readonly bids: readonly BookLevel[];
  readonly asks: readonly BookLevel[];
  /** Oldest first. */
  readonly trades: readonly PublicTrade[];
  /** One series per interval in `candleIntervals` order, each oldest first. */
  readonly candles: ReadonlyArray<readonly Candle[]>;
  readonly day: DayStats;
}

/** The projection's whole state as a snapshot carries it. */
export interface ProjectionSnapshot {
  readonly lastSeq: number;
  readonly nowUs: number;
  /** Upper-cased symbol → instrument id, in insertion order. */
  readonly symbols: ReadonlyArray<readonly [symbol: string, instrumentId: number]>;
  /** In creation order. */
  readonly instruments: readonly InstrumentSnapshot[];
}

const magic = "TSMD ";
const newline = 0x0a;
/** Digits a version may have: more is no header of ours. */
const versionDigitsMax = 9;

/** The snapshot bytes: header, then canonical JSON. */
export function encodeMarketDataSnapshot(snapshot: ProjectionSnapshot): Uint8Array {
  const body = {
    lastSeq: snapshot.lastSeq,
    nowUs: snapshot.nowUs,
    symbols: snapshot.symbols,
    instruments: snapshot.instruments.map((i) => ({
      spec: i.spec,
      state: i.state,
      lastPriceTicks: i.lastPriceTicks,
      bookSeq: i.bookSeq,
      bookTsUs: i.bookTsUs,
      bids: i.bids.map(levelRow),
      asks: i.asks.map(levelRow),
      trades: i.trades.map((t) => [t.tradeId, t.priceTicks, t.qtyLots, t.notionalMinor, t.takerSide, t.tsUs]),
      candles: Object.fromEntries(candleIntervals.map((interval, k) => [interval, (i.candles[k] ?? []).map(candleRow)])),
      day: {
        dayStartUs: i.day.dayStartUs,
        previousCloseTicks: i.day.previousCloseTicks,
        openTicks: i.day.openTicks,
        highTicks: i.day.highTicks,
        lowTicks: i.day.lowTicks,
        volumeLots: i.day.volumeLots,
        notionalMinor: i.day.notionalMinor,
        trades: i.day.trades,
      },
    })),
  };
  return new TextEncoder().encode(`${magic}${String(marketDataSnapshotVersion)}\n${JSON.stringify(body)}`);
}

function levelRow(level: BookLevel): [number, number, number] {
  return [level.priceTicks, level.qtyLots, level.orderCount];
}

function candleRow(c: Candle): number[] {
  return [c.startUs, c.open, c.high, c.low, c.close, c.volumeLots, c.notionalMinor, c.trades];
}

/** The state in snapshot bytes, fully checked; throws an `Error` saying what is wrong with them. */
export function decodeMarketDataSnapshot(bytes: Uint8Array): ProjectionSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new Error("a market-data snapshot must be given as bytes (a Uint8Array)");
  const bodyAt = headerLength(bytes);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(bodyAt)));
  } catch (error) {
    throw new Error(`market-data snapshot truncated or corrupt: ${error instanceof Error ? error.message : String(error)}`);
  }
  return snapshotOf(body);
}

/** Checks the header and version; the offset of the JSON body. */
function headerLength(bytes: Uint8Array): number {
  if (bytes.length === 0) throw new Error("not a market-data read-model snapshot: no bytes");
  for (let at = 0; at < magic.length; at += 1) {
    if (at === bytes.length) throw new Error("market-data snapshot truncated within its header");
    if (bytes[at] !== magic.charCodeAt(at)) throw new Error(`not a market-data read-model snapshot: it does not start with "${magic.trim()}"`);
  }
  let version = 0;
  for (let at = magic.length; ; at += 1) {
    const byte = bytes[at];
    if (byte === undefined) throw new Error("market-data snapshot truncated within its header");
    const digits = at - magic.length;
    if (byte === newline && digits > 0) {
      if (version !== marketDataSnapshotVersion) {
        throw new Error(`market-data snapshot version ${String(version)} is not supported (this release reads ${String(marketDataSnapshotVersion)})`);
      }
      return at + 1;
    }
    if (byte < 0x30 || byte > 0x39 || digits === versionDigitsMax) throw new Error("not a market-data read-model snapshot: malformed header");
    version = version * 10 + (byte - 0x30);
  }
}

// ── Reading the body ──────────────────────────────────────────────────────

function invalid(where: string, expected: string, value: unknown): never {
  const text = value === undefined ? "nothing" : JSON.stringify(value);
  throw new Error(`invalid market-data snapshot: ${where} must be ${expected}, got ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`);
}

function broken(where: string, problem: string): never {
  throw new Error(`invalid market-data snapshot: ${where} ${problem}`);
}

/** An object with exactly these fields. */
function record(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) invalid(where, "an object", value);
  const fields = value as Record<string, unknown>;
  for (const key of keys) if (!Object.hasOwn(fields, key)) broken(where, `lacks the field "${key}"`);
  for (const key of Object.keys(fields)) if (!keys.includes(key)) broken(where, `has an unknown field "${key}"`);
  return fields;
}

function list(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) invalid(where, "a list", value);
  return value;
}

function tuple(value: unknown, where: string, length: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length !== length) invalid(where, `a list of ${String(length)} values`, value);
  return value;
}

const anyInteger = Number.MIN_SAFE_INTEGER;

/** A safe integer of at least `min` (0, 1 or `anyInteger`). */
function integer(value: unknown, where: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    invalid(where, min === 0 ? "a non-negative safe integer" : min === 1 ? "a positive safe integer" : "a safe integer", value);
  }
  return value;
}

/** Cell `index` of a row as an integer; the cell's place is spelled out only on failure. */
function cell(row: readonly unknown[], index: number, where: string, min: number): number {
  const value = row[index];
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min) return value;
  return integer(value, `${where}[${String(index)}]`, min);
}

function nullableInteger(value: unknown, where: string, min: number): number | null {
  return value === null ? null : integer(value, where, min);
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string") invalid(where, "a string", value);
  return value;
}

function oneOf<T extends string>(value: unknown, where: string, options: readonly T[]): T {
  if (!options.includes(value as T)) invalid(where, `one of ${options.map((o) => `"${o}"`).join(", ")}`, value);
  return value as T;
}

const sides: readonly Side[] = ["buy", "sell"];
const tradingStates: readonly TradingState[] = ["open", "halted", "closed"];

/** Each spec field's kind; `satisfies` makes the compiler check this against `InstrumentSpec`. */
const specFields = {
  instrumentId: "id",
  symbol: "string",
  isin: "string",
  mic: "string",
  currency: "string",
  tickSize: "string",
  lotSize: "string",
  tickValueMinor: "integer",
  referencePriceTicks: "integer",
  priceBandBps: "integer",
  circuitBandBps: "integer",
  maxOrderQtyLots: "integer",
  maxOrderNotionalMinor: "integer",
  makerFeeBps: "integer",
  takerFeeBps: "integer",
} as const satisfies Record<keyof InstrumentSpec, "id" | "string" | "integer">;
const specKeys = Object.keys(specFields);

function snapshotOf(body: unknown): ProjectionSnapshot {
  const top = record(body, "the snapshot", ["lastSeq", "nowUs", "symbols", "instruments"]);
  const lastSeq = integer(top["lastSeq"], "lastSeq", 0);
  const nowUs = integer(top["nowUs"], "nowUs", 0);
  const instruments = list(top["instruments"], "instruments").map((value, n) => instrumentOf(value, `instruments[${String(n)}]`, nowUs));
  const symbolOf = new Map<number, string>();
  for (const [n, instrument] of instruments.entries()) {
    if (symbolOf.has(instrument.spec.instrumentId)) broken(`instruments[${String(n)}]`, `repeats instrument id ${String(instrument.spec.instrumentId)}`);
    symbolOf.set(instrument.spec.instrumentId, instrument.spec.symbol.toUpperCase());
  }
  const symbols = list(top["symbols"], "symbols").map((value, n): [string, number] => {
    const where = `symbols[${String(n)}]`;
    const row = tuple(value, where, 2);
    const symbol = text(row[0], `${where}[0]`);
    const instrumentId = cell(row, 1, where, 0);
    if (symbolOf.get(instrumentId) !== symbol) broken(where, `maps "${symbol}" to instrument ${String(instrumentId)}, which has no such symbol`);
    return [symbol, instrumentId];
  });
  const claimed = new Set(symbols.map(([symbol]) => symbol));
  if (claimed.size !== symbols.length) broken("symbols", "repeats a symbol");
  for (const symbol of symbolOf.values()) if (!claimed.has(symbol)) broken("symbols", `lack "${symbol}"`);
  return { lastSeq, nowUs, symbols, instruments };
}

function notAfter(tsUs: number, nowUs: number, where: string): void {
  if (tsUs > nowUs) broken(where, `is later than nowUs (${String(tsUs)} > ${String(nowUs)})`);
}

function instrumentOf(value: unknown, where: string, nowUs: number): InstrumentSnapshot {
  const fields = record(value, where, ["spec", "state", "lastPriceTicks", "bookSeq", "bookTsUs", "bids", "asks", "trades", "candles", "day"]);
  const spec = specOf(fields["spec"], `${where}.spec`);
  const instrumentId = spec.instrumentId;
  const bookTsUs = integer(fields["bookTsUs"], `${where}.bookTsUs`, 0);
  notAfter(bookTsUs, nowUs, `${where}.bookTsUs`);
  const trades = list(fields["trades"], `${where}.trades`).map((tradeValue, n): PublicTrade => {
    const at = `${where}.trades[${String(n)}]`;
    const row = tuple(tradeValue, at, 6);
    const trade: PublicTrade = {
      tradeId: cell(row, 0, at, 0),
      instrumentId,
      priceTicks: cell(row, 1, at, 1),
      qtyLots: cell(row, 2, at, 1),
      notionalMinor: cell(row, 3, at, 0),
      takerSide: oneOf(row[4], `${at}[4]`, sides),
      tsUs: cell(row, 5, at, 0),
    };
    notAfter(trade.tsUs, nowUs, at);
    return trade;
  });
  const candlesByInterval = record(fields["candles"], `${where}.candles`, candleIntervals);
  return {
    spec,
    state: oneOf(fields["state"], `${where}.state`, tradingStates),
    lastPriceTicks: nullableInteger(fields["lastPriceTicks"], `${where}.lastPriceTicks`, 1),
    bookSeq: integer(fields["bookSeq"], `${where}.bookSeq`, 0),
    bookTsUs,
    bids: levelsOf(fields["bids"], `${where}.bids`, "buy"),
    asks: levelsOf(fields["asks"], `${where}.asks`, "sell"),
    trades,
    candles: candleIntervals.map((interval) => candlesOf(candlesByInterval[interval], `${where}.candles.${interval}`, instrumentId, interval, nowUs)),
    day: dayOf(fields["day"], `${where}.day`, nowUs),
  };
}

function specOf(value: unknown, where: string): InstrumentSpec {
  const fields = record(value, where, specKeys);
  for (const [key, kind] of Object.entries(specFields)) {
    const at = `${where}.${key}`;
    if (kind === "string") text(fields[key], at);
    else integer(fields[key], at, kind === "id" ? 0 : anyInteger);
  }
  // Checked field by field above; copied so that the fields keep the order they were stored in.
  return { ...fields } as unknown as InstrumentSpec;
}

/** Book levels, best first: strictly decreasing prices for bids, increasing for asks. */
function levelsOf(value: unknown, where: string, side: Side): BookLevel[] {
  const sign = side === "buy" ? -1 : 1;
  let previous: number | null = null;
  return list(value, where).map((levelValue, n): BookLevel => {
    const at = `${where}[${String(n)}]`;
    const row = tuple(levelValue, at, 3);
    const level: BookLevel = { priceTicks: cell(row, 0, at, 1), qtyLots: cell(row, 1, at, 0), orderCount: cell(row, 2, at, 1) };
    if (previous !== null && sign * (level.priceTicks - previous) <= 0) broken(at, "is out of order: levels go best first, one per price");
    previous = level.priceTicks;
    return level;
  });
}

/** A series' candles, oldest first: on their buckets, strictly ascending, none after `nowUs`. */
function candlesOf(value: unknown, where: string, instrumentId: number, interval: CandleInterval, nowUs: number): Candle[] {
  const lengthUs = intervalUs[interval];
  let previousStartUs = -1;
  return list(value, where).map((candleValue, n): Candle => {
    const at = `${where}[${String(n)}]`;
    const row = tuple(candleValue, at, 8);
    const candle: Candle = {
      instrumentId,
      interval,
      startUs: cell(row, 0, at, 0),
      open: cell(row, 1, at, 1),
      high: cell(row, 2, at, 1),
      low: cell(row, 3, at, 1),
      close: cell(row, 4, at, 1),
      volumeLots: cell(row, 5, at, 1),
      notionalMinor: cell(row, 6, at, 0),
      trades: cell(row, 7, at, 1),
    };
    if (candle.startUs % lengthUs !== 0) broken(at, `starts off a ${interval} bucket`);
    if (candle.startUs <= previousStartUs) broken(at, "is out of order: candles go oldest first, one per bucket");
    notAfter(candle.startUs, nowUs, at);
    if (candle.low > Math.min(candle.open, candle.close) || candle.high < Math.max(candle.open, candle.close)) broken(at, "has open or close outside [low, high]");
    previousStartUs = candle.startUs;
    return candle;
  });
}

function dayOf(value: unknown, where: string, nowUs: number): DayStats {
  const fields = record(value, where, ["dayStartUs", "previousCloseTicks", "openTicks", "highTicks", "lowTicks", "volumeLots", "notionalMinor", "trades"]);
  const day: DayStats = {
    dayStartUs: integer(fields["dayStartUs"], `${where}.dayStartUs`, 0),
    previousCloseTicks: nullableInteger(fields["previousCloseTicks"], `${where}.previousCloseTicks`, 1),
    openTicks: nullableInteger(fields["openTicks"], `${where}.openTicks`, 1),
    highTicks: nullableInteger(fields["highTicks"], `${where}.highTicks`, 1),
    lowTicks: nullableInteger(fields["lowTicks"], `${where}.lowTicks`, 1),
    volumeLots: integer(fields["volumeLots"], `${where}.volumeLots`, 0),
    notionalMinor: integer(fields["notionalMinor"], `${where}.notionalMinor`, 0),
    trades: integer(fields["trades"], `${where}.trades`, 0),
  };
  if (day.dayStartUs % dayUs !== 0) broken(`${where}.dayStartUs`, "is not a UTC midnight");
  notAfter(day.dayStartUs, nowUs, `${where}.dayStartUs`);
  const prices = [day.openTicks, day.highTicks, day.lowTicks].filter((price) => price !== null).length;
  if (prices !== (day.trades === 0 ? 0 : 3)) broken(where, "has open, high and low prices that do not match its trade count");
  return day;
}
