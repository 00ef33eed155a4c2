/**
 * Test support (not exported from the package): the real engine with the
 * market data projection fed from its events, a settable clock, and the
 * updates the projection emitted per command. Scenarios state their own,
 * hand-derived expectations.
 */
import type { Command, EngineEvent, Side } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { MarketDataProjection } from "./projection.ts";
import type { MarketDataOptions, MarketUpdate } from "./types.ts";

/** 2023-11-14T00:00:00Z: a UTC day boundary (19 675 days after the epoch). */
export const dayStartUs = 19_675 * 86_400_000_000;

export class Market {
  readonly engine = new Engine();
  readonly projection: MarketDataProjection;
  /** Every update emitted, per command. */
  readonly batches: MarketUpdate[][] = [];
  /** Every command's events, as the engine returned them. */
  readonly eventBatches: EngineEvent[][] = [];
  /** The timestamp of the next command; advances by 1 µs per command unless a test sets it. */
  nowUs = dayStartUs + 1;

  constructor(options: MarketDataOptions = {}) {
    this.projection = new MarketDataProjection(options);
    this.projection.onUpdate((update) => this.batches[this.batches.length - 1]?.push(update));
  }

  /** The demo instrument (id 1, ACME, reference 10 000, collar ±10 %, circuit ±5 %) and funded accounts 1–4. */
  static create(options: MarketDataOptions = {}): Market {
    const market = new Market(options);
    market.apply(fixtures.instrument());
    for (const accountId of [1, 2, 3, 4]) {
      market.apply(fixtures.account(accountId));
      market.apply({ type: "DepositCash", tsUs: 0, accountId, currency: "EUR", amountMinor: 10_000_000_000 });
      market.apply({ type: "DepositSecurities", tsUs: 0, accountId, instrumentId: 1, qtyLots: 1_000_000 });
    }
    return market;
  }

  apply(command: Command): EngineEvent[] {
    const events = this.engine.apply({ ...command, tsUs: this.nowUs });
    this.nowUs += 1;
    this.batches.push([]);
    this.eventBatches.push(events);
    this.projection.apply(events);
    return events;
  }

  /** The updates of the last command. */
  get lastUpdates(): MarketUpdate[] {
    return this.batches[this.batches.length - 1] ?? [];
  }

  order(accountId: number, side: Side, priceTicks: number, qtyLots: number, overrides: Parameters<typeof fixtures.limit>[4] = {}): number {
    const events = this.apply(fixtures.limit(accountId, side, priceTicks, qtyLots, overrides));
    const accepted = events.find((e) => e.type === "OrderAccepted");
    if (accepted === undefined) throw new Error(`order not accepted: ${JSON.stringify(events)}`);
    return accepted.orderId;
  }

  cancel(accountId: number, orderId: number): EngineEvent[] {
    return this.apply({ type: "CancelOrder", tsUs: 0, accountId, orderId });
  }

  /** One trade of `qtyLots` at `priceTicks` at `atUs`: account 2 rests a sell 1 µs before, account 1 takes it. */
  print(priceTicks: number, qtyLots: number, atUs: number): void {
    this.nowUs = atUs - 1;
    this.order(2, "sell", priceTicks, qtyLots);
    this.order(1, "buy", priceTicks, qtyLots);
  }
}

/** Book levels as [price, qty, count], best first. */
export function levels(list: ReadonlyArray<{ priceTicks: number; qtyLots: number; orderCount: number }>): Array<[number, number, number]> {
  return list.map((l) => [l.priceTicks, l.qtyLots, l.orderCount]);
}
