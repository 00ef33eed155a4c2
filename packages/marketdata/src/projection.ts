/**
 * Public market data as a pure projection of the engine's events: instruments,
 * the L2 book, public trades, candles and tickers. It reads no clock and no
 * randomness; its only input is the event stream, so replaying the stream from
 * seq 1 rebuilds it exactly. Time is the events' `tsUs`, and never runs
 * backwards here: an event stamped earlier than one already seen counts at the
 * latest time seen (the sequencer stamps commands in order, so this only
 * guards against a stepped-back clock upstream).
 *
 * `apply` takes the events of one command. Events already applied (seq at or
 * below `lastEventSeq`) are skipped, so redelivery is harmless; a gap in the
 * sequence is a broken delivery and throws before anything changes. Updates go
 * out after the whole batch, in this order: changed instruments, at most one
 * book delta per instrument (the command's level changes merged, last write
 * per level wins), the public trades, then per touched instrument its ticker
 * and the candle of each interval that changed.
 *
 * `snapshot` and `MarketDataProjection.restore` save and reload the whole
 * state (format in snapshot.ts), so that a restart need only replay the
 * events after the snapshot.
 */
import type { EngineEvent, InstrumentSpec, Side, TradingState } from "@tradestream/contracts";
import { assert, InvariantError, isSafeNonNegativeInteger, Listeners, unseenBySeq } from "@tradestream/kernel";
import { PublicBook } from "./book.ts";
import { addExact, bucketStartUs, CandleSeries, candleIntervals, dayUs } from "./candles.ts";
import { RingBuffer } from "./ring.ts";
import { decodeMarketDataSnapshot, encodeMarketDataSnapshot, type InstrumentSnapshot } from "./snapshot.ts";
import type {
  BookDelta,
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

export const tradesKeptDefault = 1_000;
export const candlesKeptDefault = 1_500;

/** Trading statistics of one UTC day. */
export interface DayStats {
  readonly dayStartUs: number;
  /** The last trade before this day, null when there was none. */
  readonly previousCloseTicks: number | null;
  openTicks: number | null;
  highTicks: number | null;
  lowTicks: number | null;
  volumeLots: number;
  notionalMinor: number;
  trades: number;
}

function freshDay(dayStartUs: number, previousCloseTicks: number | null): DayStats {
  return { dayStartUs, previousCloseTicks, openTicks: null, highTicks: null, lowTicks: null, volumeLots: 0, notionalMinor: 0, trades: 0 };
}

class InstrumentState {
  spec: InstrumentSpec;
  state: TradingState = "open";
  lastPriceTicks: number | null = null;
  readonly book = new PublicBook();
  /** The per-instrument seq of the last book delta, and its time. */
  bookSeq = 0;
  bookTsUs: number;
  readonly trades: RingBuffer<PublicTrade>;
  readonly candles: ReadonlyMap<CandleInterval, CandleSeries>;
  /** The same series as a list, in `candleIntervals` order, for the per-trade loop. */
  readonly series: readonly CandleSeries[];
  day: DayStats;
  readonly touched = new Touched(candleIntervals.length);
  /** The `apply` call that last changed the spec, state or reference price. */
  changedMark = 0;

  constructor(spec: InstrumentSpec, tsUs: number, kept: { trades: number; candles: number }) {
    this.spec = spec;
    this.bookTsUs = tsUs;
    this.trades = new RingBuffer<PublicTrade>(kept.trades);
    this.series = candleIntervals.map((interval) => new CandleSeries(spec.instrumentId, interval, kept.candles));
    this.candles = new Map(this.series.map((series, i) => [candleIntervals[i] as CandleInterval, series]));
    this.day = freshDay(bucketStartUs(tsUs, dayUs), null);
  }

  /** An instrument as a snapshot holds it; trades and candles beyond what is kept are dropped, oldest first. */
  static restore(row: InstrumentSnapshot, kept: { trades: number; candles: number }): InstrumentState {
    const state = new InstrumentState(row.spec, row.bookTsUs, kept);
    state.state = row.state;
    state.lastPriceTicks = row.lastPriceTicks;
    state.bookSeq = row.bookSeq;
    state.day = { ...row.day };
    // Worst level first, so that each lands at the end of its side.
    for (const level of row.bids.toReversed()) state.book.set({ side: "buy", ...level });
    for (const level of row.asks.toReversed()) state.book.set({ side: "sell", ...level });
    for (const trade of row.trades.slice(-state.trades.capacity)) state.trades.push(trade);
    for (const [k, series] of state.series.entries()) series.load(row.candles[k] ?? []);
    return state;
  }

  /** What a snapshot holds of the instrument. */
  snapshot(): InstrumentSnapshot {
    return {
      spec: this.spec,
      state: this.state,
      lastPriceTicks: this.lastPriceTicks,
      bookSeq: this.bookSeq,
      bookTsUs: this.bookTsUs,
      bids: this.book.side("buy").top(Infinity),
      asks: this.book.side("sell").top(Infinity),
      trades: this.trades.slice(0, this.trades.length),
      candles: this.series.map((series) => series.list()),
      day: this.day,
    };
  }

  private cached: { readonly spec: InstrumentSpec; readonly info: InstrumentInfo } | null = null;

  /** The public view; the same (immutable) object until the spec, state or last price changes — the edge asks for it on every order. */
  info(): InstrumentInfo {
    const cached = this.cached;
    if (cached !== null && cached.spec === this.spec && cached.info.state === this.state && cached.info.lastPriceTicks === this.lastPriceTicks) return cached.info;
    const info = { ...this.spec, state: this.state, lastPriceTicks: this.lastPriceTicks };
    this.cached = { spec: this.spec, info };
    return info;
  }
}

/** What one command changed, gathered before anything is emitted. */
/**
 * What one `apply` changed of one instrument. Kept on the instrument and reused from call to
 * call (cleared at its first change in a call), so a command costs no maps of its own.
 */
class Touched {
  /** The `apply` call that last changed the instrument. */
  mark = 0;
  /** Each changed level's final state, by `levelKey` (the last change per level wins). */
  readonly levels = new Map<number, BookLevelChange>();
  /** The candle each series changed, by series index; undefined where none did. */
  readonly candles: Array<Candle | undefined>;

  constructor(series: number) {
    this.candles = new Array<Candle | undefined>(series).fill(undefined);
  }

  clear(): void {
    if (this.levels.size > 0) this.levels.clear();
    this.candles.fill(undefined);
  }
}

/** One number per book level: price ticks (< 2^41) doubled, plus 1 for the sell side. */
function levelKey(side: Side, priceTicks: number): number {
  return priceTicks * 2 + (side === "sell" ? 1 : 0);
}

/** A count from a query: below 1 (or not a number) is none; fractions round down; Infinity is everything. */
function countOf(limit: number): number {
  return limit >= 1 ? Math.floor(limit) : 0;
}

export class MarketDataProjection {
  private readonly byId = new Map<number, InstrumentState>();
  /** Upper-cased symbol → instrument id (the first instrument to claim a symbol keeps it). */
  private readonly bySymbol = new Map<string, number>();
  private readonly kept: { trades: number; candles: number };
  /** Replaced, never mutated, so an emission in progress is unaffected by (un)subscribing. */
  private readonly listeners: Listeners<MarketUpdate>;
  private lastSeq = 0;
  /** The latest event time seen: "now" for the projection. */
  private nowUs = 0;
  /** Counts `apply` calls: the mark of what the current one changed. */
  private applyCount = 0;
  /** Instruments the current `apply` touched and changed, in first-change order; reused. */
  private readonly touchedStates: InstrumentState[] = [];
  private readonly changedStates: InstrumentState[] = [];
  private readonly tradesSeen: PublicTrade[] = [];

  constructor(options: MarketDataOptions = {}) {
    this.kept = { trades: options.tradesKept ?? tradesKeptDefault, candles: options.candlesKept ?? candlesKeptDefault };
    assert(this.kept.trades >= 1 && this.kept.candles >= 1, "tradesKept and candlesKept must be at least 1");
    this.listeners = new Listeners<MarketUpdate>(options.onListenerError);
  }

  /**
   * The projection's whole state as snapshot bytes (format in snapshot.ts): what the queries and
   * later `apply` calls depend on, without listeners or options. The same state gives the same bytes.
   */
  snapshot(): Uint8Array {
    return encodeMarketDataSnapshot({
      lastSeq: this.lastSeq,
      nowUs: this.nowUs,
      symbols: [...this.bySymbol],
      instruments: [...this.byId.values()].map((state) => state.snapshot()),
    });
  }

  /**
   * A projection equal to the one that wrote `bytes`, with the trade and candle limits of
   * `options` (the newest kept when they are smaller than the snapshot's). Throws an `Error` for
   * bytes that are not a valid snapshot of this version (`marketDataSnapshotVersion`).
   */
  static restore(bytes: Uint8Array, options: MarketDataOptions = {}): MarketDataProjection {
    const snapshot = decodeMarketDataSnapshot(bytes);
    const projection = new MarketDataProjection(options);
    for (const row of snapshot.instruments) projection.byId.set(row.spec.instrumentId, InstrumentState.restore(row, projection.kept));
    for (const [symbol, instrumentId] of snapshot.symbols) projection.bySymbol.set(symbol, instrumentId);
    projection.lastSeq = snapshot.lastSeq;
    projection.nowUs = snapshot.nowUs;
    return projection;
  }

  get lastEventSeq(): number {
    return this.lastSeq;
  }

  onUpdate(listener: (update: MarketUpdate) => void): () => void {
    return this.listeners.add(listener);
  }

  apply(events: readonly EngineEvent[]): void {
    const fresh = unseenBySeq(events, this.lastSeq);
    if (fresh.length === 0) return;
    this.applyCount += 1;
    this.touchedStates.length = 0;
    this.changedStates.length = 0;
    this.tradesSeen.length = 0;
        for (const event of fresh) {
      this.nowUs = Math.max(this.nowUs, event.tsUs);
      switch (event.type) {
        case "InstrumentCreated": {
          const { type: _type, seq: _seq, tsUs: _tsUs, ...spec } = event;
          assert(!this.byId.has(spec.instrumentId), `instrument ${String(spec.instrumentId)} created twice`);
          const created = new InstrumentState(spec, this.nowUs, this.kept);
          this.byId.set(spec.instrumentId, created);
          const symbol = spec.symbol.toUpperCase();
          if (!this.bySymbol.has(symbol)) this.bySymbol.set(symbol, spec.instrumentId);
          this.changed(created);
          this.touch(created);
          break;
        }
        case "InstrumentUpdated": {
          const state = this.instrumentState(event.instrumentId);
          const { type: _type, seq: _seq, tsUs: _tsUs, instrumentId: _id, ...limits } = event;
          state.spec = { ...state.spec, ...limits };
          this.changed(state);
          break;
        }
        case "ReferencePriceSet": {
          const state = this.instrumentState(event.instrumentId);
          state.spec = { ...state.spec, referencePriceTicks: event.priceTicks };
          this.changed(state);
          this.touch(state);
          break;
        }
        case "TradingStateChanged": {
          const state = this.instrumentState(event.instrumentId);
          state.state = event.state;
          this.changed(state);
          this.touch(state);
          break;
        }
        case "BookLevelChanged": {
          const change: BookLevelChange = {
            side: event.side,
            priceTicks: event.priceTicks,
            qtyLots: event.orderCount === 0 ? 0 : event.qtyLots,
            orderCount: event.orderCount,
          };
          const state = this.instrumentState(event.instrumentId);
          state.book.set(change);
          this.touch(state).levels.set(levelKey(event.side, event.priceTicks), change);
          break;
        }
        case "TradeExecuted": {
          const trade: PublicTrade = {
            tradeId: event.tradeId,
            instrumentId: event.instrumentId,
            priceTicks: event.priceTicks,
            qtyLots: event.qtyLots,
            notionalMinor: event.notionalMinor,
            takerSide: event.takerSide,
            tsUs: this.nowUs,
          };
          const state = this.instrumentState(event.instrumentId);
          this.recordTrade(state, trade, this.touch(state));
          this.tradesSeen.push(trade);
          break;
        }
        // Private or account events: nothing public to show.
        case "OrderAccepted":
        case "CommandRejected":
        case "OrderCancelled":
        case "OrderReplaced":
        case "OrderExpired":
        case "OrderTriggered":
        case "AccountCreated":
        case "BalanceChanged":
        case "PositionChanged":
        case "SessionOpened":
        case "SessionClosed":
        case "KillSwitchSet":
        case "DayEnded":
          break;
      }
    }
    this.lastSeq = fresh[fresh.length - 1]?.seq ?? this.lastSeq;
    this.emitAll(this.updatesOf());
  }

  /** The instrument's changes in this `apply`, cleared at its first change in it. */
  private touch(state: InstrumentState): Touched {
    const touched = state.touched;
    if (touched.mark !== this.applyCount) {
      touched.mark = this.applyCount;
      touched.clear();
      this.touchedStates.push(state);
    }
    return touched;
  }

  /** Notes that the instrument's public description changed in this `apply`. */
  private changed(state: InstrumentState): void {
    if (state.changedMark !== this.applyCount) {
      state.changedMark = this.applyCount;
      this.changedStates.push(state);
    }
  }

  private instrumentState(instrumentId: number): InstrumentState {
    const state = this.byId.get(instrumentId);
    if (state === undefined) throw new InvariantError(`event for unknown instrument ${String(instrumentId)}`);
    return state;
  }

  private recordTrade(state: InstrumentState, trade: PublicTrade, touched: Touched): void {
    assert(isSafeNonNegativeInteger(trade.notionalMinor) && trade.qtyLots > 0 && trade.priceTicks > 0, "trade with an invalid price, quantity or notional");
    const dayStartUs = bucketStartUs(trade.tsUs, dayUs);
    if (dayStartUs > state.day.dayStartUs) state.day = freshDay(dayStartUs, state.lastPriceTicks);
    const day = state.day;
    day.openTicks ??= trade.priceTicks;
    day.highTicks = Math.max(day.highTicks ?? trade.priceTicks, trade.priceTicks);
    day.lowTicks = Math.min(day.lowTicks ?? trade.priceTicks, trade.priceTicks);
    day.volumeLots = addExact(day.volumeLots, trade.qtyLots, "daily volume");
    day.notionalMinor = addExact(day.notionalMinor, trade.notionalMinor, "daily notional");
    day.trades += 1;
    state.lastPriceTicks = trade.priceTicks;
    state.trades.push(trade);
    const series = state.series;
    for (let i = 0; i < series.length; i += 1) touched.candles[i] = (series[i] as CandleSeries).add(trade.tsUs, trade);
  }

  private updatesOf(): MarketUpdate[] {
    const updates: MarketUpdate[] = [];
    for (const state of this.changedStates) updates.push({ kind: "instrument", instrument: state.info() });
    for (const state of this.touchedStates) {
      const levels = state.touched.levels;
      if (levels.size === 0) continue;
      state.bookSeq += 1;
      state.bookTsUs = this.nowUs;
      const delta: BookDelta = { instrumentId: state.spec.instrumentId, seq: state.bookSeq, tsUs: this.nowUs, changes: [...levels.values()] };
      updates.push({ kind: "book", delta });
    }
    for (const trade of this.tradesSeen) updates.push({ kind: "trade", trade });
    for (const state of this.touchedStates) {
      updates.push({ kind: "ticker", ticker: this.tickerOf(state) });
      for (const candle of state.touched.candles) if (candle !== undefined) updates.push({ kind: "candle", candle });
    }
    return updates;
  }

  private emitAll(updates: readonly MarketUpdate[]): void {
    this.listeners.emitAll(updates);
  }

  private tickerOf(state: InstrumentState): Ticker {
    // The day rolls with the latest event of any instrument, so a quiet instrument's stats are from an earlier day.
    const current = state.day.dayStartUs >= bucketStartUs(this.nowUs, dayUs);
    const day = current ? state.day : freshDay(bucketStartUs(this.nowUs, dayUs), state.lastPriceTicks);
    return {
      instrumentId: state.spec.instrumentId,
      lastPriceTicks: state.lastPriceTicks,
      openTicks: day.openTicks,
      highTicks: day.highTicks,
      lowTicks: day.lowTicks,
      previousCloseTicks: day.previousCloseTicks ?? state.spec.referencePriceTicks,
      volumeLots: day.volumeLots,
      notionalMinor: day.notionalMinor,
      trades: day.trades,
      bestBidTicks: state.book.bestBid(),
      bestAskTicks: state.book.bestAsk(),
      referencePriceTicks: state.spec.referencePriceTicks,
      state: state.state,
      tsUs: this.nowUs,
    };
  }

  // ── Queries ─────────────────────────────────────────────────────────────

  /** Every instrument, by id. */
  instruments(): InstrumentInfo[] {
    return [...this.byId.values()].map((state) => state.info()).sort((a, b) => a.instrumentId - b.instrumentId);
  }

  /** By id, or by symbol (case-insensitive). */
  instrument(idOrSymbol: number | string): InstrumentInfo | undefined {
    const id = typeof idOrSymbol === "number" ? idOrSymbol : this.bySymbol.get(idOrSymbol.toUpperCase());
    return id === undefined ? undefined : this.byId.get(id)?.info();
  }

  /** The top `depth` levels per side (Infinity for all). */
  book(instrumentId: number, depth: number): BookSnapshot | undefined {
    const state = this.byId.get(instrumentId);
    if (state === undefined) return undefined;
    const levels = countOf(depth);
    return {
      instrumentId,
      seq: state.bookSeq,
      tsUs: state.bookTsUs,
      bids: state.book.side("buy").top(levels),
      asks: state.book.side("sell").top(levels),
    };
  }

  /** The latest `limit` public trades, newest first. */
  trades(instrumentId: number, limit: number): PublicTrade[] {
    return this.byId.get(instrumentId)?.trades.newest(countOf(limit)) ?? [];
  }

  /** The last `limit` candles starting within [fromUs, toUs], oldest first. */
  candles(instrumentId: number, interval: CandleInterval, query: CandleQuery): Candle[] {
    return this.byId.get(instrumentId)?.candles.get(interval)?.query(query, countOf(query.limit)) ?? [];
  }

  ticker(instrumentId: number): Ticker | undefined {
    const state = this.byId.get(instrumentId);
    return state === undefined ? undefined : this.tickerOf(state);
  }
}
