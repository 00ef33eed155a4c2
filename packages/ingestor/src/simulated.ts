/**
 * The simulated exchange feed, for the demo and for tests: seeded, realistic
 * intraday quotes and trades for a set of instruments. Each instrument's mid
 * price follows a random walk whose volatility clusters (GARCH(1,1)), pulled
 * back towards its anchor (the instrument's reference price at start) and
 * bounded to `maxDeviationBps` around it; now and then it gaps by a few times
 * its usual move. The spread widens with volatility. Trades print at the bid or
 * the ask. Prices leave as decimal strings on the tick grid, as a vendor sends
 * them; the simulation's own state is a float, but nothing downstream ever
 * sees one.
 *
 * Same seed, same records: `SimulatedMarket.next(tsUs)` is a pure function of
 * the seed and the times it is asked at. The feed calls it from a timer at
 * `ratePerS` records per second.
 */
import { fromSteps, mulberry32 } from "@tradestream/kernel";
import { systemClockUs, type ClockUs, type Feed, type FeedInstrument, type FeedSink, type FeedState, type FeedStatus } from "./types.ts";

export interface SimulatedMarketOptions {
  readonly instruments: readonly FeedInstrument[];
  readonly seed: number;
  /** Per-event volatility at rest, in basis points (default 1.5). */
  readonly volatilityBps?: number | undefined;
  /** How far the mid may wander from its anchor, in basis points (default 250). */
  readonly maxDeviationBps?: number | undefined;
  /** Probability per event of a price gap (default 0.002). */
  readonly gapProbability?: number | undefined;
  /** Probability per event of skipping sequence numbers, as a lossy line does (default 0). */
  readonly sequenceGapProbability?: number | undefined;
  /** Share of events that are trades (default 0.3). */
  readonly tradeShare?: number | undefined;
}

interface Walk {
  readonly instrument: FeedInstrument;
  readonly anchor: number;
  mid: number;
  variance: number;
  seq: number;
}

export type SimulatedRecord =
  | { readonly type: "quote"; readonly symbol: string; readonly seq: number; readonly tsUs: number; readonly bid: string; readonly ask: string; readonly bidSize: string; readonly askSize: string }
  | { readonly type: "trade"; readonly symbol: string; readonly seq: number; readonly tsUs: number; readonly price: string; readonly size: string; readonly side: "buy" | "sell" };

export class SimulatedMarket {
  private readonly random: () => number;
  private readonly walks: Walk[];
  private readonly baseVariance: number;
  private readonly maxDeviation: number;
  private readonly gapProbability: number;
  private readonly sequenceGapProbability: number;
  private readonly tradeShare: number;

  constructor(options: SimulatedMarketOptions) {
    if (options.instruments.length === 0) throw new RangeError("the simulated market needs at least one instrument");
    this.random = mulberry32(options.seed);
    const volatility = (options.volatilityBps ?? 1.5) / 10_000;
    this.baseVariance = volatility * volatility;
    this.maxDeviation = (options.maxDeviationBps ?? 250) / 10_000;
    this.gapProbability = options.gapProbability ?? 0.002;
    this.sequenceGapProbability = options.sequenceGapProbability ?? 0;
    this.tradeShare = options.tradeShare ?? 0.3;
    this.walks = options.instruments.map((instrument) => ({ instrument, anchor: instrument.spec.referencePriceTicks, mid: instrument.spec.referencePriceTicks, variance: this.baseVariance, seq: 0 }));
  }

  /** A standard normal draw (Box–Muller). */
  private normal(): number {
    const u = Math.max(this.random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  /** The next record, stamped `tsUs`. */
  next(tsUs: number): SimulatedRecord {
    const walk = this.walks[Math.floor(this.random() * this.walks.length)] ?? this.walks[0];
    if (walk === undefined) throw new Error("no instruments");
    // Volatility clustering: GARCH(1,1) on the per-event return.
    const shock = Math.sqrt(walk.variance) * this.normal();
    walk.variance = 0.05 * this.baseVariance + 0.1 * shock * shock + 0.85 * walk.variance;
    const gap = this.random() < this.gapProbability ? (this.random() < 0.5 ? -1 : 1) * 8 * Math.sqrt(this.baseVariance) : 0;
    const deviation = walk.mid / walk.anchor - 1;
    const pull = -0.002 * deviation;
    const next = walk.mid * (1 + shock + gap + pull);
    walk.mid = Math.min(walk.anchor * (1 + this.maxDeviation), Math.max(walk.anchor * (1 - this.maxDeviation), next));
    walk.seq += this.random() < this.sequenceGapProbability ? 2 + Math.floor(this.random() * 3) : 1;
    const spec = walk.instrument.spec;
    const mid = Math.max(2, Math.round(walk.mid));
    const halfSpread = Math.max(1, Math.round((mid * 2 * Math.sqrt(walk.variance)) / 2));
    const bid = Math.max(1, mid - halfSpread);
    const ask = bid + 2 * halfSpread;
    const lots = (): string => fromSteps(10 * (1 + Math.floor(this.random() * 20)), spec.lotSize);
    if (this.random() < this.tradeShare) {
      const side = this.random() < 0.5 ? "buy" : "sell";
      return { type: "trade", symbol: spec.symbol, seq: walk.seq, tsUs, price: fromSteps(side === "buy" ? ask : bid, spec.tickSize), size: fromSteps(1 + Math.floor(this.random() * 50), spec.lotSize), side };
    }
    return { type: "quote", symbol: spec.symbol, seq: walk.seq, tsUs, bid: fromSteps(bid, spec.tickSize), ask: fromSteps(ask, spec.tickSize), bidSize: lots(), askSize: lots() };
  }
}

export interface SimulatedFeedOptions extends SimulatedMarketOptions {
  /** Records per second (default 20). */
  readonly ratePerS?: number | undefined;
  readonly clockUs?: ClockUs | undefined;
  readonly source?: string | undefined;
}

/** How often the feed's timer runs; each run emits the records due since the last. */
const simulatedTickMs = 50;
/** At most this many records per timer run, whatever the rate (a stalled event loop does not cause a burst). */
const simulatedBurstMax = 10_000;

export class SimulatedFeed implements Feed {
  readonly source: string;
  private readonly market: SimulatedMarket;
  private readonly ratePerS: number;
  private readonly clockUs: ClockUs;
  private timer: NodeJS.Timeout | null = null;
  private state: FeedState = "idle";
  private messages = 0;
  private owed = 0;

  constructor(options: SimulatedFeedOptions) {
    this.source = options.source ?? "simulated";
    this.market = new SimulatedMarket(options);
    this.ratePerS = options.ratePerS ?? 20;
    if (!(this.ratePerS > 0)) throw new RangeError("ratePerS must be positive");
    this.clockUs = options.clockUs ?? systemClockUs;
  }

  start(sink: FeedSink): Promise<void> {
    this.state = "connected";
    this.timer = setInterval(() => {
      this.owed = Math.min(simulatedBurstMax, this.owed + (this.ratePerS * simulatedTickMs) / 1000);
      const now = this.clockUs();
      while (this.owed >= 1) {
        this.owed -= 1;
        this.messages += 1;
        sink.record(this.market.next(now));
      }
    }, simulatedTickMs);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.state = "stopped";
    return Promise.resolve();
  }

  status(): FeedStatus {
    return { source: this.source, state: this.state, reconnects: 0, messages: this.messages, lastError: null };
  }
}
