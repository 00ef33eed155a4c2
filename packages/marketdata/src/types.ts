/**
 * The public market data model: what anyone may see of a shard's markets. All
 * values are integers as the engine produces them (prices in ticks, quantities
 * in lots, cash in minor units, times in UTC microseconds); the gateway turns
 * them into decimal strings at the edge. Every object handed out is immutable
 * and never changed afterwards, so a listener may keep it.
 */
import type { InstrumentSpec, Side, TradingState } from "@tradestream/contracts";

export type CandleInterval = "1s" | "1m" | "5m" | "1h" | "1d";

export interface InstrumentInfo extends InstrumentSpec {
  readonly state: TradingState;
  /** The price of the last trade, null before the first. */
  readonly lastPriceTicks: number | null;
}

export interface BookLevel {
  readonly priceTicks: number;
  /** Displayed quantity: iceberg reserves are hidden. */
  readonly qtyLots: number;
  readonly orderCount: number;
}

export interface BookSnapshot {
  readonly instrumentId: number;
  /** The per-instrument sequence number of the last delta the snapshot includes (0 before the first). */
  readonly seq: number;
  readonly tsUs: number;
  /** Best first. */
  readonly bids: readonly BookLevel[];
  /** Best first. */
  readonly asks: readonly BookLevel[];
}

export interface BookLevelChange {
  readonly side: Side;
  readonly priceTicks: number;
  /** 0 when the level is gone. */
  readonly qtyLots: number;
  readonly orderCount: number;
}

export interface BookDelta {
  readonly instrumentId: number;
  /** Per instrument: the previous delta's seq + 1, starting at 1. */
  readonly seq: number;
  readonly tsUs: number;
  readonly changes: readonly BookLevelChange[];
}

export interface PublicTrade {
  readonly tradeId: number;
  readonly instrumentId: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly notionalMinor: number;
  readonly takerSide: Side;
  readonly tsUs: number;
}

export interface Candle {
  readonly instrumentId: number;
  readonly interval: CandleInterval;
  /** floor(tsUs / interval) × interval: buckets align to UTC. */
  readonly startUs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volumeLots: number;
  readonly notionalMinor: number;
  readonly trades: number;
}

export interface Ticker {
  readonly instrumentId: number;
  readonly lastPriceTicks: number | null;
  /** Today's first, highest and lowest trade prices; null before today's first trade. */
  readonly openTicks: number | null;
  readonly highTicks: number | null;
  readonly lowTicks: number | null;
  /** The last trade before today, else the reference price. */
  readonly previousCloseTicks: number | null;
  /** Today: the UTC day of the latest event the projection has seen. */
  readonly volumeLots: number;
  readonly notionalMinor: number;
  readonly trades: number;
  readonly bestBidTicks: number | null;
  readonly bestAskTicks: number | null;
  readonly referencePriceTicks: number;
  readonly state: TradingState;
  /** The time the ticker is as of: the latest event the projection has seen. */
  readonly tsUs: number;
}

export type MarketUpdate =
  | { readonly kind: "book"; readonly delta: BookDelta }
  | { readonly kind: "trade"; readonly trade: PublicTrade }
  | { readonly kind: "ticker"; readonly ticker: Ticker }
  | { readonly kind: "candle"; readonly candle: Candle }
  | { readonly kind: "instrument"; readonly instrument: InstrumentInfo };

export interface CandleQuery {
  readonly limit: number;
  /** Earliest candle start to include (inclusive). */
  readonly fromUs?: number | undefined;
  /** Latest candle start to include (inclusive). */
  readonly toUs?: number | undefined;
}

export interface MarketDataOptions {
  /** Public trades kept per instrument (default `tradesKeptDefault`). */
  readonly tradesKept?: number;
  /** Candles kept per instrument and interval (default `candlesKeptDefault`). */
  readonly candlesKept?: number;
  /** Told about an error a listener threw; the projection and the other listeners carry on regardless. */
  readonly onListenerError?: (error: unknown) => void;
}
