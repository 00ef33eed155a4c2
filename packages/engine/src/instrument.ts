/**
 * An instrument as the engine holds it: its specification, trading state, the
 * last trade price (which triggers stops and anchors the circuit breaker), its
 * book and its pending stop orders in the order they were accepted.
 */
import type { InstrumentSpec, TradingState } from "@tradestream/contracts";
import type { OrderBook } from "./book.ts";
import type { Order } from "./order.ts";

export class Instrument {
  state: TradingState = "open";
  /** 0 until the first trade. */
  lastPriceTicks = 0;
  referencePriceTicks: number;
  priceBandBps: number;
  circuitBandBps: number;
  maxOrderQtyLots: number;
  maxOrderNotionalMinor: number;
  makerFeeBps: number;
  takerFeeBps: number;
  readonly stops: Order[] = [];
  /** Fees of this instrument's trades not yet folded into the engine's `feesCollected`. */
  feesUnfoldedMinor = 0;
  /** Whether the engine's `feesCollected` has an entry for this instrument's currency. */
  feeCurrencyListed = false;

  constructor(
    readonly spec: InstrumentSpec,
    readonly book: OrderBook,
  ) {
    this.referencePriceTicks = spec.referencePriceTicks;
    this.priceBandBps = spec.priceBandBps;
    this.circuitBandBps = spec.circuitBandBps;
    this.maxOrderQtyLots = spec.maxOrderQtyLots;
    this.maxOrderNotionalMinor = spec.maxOrderNotionalMinor;
    this.makerFeeBps = spec.makerFeeBps;
    this.takerFeeBps = spec.takerFeeBps;
  }

  get id(): number {
    return this.spec.instrumentId;
  }

  get currency(): string {
    return this.spec.currency;
  }

  get tickValueMinor(): number {
    return this.spec.tickValueMinor;
  }

  /** The collar around the reference price, in ticks (floor of ref × band). */
  collarTicks(): number {
    return Math.floor((this.referencePriceTicks * this.priceBandBps) / 10_000);
  }

  /** Highest price a buy may carry; market buys use it as their protection price. */
  collarHigh(): number {
    return this.referencePriceTicks + this.collarTicks();
  }

  /** Lowest price a sell may carry (at least one tick). */
  collarLow(): number {
    return Math.max(1, this.referencePriceTicks - this.collarTicks());
  }

  /**
   * True when a trade at `price` would move the price beyond the circuit band
   * around `anchorTicks`: by default the last trade (the reference price before
   * the first); a fill-or-kill pre-check passes the price its sweep reached.
   */
  breaksCircuit(price: number, anchorTicks = this.lastPriceTicks > 0 ? this.lastPriceTicks : this.referencePriceTicks): boolean {
    const band = Math.floor((anchorTicks * this.circuitBandBps) / 10_000);
    return price > anchorTicks + band || price < anchorTicks - band;
  }
}
