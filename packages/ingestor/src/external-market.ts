/**
 * Candles (1s, 1m, 5m, 1h, 1d) and tickers (last, change, high, low, volume,
 * VWAP, best bid/ask) of the external feed. Rather than a second candle and
 * ticker implementation, it runs the platform's own market-data projection on a
 * synthetic event stream of its own: each instrument is "created" once, an
 * external trade becomes a `TradeExecuted`, an external quote moves the top of
 * a one-level book. The platform's own market data is a separate projection
 * and is never touched.
 */
import type { EngineEvent, InstrumentSpec } from "@tradestream/contracts";
import { MarketDataProjection } from "@tradestream/marketdata";
import type { NormalizedTick } from "./types.ts";

interface Top {
  bidTicks: number;
  askTicks: number;
}

export class ExternalMarket {
  readonly projection: MarketDataProjection;
  private seq = 0;
  private tradeId = 0;
  private readonly specs = new Map<number, InstrumentSpec>();
  private readonly tops = new Map<number, Top>();
  private skippedCount = 0;

  constructor(specs: readonly InstrumentSpec[], startUs: number, onListenerError?: (error: unknown) => void) {
    this.projection = new MarketDataProjection(onListenerError === undefined ? {} : { onListenerError });
    const created: EngineEvent[] = specs.map((spec) => ({ type: "InstrumentCreated", seq: (this.seq += 1), tsUs: startUs, ...spec }));
    for (const spec of specs) {
      this.specs.set(spec.instrumentId, spec);
      this.tops.set(spec.instrumentId, { bidTicks: 0, askTicks: 0 });
    }
    this.projection.apply(created);
  }

  /** Ticks whose notional would leave the safe integers (never seen with sane instruments). */
  get skipped(): number {
    return this.skippedCount;
  }

  add(tick: NormalizedTick): void {
    const spec = this.specs.get(tick.instrumentId);
    const top = this.tops.get(tick.instrumentId);
    if (spec === undefined || top === undefined) return;
    if (tick.kind === "trade") {
      const notionalMinor = tick.priceTicks * tick.qtyLots * spec.tickValueMinor;
      if (!Number.isSafeInteger(notionalMinor)) {
        this.skippedCount += 1;
        return;
      }
      this.tradeId += 1;
      this.projection.apply([
        {
          type: "TradeExecuted",
          seq: (this.seq += 1),
          tsUs: tick.tsUs,
          tradeId: this.tradeId,
          instrumentId: tick.instrumentId,
          priceTicks: tick.priceTicks,
          qtyLots: tick.qtyLots,
          notionalMinor,
          takerSide: tick.side ?? "buy",
          makerOrderId: 0,
          takerOrderId: 0,
          makerAccountId: 0,
          takerAccountId: 0,
          makerFeeMinor: 0,
          takerFeeMinor: 0,
        },
      ]);
      return;
    }
    const events: EngineEvent[] = [];
    const level = (side: "buy" | "sell", priceTicks: number, qtyLots: number, orderCount: number): void => {
      events.push({ type: "BookLevelChanged", seq: (this.seq += 1), tsUs: tick.tsUs, instrumentId: tick.instrumentId, side, priceTicks, qtyLots, orderCount });
    };
    if (top.bidTicks !== 0 && top.bidTicks !== tick.bidTicks) level("buy", top.bidTicks, 0, 0);
    if (top.askTicks !== 0 && top.askTicks !== tick.askTicks) level("sell", top.askTicks, 0, 0);
    level("buy", tick.bidTicks, tick.bidLots, 1);
    level("sell", tick.askTicks, tick.askLots, 1);
    top.bidTicks = tick.bidTicks;
    top.askTicks = tick.askTicks;
    this.projection.apply(events);
  }
}
