/**
 * The reader of normalized ticks: what another ingestor published on
 * `marketdata.<symbol>` (NATS subject or Kafka topic), read back by the
 * platform's ingestor so the ticks become its reference prices, candles and
 * tickers. It stands where the normalizer stands for raw records and answers
 * the same way: the tick, or null with the record dead-lettered — it never
 * throws on input.
 *
 * Every field of the wire shape (`encodeTick`) is checked: the kind, the
 * prices and quantities as non-negative safe integers (positive where the kind
 * needs them, zero where it has none), a quote not crossed, the time within
 * 1970–2100, the sequence number, the side, the upstream source's name. The
 * instrument is mapped by symbol, not by id — ids are local to each process —
 * so both processes must give a symbol the same tick and lot sizes (the ticks
 * carry prices in ticks). Fields not in the shape are ignored, so a newer
 * publisher may add some.
 *
 * Order is kept per upstream source and instrument (the upstream's sequence
 * numbers are per source): a sequence number already seen (a redelivery) or a
 * time earlier than the last is out of order; a sequence number past the next
 * is a gap, reported like the normalizer's.
 */
import { tsUsMax, tsUsMin } from "./parse.ts";
import { ArrivalOrder, Reader, type ReaderOptions } from "./reader.ts";
import type { DeadLetterReason, NormalizedTick } from "./types.ts";

/** Upstream sources whose order is tracked; ticks of more distinct sources are refused (`invalid_source`). */
export const upstreamSourcesMax = 64;
/** Longest upstream source name accepted. */
export const upstreamSourceCharsMax = 128;

/** A tick as it arrives: any field may be missing or of the wrong type. */
interface WireFields {
  readonly kind?: unknown;
  readonly instrumentId?: unknown;
  readonly symbol?: unknown;
  readonly source?: unknown;
  readonly seq?: unknown;
  readonly tsUs?: unknown;
  readonly priceTicks?: unknown;
  readonly qtyLots?: unknown;
  readonly bidTicks?: unknown;
  readonly bidLots?: unknown;
  readonly askTicks?: unknown;
  readonly askLots?: unknown;
  readonly side?: unknown;
}

export type TickReaderOptions = ReaderOptions;

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : -1;
}

/** `normalize` gives the tick with this process's instrument id. */
export class TickReader extends Reader {
  /** The order of each upstream source's ticks (their sequence numbers are per source). */
  private readonly orderBySource = new Map<string, ArrivalOrder>();

  protected read(raw: unknown): NormalizedTick | null {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return this.refuse("malformed", raw);
    const wire = raw as WireFields;
    const kind = wire.kind;
    if (kind !== "trade" && kind !== "quote") return this.refuse("unknown_kind", raw);
    // The publisher's id is checked for shape only: ids are local to each process.
    if (count(wire.instrumentId) <= 0) return this.refuse("malformed", raw);
    const entry = typeof wire.symbol === "string" ? this.options.instruments.bySymbolName(wire.symbol) : undefined;
    if (entry === undefined) return this.refuse("unknown_instrument", raw);
    const source = wire.source;
    if (typeof source !== "string" || source.length === 0 || source.length > upstreamSourceCharsMax) return this.refuse("invalid_source", raw);
    const seq = count(wire.seq);
    if (seq < 0) return this.refuse("invalid_sequence", raw);
    const tsUs = count(wire.tsUs);
    if (tsUs < tsUsMin || tsUs >= tsUsMax) return this.refuse("invalid_timestamp", raw);
    const priceTicks = count(wire.priceTicks);
    const bidTicks = count(wire.bidTicks);
    const askTicks = count(wire.askTicks);
    if (priceTicks < 0 || bidTicks < 0 || askTicks < 0) return this.refuse("invalid_price", raw);
    const qtyLots = count(wire.qtyLots);
    const bidLots = count(wire.bidLots);
    const askLots = count(wire.askLots);
    if (qtyLots < 0 || bidLots < 0 || askLots < 0) return this.refuse("invalid_quantity", raw);
    const side = wire.side;
    if (side !== null && side !== "buy" && side !== "sell") return this.refuse("malformed", raw);
    const refused = kind === "trade" ? this.tradeReason(priceTicks, qtyLots, bidTicks + bidLots + askTicks + askLots) : this.quoteReason(bidTicks, askTicks, priceTicks + qtyLots, side);
    if (refused !== null) return this.refuse(refused, raw);
    const order = this.orderOf(source);
    if (order === null) return this.refuse("invalid_source", raw);
    const outOfOrder = this.admit(order, entry, seq, tsUs);
    if (outOfOrder !== null) return this.refuse(outOfOrder, raw);
    return { kind, instrumentId: entry.instrumentId, symbol: entry.symbol, source, seq, tsUs, priceTicks, qtyLots, bidTicks, bidLots, askTicks, askLots, side };
  }

  /** A trade has a price and a quantity and no quote fields. */
  private tradeReason(priceTicks: number, qtyLots: number, quoteFields: number): DeadLetterReason | null {
    if (priceTicks === 0) return "invalid_price";
    if (qtyLots === 0) return "invalid_quantity";
    return quoteFields === 0 ? null : "malformed";
  }

  /** A quote has a bid below its ask and neither trade fields nor a side. */
  private quoteReason(bidTicks: number, askTicks: number, tradeFields: number, side: unknown): DeadLetterReason | null {
    if (bidTicks === 0 || askTicks === 0) return "invalid_price";
    if (bidTicks >= askTicks) return "crossed_quote";
    return tradeFields === 0 && side === null ? null : "malformed";
  }

  private orderOf(source: string): ArrivalOrder | null {
    const known = this.orderBySource.get(source);
    if (known !== undefined) return known;
    if (this.orderBySource.size >= upstreamSourcesMax) return null;
    const order = new ArrivalOrder(this.options.instruments.entries.length);
    this.orderBySource.set(source, order);
    return order;
  }
}
