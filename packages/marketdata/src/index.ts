/**
 * @tradestream/marketdata: public market data (instruments, L2 book, trades,
 * candles, tickers) as a pure projection of the engine's event stream.
 */
export { candleIntervals, intervalUs } from "./candles.ts";
export { candlesKeptDefault, MarketDataProjection, tradesKeptDefault } from "./projection.ts";
export { marketDataSnapshotVersion } from "./snapshot.ts";
export type {
  BookDelta,
  BookLevel,
  BookLevelChange,
  BookSnapshot,
  Candle,
  CandleInterval,
  CandleQuery,
  InstrumentInfo,
  MarketDataOptions,
  MarketUpdate,
  PublicTrade,
  Ticker,
} from "./types.ts";
