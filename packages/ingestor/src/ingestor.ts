/**
 * The ingestor: feeds → normalizer (one per source) → bus, and beside the bus
 * the external feed's candles and tickers, the engine's reference prices and
 * stale-feed detection. A bad record is dead-lettered and counted; nothing a
 * source sends can stop the others or the ingestor.
 *
 * A feed of `normalized` format (another ingestor's published ticks) goes
 * through the tick reader instead of the normalizer; from there on, the path is
 * the same.
 *
 * Stale feeds: an instrument that has had no accepted update for `afterMs`
 * (counted from start for one never heard of) raises a `stale` alert, once;
 * with `halt` the ingestor also halts trading in it (`SetTradingState halted`
 * through the trading port) and, when updates come back, resumes it — only if
 * the ingestor's halt is still the instrument's last state change. It follows the
 * engine's `TradingStateChanged` events (`observeEngine`): an instrument already
 * halted or closed is not halted again (nor resumed later), and an operator's
 * change after the feed's halt (halt, resume or close) takes the instrument out of
 * the feed's hands. The flag lives in memory: after a restart a halt the feed made
 * stays until an operator resumes the instrument (never resumed by mistake).
 */
import type { EngineEvent, InstrumentSpec, TradingState } from "@tradestream/contracts";
import { InProcessBus, type MarketDataBus } from "./bus.ts";
import { DeadLetterStore, type DeadLetterOptions } from "./dead-letters.ts";
import { ExternalMarket } from "./external-market.ts";
import { InstrumentTable, Normalizer } from "./normalizer.ts";
import { ReferencePricer } from "./reference.ts";
import type { Reader } from "./reader.ts";
import { TickReader } from "./tick-reader.ts";
import { systemClockUs, type ClockUs, type Feed, type FeedAlert, type FeedInstrument, type FeedStatus, type IngestorLogger, type IngestorTradingPort, type NormalizedTick } from "./types.ts";

export const staleAfterMsDefault = 30_000;

export interface IngestorOptions {
  readonly instruments: readonly FeedInstrument[];
  readonly feeds: readonly Feed[];
  /** The bus ticks are published on (default: in process). */
  readonly bus?: MarketDataBus | undefined;
  /** Further buses the same ticks go to (NATS, Kafka). */
  readonly publishers?: readonly MarketDataBus[] | undefined;
  /** Reference prices and halts go to the engine through this port; without it, none are sent. */
  readonly trading?: IngestorTradingPort | undefined;
  readonly referenceIntervalMs?: number | undefined;
  readonly stale?: { readonly afterMs?: number | undefined; readonly halt?: boolean | undefined } | undefined;
  readonly deadLetters?: DeadLetterOptions | undefined;
  /** Build the external feed's candles and tickers (default true; a pure relay may turn it off). */
  readonly candles?: boolean | undefined;
  readonly clockUs?: ClockUs | undefined;
  readonly logger?: IngestorLogger | undefined;
}

/** What each source has done since start. */
export interface SourceCounts {
  received: number;
  published: number;
  deadLettered: number;
  gaps: number;
  /** Receive time minus record time of the last accepted record, in µs. */
  lagUs: number;
}

export interface InstrumentFeedStatus {
  readonly symbol: string;
  readonly instrumentId: number;
  readonly lastUpdateUs: number | null;
  readonly stale: boolean;
  readonly haltedByFeed: boolean;
  readonly referencePriceTicks: number | null;
}

/** The feed's status as the public sees it (see `Ingestor.publicStatus`). */
export interface PublicFeedStatus {
  readonly sources: ReadonlyArray<{ readonly source: string; readonly state: FeedStatus["state"] }>;
  readonly instruments: ReadonlyArray<Pick<InstrumentFeedStatus, "symbol" | "lastUpdateUs" | "stale" | "haltedByFeed">>;
}

export interface IngestorStatus {
  readonly sources: ReadonlyArray<FeedStatus & SourceCounts>;
  readonly instruments: readonly InstrumentFeedStatus[];
  readonly deadLetters: { readonly total: number; readonly byReason: Record<string, unknown> };
  readonly bus: ReadonlyArray<{ readonly name: string; readonly published: number; readonly failed: number }>;
  readonly referencePrices: { readonly submitted: number; readonly rejected: number };
}

interface StaleState {
  lastUpdateUs: number;
  seen: boolean;
  stale: boolean;
  haltedByFeed: boolean;
  /** The trading state the ingestor has just asked for, until the engine's event for it arrives. */
  requested: TradingState | null;
  /** The instrument's trading state as the engine last reported it. */
  engineState: TradingState;
}

export class Ingestor {
  readonly bus: MarketDataBus;
  readonly deadLetters: DeadLetterStore;
  readonly external: ExternalMarket;
  readonly instruments: InstrumentTable;
  private readonly publishers: readonly MarketDataBus[];
  private readonly clockUs: ClockUs;
  private readonly reference: ReferencePricer | null;
  private readonly alertListeners = new Set<(alert: FeedAlert) => void>();
  private readonly sources: Array<{ feed: Feed; normalizer: Reader; counts: SourceCounts }> = [];
  private readonly staleById = new Map<number, StaleState>();
  private staleTimer: NodeJS.Timeout | null = null;
  private readonly staleAfterUs: number;
  private started = false;

  constructor(private readonly options: IngestorOptions) {
    this.clockUs = options.clockUs ?? systemClockUs;
    this.bus = options.bus ?? new InProcessBus((error) => options.logger?.warn("a market-data consumer failed", { error: String(error) }));
    this.publishers = options.publishers ?? [];
    this.deadLetters = new DeadLetterStore({ logger: options.logger, ...options.deadLetters });
    this.instruments = new InstrumentTable(options.instruments);
    const now = this.clockUs();
    this.external = new ExternalMarket(
      options.instruments.map((instrument) => instrument.spec),
      now,
      (error) => options.logger?.warn("an external market-data listener failed", { error: String(error) }),
    );
    this.reference = options.trading === undefined ? null : new ReferencePricer(options.trading, { intervalMs: options.referenceIntervalMs, logger: options.logger });
    this.staleAfterUs = (options.stale?.afterMs ?? staleAfterMsDefault) * 1000;
    for (const instrument of options.instruments) this.staleById.set(instrument.spec.instrumentId, { lastUpdateUs: now, seen: false, stale: false, haltedByFeed: false, requested: null, engineState: "open" });
    for (const feed of options.feeds) this.addSource(feed);
  }

  private addSource(feed: Feed): void {
    const options = { source: feed.source, instruments: this.instruments, deadLetters: this.deadLetters, clockUs: this.clockUs, onAlert: (alert: FeedAlert) => this.alert(alert) };
    // Raw records are normalized; ticks another ingestor published are checked field by field and mapped by symbol.
    const normalizer = feed.format === "normalized" ? new TickReader(options) : new Normalizer(options);
    this.sources.push({ feed, normalizer, counts: { received: 0, published: 0, deadLettered: 0, gaps: 0, lagUs: 0 } });
  }

  onAlert(listener: (alert: FeedAlert) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  private alert(alert: FeedAlert): void {
    if (alert.kind === "gap") {
      const source = this.sources.find((s) => s.feed.source === alert.source);
      if (source !== undefined) source.counts.gaps += 1;
    }
    for (const listener of this.alertListeners) {
      try {
        listener(alert);
      } catch (error) {
        this.options.logger?.warn("a feed alert listener failed", { error: String(error) });
      }
    }
  }

  /** Feeds one raw record of a source through the pipeline (the feeds' sinks call this; tests and benchmarks may too). */
  ingest(sourceIndex: number, raw: unknown): NormalizedTick | null {
    const source = this.sources[sourceIndex];
    if (source === undefined) return null;
    source.counts.received += 1;
    const tick = source.normalizer.normalize(raw);
    if (tick === null) {
      source.counts.deadLettered += 1;
      return null;
    }
    const now = this.clockUs();
    source.counts.lagUs = now - tick.tsUs;
    this.deliver(tick, now);
    source.counts.published += 1;
    return tick;
  }

  private deliver(tick: NormalizedTick, nowUs: number): void {
    this.bus.publish(tick);
    for (const publisher of this.publishers) publisher.publish(tick);
    try {
      if (this.options.candles !== false) this.external.add(tick);
    } catch (error) {
      this.options.logger?.warn("external candles/ticker update failed", { symbol: tick.symbol, error: String(error) });
    }
    this.reference?.observe(tick);
    const stale = this.staleById.get(tick.instrumentId);
    if (stale !== undefined) {
      stale.lastUpdateUs = nowUs;
      stale.seen = true;
      if (stale.stale) this.recover(tick.instrumentId, tick.symbol, stale);
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.reference?.start();
    const checkMs = Math.max(10, Math.min(1_000, Math.floor(this.staleAfterUs / 4_000)));
    this.staleTimer = setInterval(() => this.checkStale(), checkMs);
    this.staleTimer.unref();
    await Promise.all(this.sources.map((source, index) => source.feed.start({ record: (raw) => void this.ingest(index, raw) })));
    this.options.logger?.info("ingestor started", { sources: this.sources.map((s) => s.feed.source), instruments: this.instruments.entries.length, bus: [this.bus.name, ...this.publishers.map((p) => p.name)] });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.staleTimer !== null) clearInterval(this.staleTimer);
    this.staleTimer = null;
    await Promise.all(this.sources.map((source) => source.feed.stop()));
    await this.reference?.stop();
    for (const publisher of [this.bus, ...this.publishers]) {
      await publisher.flush().catch((error: unknown) => this.options.logger?.warn("market-data bus did not flush before stop", { bus: publisher.name, error: String(error) }));
      await publisher.close();
    }
    await this.deadLetters.close();
  }

  /** Sends the pending reference prices now (tests; the timer does it every interval). */
  flushReferencePrices(): Promise<void> {
    return this.reference?.flush() ?? Promise.resolve();
  }

  /** Checks every instrument for silence (the timer calls it; tests may call it with their own clock). */
  checkStale(): void {
    const now = this.clockUs();
    for (const [instrumentId, state] of this.staleById) {
      if (state.stale || now - state.lastUpdateUs < this.staleAfterUs) continue;
      state.stale = true;
      const symbol = this.specOf(instrumentId)?.symbol ?? String(instrumentId);
      // Only an open instrument is halted by the feed: one an operator already halted or closed stays theirs.
      const halt = this.options.stale?.halt === true && this.options.trading !== undefined && state.engineState === "open";
      this.options.logger?.warn("market-data feed stale", { symbol, silentMs: Math.round((now - state.lastUpdateUs) / 1000), halt });
      if (halt) this.setTradingState(instrumentId, "halted", state);
      this.alert({ kind: "stale", instrumentId, symbol, silentMs: Math.round((now - state.lastUpdateUs) / 1000), halted: halt });
    }
  }

  private recover(instrumentId: number, symbol: string, state: StaleState): void {
    state.stale = false;
    const resume = state.haltedByFeed;
    this.options.logger?.info("market-data feed recovered", { symbol, resume });
    if (resume) this.setTradingState(instrumentId, "open", state);
    this.alert({ kind: "recovered", instrumentId, symbol, resumed: resume });
  }

  /**
   * The engine's events, as the platform applies them: keeps each instrument's trading
   * state, and a state change the ingestor did not ask for (an operator's halt, resume
   * or close, a circuit breaker) ends the feed's claim on the instrument.
   */
  observeEngine(events: readonly EngineEvent[]): void {
    for (const event of events) {
      if (event.type !== "TradingStateChanged") continue;
      const state = this.staleById.get(event.instrumentId);
      if (state === undefined) continue;
      state.engineState = event.state;
      if (state.requested === event.state && event.reason === "operator") {
        state.requested = null; // the feed's own change
        continue;
      }
      state.haltedByFeed = false;
    }
  }

  /** An instrument's trading state as the engine has it (at start-up, before any event is observed). */
  noteTradingState(instrumentId: number, tradingState: TradingState): void {
    const state = this.staleById.get(instrumentId);
    if (state !== undefined) state.engineState = tradingState;
  }

  private setTradingState(instrumentId: number, tradingState: "halted" | "open", state: StaleState): void {
    const trading = this.options.trading;
    if (trading === undefined) return;
    state.haltedByFeed = tradingState === "halted";
    state.requested = tradingState;
    trading.submit({ type: "SetTradingState", instrumentId, state: tradingState }).catch((error: unknown) => {
      this.options.logger?.error("could not change the trading state for a stale feed", { instrumentId, state: tradingState, error: String(error) });
    });
  }

  private instrumentStatus(): InstrumentFeedStatus[] {
    return this.options.instruments.map(({ spec }) => {
      const state = this.staleById.get(spec.instrumentId);
      return {
        symbol: spec.symbol,
        instrumentId: spec.instrumentId,
        lastUpdateUs: state?.seen === true ? state.lastUpdateUs : null,
        stale: state?.stale ?? false,
        haltedByFeed: state?.haltedByFeed ?? false,
        referencePriceTicks: this.reference?.sentPrice(spec.instrumentId) ?? null,
      };
    });
  }

  private specOf(instrumentId: number): InstrumentSpec | undefined {
    return this.options.instruments.find((instrument) => instrument.spec.instrumentId === instrumentId)?.spec;
  }

  /**
   * What anyone may see: whether each source is up and which instruments are stale.
   * Error texts, counts, dead letters and buses stay in `status()`, for operators:
   * an error can name internal hosts and addresses.
   */
  publicStatus(): PublicFeedStatus {
    return {
      sources: this.sources.map((source) => {
        const { source: name, state } = source.feed.status();
        return { source: name, state };
      }),
      instruments: this.instrumentStatus().map(({ symbol, lastUpdateUs, stale, haltedByFeed }) => ({ symbol, lastUpdateUs, stale, haltedByFeed })),
    };
  }

  status(): IngestorStatus {
    return {
      sources: this.sources.map((source) => ({ ...source.feed.status(), ...source.counts })),
      instruments: this.instrumentStatus(),
      deadLetters: { total: this.deadLetters.size, byReason: this.deadLetters.byReason() },
      bus: [this.bus, ...this.publishers].map((bus) => ({ name: bus.name, published: bus.published, failed: bus.failed })),
      referencePrices: { submitted: this.reference?.submitted ?? 0, rejected: this.reference?.rejected ?? 0 },
    };
  }
}
