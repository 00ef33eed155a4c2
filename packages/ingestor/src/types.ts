/**
 * The ingestor's model: what a feed hands over (raw records, exactly as the
 * source sent them), what comes out of the normalizer (canonical ticks in
 * integers: prices in ticks, quantities in lots, times in UTC microseconds), the
 * reasons a record is refused, and the alerts the ingestor raises.
 */
import type { EngineEvent, InstrumentSpec, SetReferencePrice, SetTradingState } from "@tradestream/contracts";

/** An instrument the ingestor knows, with the names sources may use for it. */
export interface FeedInstrument {
  readonly spec: InstrumentSpec;
  /** Vendor codes (e.g. an exchange's own ticker such as "SAP.DE"); symbol and ISIN always map. */
  readonly vendorCodes?: readonly string[] | undefined;
}

export type TickKind = "quote" | "trade";

/**
 * One normalized market-data record. One shape for quotes and trades (a single
 * hidden class keeps the hot path monomorphic): a trade has `priceTicks` and
 * `qtyLots` and zero bid/ask; a quote has bid/ask and zero price/quantity.
 */
export interface NormalizedTick {
  readonly kind: TickKind;
  readonly instrumentId: number;
  readonly symbol: string;
  readonly source: string;
  /** The source's sequence number for this instrument; 0 when the source sends none. */
  readonly seq: number;
  readonly tsUs: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly bidTicks: number;
  readonly bidLots: number;
  readonly askTicks: number;
  readonly askLots: number;
  /** The aggressor of a trade when the source says; null otherwise. */
  readonly side: "buy" | "sell" | null;
}

/** Why a record went to the dead-letter store. A closed list: every one is counted and tested. */
export const deadLetterReasons = [
  "malformed", // not a JSON object (unparseable text, an array, a number…)
  "unknown_kind", // neither a quote nor a trade
  "unknown_instrument", // no instrument by that symbol, ISIN or vendor code (or none named)
  "invalid_price", // missing, not a decimal, zero or negative, beyond the safe integers
  "price_off_tick", // not a whole number of the instrument's ticks
  "invalid_quantity", // missing for a trade, not a decimal, negative, beyond the safe integers
  "quantity_off_lot", // not a whole number of the instrument's lots
  "invalid_timestamp", // missing, malformed, or outside 1970–2100
  "invalid_sequence", // not a non-negative safe integer
  "crossed_quote", // bid at or above ask
  "out_of_order", // a sequence number already seen, or a time earlier than the instrument's last
  "invalid_source", // a normalized tick without a valid upstream source name, or from one source too many
] as const;

export type DeadLetterReason = (typeof deadLetterReasons)[number];

export interface DeadLetter {
  readonly source: string;
  readonly reason: DeadLetterReason;
  /** The record as received, as text, cut at `deadLetterRawCharsMax`. */
  readonly raw: string;
  /** When it was refused (UTC µs, from the ingestor's clock). */
  readonly atUs: number;
}

export type FeedAlert =
  | { readonly kind: "gap"; readonly source: string; readonly instrumentId: number; readonly symbol: string; readonly expectedSeq: number; readonly receivedSeq: number }
  | { readonly kind: "stale"; readonly instrumentId: number; readonly symbol: string; readonly silentMs: number; readonly halted: boolean }
  | { readonly kind: "recovered"; readonly instrumentId: number; readonly symbol: string; readonly resumed: boolean };

export type FeedState = "idle" | "connecting" | "connected" | "reconnecting" | "done" | "stopped";

export interface FeedStatus {
  readonly source: string;
  readonly state: FeedState;
  readonly reconnects: number;
  /** Records handed over by the source. */
  readonly messages: number;
  /** The last error seen (a message, never a secret), null when none. */
  readonly lastError: string | null;
}

/** What a feed hands records to. */
export interface FeedSink {
  /** One record as received: a parsed JSON value, a CSV row as an object, or the text that failed to parse. */
  record(raw: unknown): void;
}

/**
 * What a feed's records are: `raw` — as a vendor or exchange sends them, for
 * the normalizer — or `normalized` — ticks another ingestor published on
 * `marketdata.<symbol>` (the shape `encodeTick` writes), for the tick reader.
 */
export type FeedFormat = "raw" | "normalized";

/** One interface for every source: start it with a sink, stop it, ask how it is doing. */
export interface Feed {
  readonly source: string;
  /** Default `raw`. */
  readonly format?: FeedFormat | undefined;
  start(sink: FeedSink): Promise<void>;
  stop(): Promise<void>;
  status(): FeedStatus;
}

/** Commands the ingestor sends to the engine (through the journal, so a replay reproduces them). */
export type IngestorCommand = Omit<SetReferencePrice, "tsUs"> | Omit<SetTradingState, "tsUs">;

/** The engine's command port as the ingestor sees it (a Shard, or the gateway's trading port). */
export interface IngestorTradingPort {
  submit(command: IngestorCommand): Promise<{ readonly events: readonly EngineEvent[] }>;
}

export interface IngestorLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A clock in UTC microseconds, injected so tests and replays control time. */
export type ClockUs = () => number;

export const systemClockUs: ClockUs = () => Date.now() * 1000;
