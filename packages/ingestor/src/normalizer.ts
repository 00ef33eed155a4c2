/**
 * The normalizer: raw records of one source → canonical ticks. It maps the
 * instrument by symbol, ISIN or vendor code, puts prices on the instrument's
 * tick grid and quantities on its lot grid exactly, and brings the time to UTC
 * microseconds. A record that fails any check goes to the dead-letter store
 * with its reason and `normalize` answers null: it never throws on input, so a
 * bad record can neither crash the ingestor nor poison the stream.
 *
 * Per instrument it keeps the last sequence number and time of this source: a
 * sequence number already seen, or a time earlier than the last, is out of
 * order (dead-lettered); a sequence number past the next one is a gap (the
 * record is kept, the gap counted and reported).
 *
 * Accepted record fields (JSON or CSV columns of the same names):
 * `type` ("quote" | "trade"); one of `symbol`, `isin`, `code`; `seq` (optional);
 * the time as `tsUs` (integer µs), `tsMs` (integer ms) or `time` (ISO-8601);
 * trades `price`, `size`, optional `side`; quotes `bid`, `ask`, optional
 * `bidSize`, `askSize`. Prices and sizes are decimal strings or JSON numbers.
 */
import { gridOf, isoToUs, notANumber, offGrid, stepsOf, tsUsMax, tsUsMin, type Grid } from "./parse.ts";
import { ArrivalOrder, Reader, type ReaderCounts, type ReaderOptions } from "./reader.ts";
import type { DeadLetterReason, FeedInstrument, NormalizedTick } from "./types.ts";

/** One instrument as the normalizer needs it, looked up once per record. */
interface Entry {
  readonly index: number;
  readonly instrumentId: number;
  readonly symbol: string;
  readonly tick: Grid;
  readonly lot: Grid;
}

/** The instruments a set of normalizers share: names → entries. */
export class InstrumentTable {
  readonly entries: readonly Entry[];
  private readonly bySymbol = new Map<string, Entry>();
  private readonly byIsin = new Map<string, Entry>();
  private readonly byCode = new Map<string, Entry>();

  constructor(readonly instruments: readonly FeedInstrument[]) {
    this.entries = instruments.map((instrument, index) => ({ index, instrumentId: instrument.spec.instrumentId, symbol: instrument.spec.symbol, tick: gridOf(instrument.spec.tickSize), lot: gridOf(instrument.spec.lotSize) }));
    instruments.forEach((instrument, index) => {
      const entry = this.entries[index];
      if (entry === undefined) return;
      this.bySymbol.set(instrument.spec.symbol.toUpperCase(), entry);
      this.byIsin.set(instrument.spec.isin.toUpperCase(), entry);
      for (const code of instrument.vendorCodes ?? []) this.byCode.set(code.toUpperCase(), entry);
    });
  }

  /** By symbol, ISIN or vendor code (any case), in that order of preference. */
  find(symbol: unknown, isin: unknown, code: unknown): Entry | undefined {
    if (typeof symbol === "string") return this.bySymbol.get(symbol) ?? this.bySymbol.get(symbol.toUpperCase());
    if (typeof isin === "string") return this.byIsin.get(isin) ?? this.byIsin.get(isin.toUpperCase());
    if (typeof code === "string") return this.byCode.get(code) ?? this.byCode.get(code.toUpperCase());
    return undefined;
  }

  bySymbolName(symbol: string): Entry | undefined {
    return this.bySymbol.get(symbol.toUpperCase());
  }
}

/** A record as the normalizer reads it: any of these fields may be missing or of the wrong type. */
interface RawFields {
  readonly type?: unknown;
  readonly symbol?: unknown;
  readonly isin?: unknown;
  readonly code?: unknown;
  readonly seq?: unknown;
  readonly tsUs?: unknown;
  readonly tsMs?: unknown;
  readonly time?: unknown;
  readonly price?: unknown;
  readonly size?: unknown;
  readonly side?: unknown;
  readonly bid?: unknown;
  readonly ask?: unknown;
  readonly bidSize?: unknown;
  readonly askSize?: unknown;
}

export type NormalizerCounts = ReaderCounts;
export type NormalizerOptions = ReaderOptions;

function integerOf(value: unknown): number {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : notANumber;
  if (typeof value === "string" && value.length > 0 && value.length <= 16) {
    let n = 0;
    for (let i = 0; i < value.length; i += 1) {
      const code = value.charCodeAt(i);
      if (code < 48 || code > 57) return notANumber;
      n = n * 10 + (code - 48);
    }
    return n;
  }
  return notANumber;
}

function timeOf(record: RawFields): number {
  let tsUs: number;
  if (record.tsUs !== undefined) tsUs = integerOf(record.tsUs);
  else if (record.tsMs !== undefined) {
    const ms = integerOf(record.tsMs);
    tsUs = ms < 0 ? ms : ms * 1000;
  } else if (typeof record.time === "string") tsUs = isoToUs(record.time);
  else return notANumber;
  return tsUs < tsUsMin || tsUs >= tsUsMax ? notANumber : tsUs;
}

function priceReason(steps: number): DeadLetterReason {
  return steps === offGrid ? "price_off_tick" : "invalid_price";
}

function quantityReason(steps: number): DeadLetterReason {
  return steps === offGrid ? "quantity_off_lot" : "invalid_quantity";
}

export class Normalizer extends Reader {
  /** The order of this source's records, per instrument. */
  private readonly order: ArrivalOrder;

  constructor(options: NormalizerOptions) {
    super(options);
    this.order = new ArrivalOrder(options.instruments.entries.length);
  }

  protected read(raw: unknown): NormalizedTick | null {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return this.refuse("malformed", raw);
    const record = raw as RawFields;
    const type = record.type;
    if (type !== "trade" && type !== "quote") return this.refuse("unknown_kind", raw);
    const entry = this.options.instruments.find(record.symbol, record.isin, record.code);
    if (entry === undefined) return this.refuse("unknown_instrument", raw);
    const tsUs = timeOf(record);
    if (tsUs < 0) return this.refuse("invalid_timestamp", raw);
    let seq = 0;
    if (record.seq !== undefined) {
      seq = integerOf(record.seq);
      if (seq < 0) return this.refuse("invalid_sequence", raw);
    }
    let priceTicks = 0;
    let qtyLots = 0;
    let bidTicks = 0;
    let bidLots = 0;
    let askTicks = 0;
    let askLots = 0;
    let side: "buy" | "sell" | null = null;
    if (type === "trade") {
      priceTicks = stepsOf(record.price, entry.tick);
      if (priceTicks <= 0) return this.refuse(priceReason(priceTicks), raw);
      qtyLots = stepsOf(record.size, entry.lot);
      if (qtyLots <= 0) return this.refuse(quantityReason(qtyLots), raw);
      side = record.side === "buy" || record.side === "sell" ? record.side : null;
    } else {
      bidTicks = stepsOf(record.bid, entry.tick);
      if (bidTicks <= 0) return this.refuse(priceReason(bidTicks), raw);
      askTicks = stepsOf(record.ask, entry.tick);
      if (askTicks <= 0) return this.refuse(priceReason(askTicks), raw);
      if (bidTicks >= askTicks) return this.refuse("crossed_quote", raw);
      if (record.bidSize !== undefined) {
        bidLots = stepsOf(record.bidSize, entry.lot);
        if (bidLots < 0) return this.refuse(quantityReason(bidLots), raw);
      }
      if (record.askSize !== undefined) {
        askLots = stepsOf(record.askSize, entry.lot);
        if (askLots < 0) return this.refuse(quantityReason(askLots), raw);
      }
    }
    const outOfOrder = this.admit(this.order, entry, seq, tsUs);
    if (outOfOrder !== null) return this.refuse(outOfOrder, raw);
    return { kind: type, instrumentId: entry.instrumentId, symbol: entry.symbol, source: this.options.source, seq, tsUs, priceTicks, qtyLots, bidTicks, bidLots, askTicks, askLots, side };
  }
}
