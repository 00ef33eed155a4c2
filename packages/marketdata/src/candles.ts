/**
 * Candles (OHLCV bars) built from trades. Buckets align to UTC: a trade at
 * `tsUs` belongs to the bucket starting at floor(tsUs / interval) × interval.
 * Only buckets with trades get a candle (there is no gap filling), and a
 * series holds its candles in ascending start order, the open (latest) one
 * last.
 */
import { assert } from "@tradestream/kernel";
import { RingBuffer } from "./ring.ts";
import type { Candle, CandleInterval, CandleQuery } from "./types.ts";

export const candleIntervals: readonly CandleInterval[] = ["1s", "1m", "5m", "1h", "1d"];

const secondUs = 1_000_000;

export const intervalUs: Readonly<Record<CandleInterval, number>> = {
  "1s": secondUs,
  "1m": 60 * secondUs,
  "5m": 300 * secondUs,
  "1h": 3_600 * secondUs,
  "1d": 86_400 * secondUs,
};

export const dayUs = intervalUs["1d"];

/** The start of the bucket of `interval` that holds `tsUs`. */
export function bucketStartUs(tsUs: number, intervalLengthUs: number): number {
  return Math.floor(tsUs / intervalLengthUs) * intervalLengthUs;
}

/** A sum that must stay exact: volume and notional totals are bounded by the safe integers. */
export function addExact(a: number, b: number, what: string): number {
  const sum = a + b;
  assert(Number.isSafeInteger(sum), `${what} total exceeds the safe integers`);
  return sum;
}

export interface TradePrint {
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly notionalMinor: number;
}

export class CandleSeries {
  private readonly candles: RingBuffer<Candle>;
  private readonly lengthUs: number;

  constructor(
    private readonly instrumentId: number,
    private readonly interval: CandleInterval,
    kept: number,
  ) {
    this.candles = new RingBuffer<Candle>(kept);
    this.lengthUs = intervalUs[interval];
  }

  /** Adds a trade at `tsUs` (never earlier than the open candle's start); returns the candle it changed. */
  add(tsUs: number, trade: TradePrint): Candle {
    const startUs = bucketStartUs(tsUs, this.lengthUs);
    const open = this.candles.last();
    if (open !== undefined && open.startUs === startUs) {
      // A new object (listeners may hold the old one), every field written out: no spread on the per-trade path.
      const next: Candle = {
        instrumentId: open.instrumentId,
        interval: open.interval,
        startUs: open.startUs,
        open: open.open,
        high: Math.max(open.high, trade.priceTicks),
        low: Math.min(open.low, trade.priceTicks),
        close: trade.priceTicks,
        volumeLots: addExact(open.volumeLots, trade.qtyLots, "candle volume"),
        notionalMinor: addExact(open.notionalMinor, trade.notionalMinor, "candle notional"),
        trades: open.trades + 1,
      };
      this.candles.replaceLast(next);
      return next;
    }
    assert(open === undefined || open.startUs < startUs, "a trade earlier than the open candle");
    const candle: Candle = {
      instrumentId: this.instrumentId,
      interval: this.interval,
      startUs,
      open: trade.priceTicks,
      high: trade.priceTicks,
      low: trade.priceTicks,
      close: trade.priceTicks,
      volumeLots: trade.qtyLots,
      notionalMinor: trade.notionalMinor,
      trades: 1,
    };
    this.candles.push(candle);
    return candle;
  }

  /** Every candle kept, oldest first. */
  list(): Candle[] {
    return this.candles.slice(0, this.candles.length);
  }

  /**
   * Fills an empty series with `candles` (this series' own, in ascending start order, as `list`
   * gives them, say from a snapshot); when they outnumber the capacity, the newest are kept.
   */
  load(candles: readonly Candle[]): void {
    assert(this.candles.length === 0, "loading candles into a series that holds some");
    for (const candle of candles.slice(-this.candles.capacity)) {
      const open = this.candles.last();
      assert(candle.instrumentId === this.instrumentId && candle.interval === this.interval, "loading another series' candle");
      assert(candle.startUs === bucketStartUs(candle.startUs, this.lengthUs) && (open === undefined || open.startUs < candle.startUs), "loading candles out of order or off their buckets");
      this.candles.push(candle);
    }
  }

  /** The index of the first candle whose start is past `limitUs` (or, when `inclusive`, at it); the candles ascend by start. */
  private firstFrom(limitUs: number, inclusive: boolean): number {
    let low = 0;
    let high = this.candles.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const startUs = this.candles.at(mid).startUs;
      if (inclusive ? startUs < limitUs : startUs <= limitUs) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The last `limit` candles starting within [fromUs, toUs], oldest first. */
  query(query: CandleQuery, limit: number): Candle[] {
    const from = query.fromUs === undefined ? 0 : this.firstFrom(query.fromUs, true);
    const to = query.toUs === undefined ? this.candles.length : this.firstFrom(query.toUs, false);
    if (to <= from || limit <= 0) return [];
    return this.candles.slice(Math.max(from, to - limit), to);
  }
}
