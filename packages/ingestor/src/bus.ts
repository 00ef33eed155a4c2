/**
 * The market-data bus port: where normalized ticks are published for
 * consumers (the engine's reference prices, candles and tickers, other
 * services). The embedded default is in process; `nats.ts` and `kafka.ts`
 * publish the same ticks to the subject / topic `marketdata.<symbol>`.
 * `publish` never blocks the caller: server adapters batch and send in the
 * background, and report failures through their counters and the log.
 */
import { Listeners } from "@tradestream/kernel";
import type { NormalizedTick } from "./types.ts";

export interface MarketDataBus {
  readonly name: string;
  publish(tick: NormalizedTick): void;
  /** Resolves when everything published so far has been handed to the server (and acknowledged, where it acknowledges). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Ticks published (handed over) and failed so far. */
  readonly published: number;
  readonly failed: number;
}

/** The subject / topic of an instrument's ticks. */
export function marketDataSubject(symbol: string, prefix = "marketdata"): string {
  return `${prefix}.${symbol}`;
}

/** Ticks as JSON on the wire (integers only: ticks, lots, µs). */
export function encodeTick(tick: NormalizedTick): string {
  return JSON.stringify(tick);
}

/** The embedded bus: listeners in this process, called synchronously in publish order. */
export class InProcessBus implements MarketDataBus {
  readonly name = "in-process";
  private readonly listeners: Listeners<NormalizedTick>;
  private count = 0;
  private failures = 0;

  constructor(onListenerError: (error: unknown) => void = () => undefined) {
    // A failing consumer neither stops the others nor the feed: it is counted and reported.
    this.listeners = new Listeners<NormalizedTick>((error) => {
      this.failures += 1;
      onListenerError(error);
    });
  }

  subscribe(listener: (tick: NormalizedTick) => void): () => void {
    return this.listeners.add(listener);
  }

  publish(tick: NormalizedTick): void {
    this.count += 1;
    this.listeners.emit(tick);
  }

  get published(): number {
    return this.count;
  }

  get failed(): number {
    return this.failures;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
