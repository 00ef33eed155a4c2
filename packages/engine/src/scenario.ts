/**
 * A harness for the engine's scenario tests (test-only; not exported from the
 * package). It stamps every command with its own timestamp from a test clock and,
 * after every command, checks what must hold whatever the scenario: events carry
 * consecutive `seq` numbers continuing the shard's sequence and the command's
 * `tsUs`; a rejected command produces its CommandRejected event and nothing
 * else; the whole-state invariants hold; cash plus fee income and positions
 * change only by accepted deposits and withdrawals. Scenarios then state their
 * own, hand-derived expectations with the small projections below.
 */
import type { Command, CreateInstrument, EngineEvent, EventType, Side } from "@tradestream/contracts";
import { expect } from "vitest";
import { Engine } from "./engine.ts";
import { account, instrument, limit } from "./fixtures.ts";
import { invariantViolations, totalCash, totalPositions } from "./invariants.ts";

export type EventOf<T extends EventType> = Extract<EngineEvent, { type: T }>;

export interface ScenarioOptions {
  /** Overrides of the demo instrument (id 1, EUR, reference 10 000, collar ±10 %, circuit ±5 %, no fees). */
  readonly instrument?: Partial<Omit<CreateInstrument, "type">>;
  /** Trading accounts to create (firm 1, STP cancel_newest unless `stpMode`), each funded. */
  readonly accounts?: readonly number[];
  readonly stpMode?: "none" | "cancel_newest" | "cancel_oldest" | "cancel_both" | "decrement_and_cancel";
  /** Cash deposited into each trading account, in minor units. */
  readonly cashMinor?: number;
  /** Lots of instrument 1 deposited into each trading account. */
  readonly lots?: number;
}

/** Two house accounts that print trades at a chosen price (`tradeAt`) to move the last price. */
export const printSeller = 98;
export const printBuyer = 99;

function addTo<K>(totals: Map<K, number>, key: K, delta: number): void {
  totals.set(key, (totals.get(key) ?? 0) + delta);
}

function sameTotals<K>(actual: Map<K, number>, expected: Map<K, number>): boolean {
  const keys = new Set([...actual.keys(), ...expected.keys()]);
  return [...keys].every((key) => (actual.get(key) ?? 0) === (expected.get(key) ?? 0));
}

export class Scenario {
  readonly engine = new Engine();
  /** The timestamp the next command gets; each command advances it by one microsecond. */
  nowUs = 1_000;
  private lastSeq = 0;
  private readonly cashExpected = new Map<string, number>();
  private readonly positionsExpected = new Map<number, number>();

  static create(options: ScenarioOptions = {}): Scenario {
    const s = new Scenario();
    s.apply(instrument(options.instrument ?? {}));
    const currency = options.instrument?.currency ?? "EUR";
    for (const id of [...(options.accounts ?? [1, 2, 3, 4]), printSeller, printBuyer]) {
      s.apply(account(id, { stpMode: options.stpMode ?? "cancel_newest" }));
      s.apply({ type: "DepositCash", tsUs: 0, accountId: id, currency, amountMinor: options.cashMinor ?? 10_000_000_000 });
      s.apply({ type: "DepositSecurities", tsUs: 0, accountId: id, instrumentId: 1, qtyLots: options.lots ?? 1_000_000 });
    }
    return s;
  }

  /** Applies a command stamped with the test clock and checks the per-command rules. */
  apply(command: Command): EngineEvent[] {
    const stamped: Command = { ...command, tsUs: this.nowUs };
    this.nowUs += 1;
    const events = this.engine.apply(stamped);
    events.forEach((event, i) => {
      expect(event.seq, `seq of event ${i} (${event.type})`).toBe(this.lastSeq + 1 + i);
      expect(event.tsUs, `tsUs of event ${i} (${event.type})`).toBe(stamped.tsUs);
    });
    this.lastSeq += events.length;
    expect(invariantViolations(this.engine)).toEqual([]);
    const rejected = events.some((e) => e.type === "CommandRejected");
    // A rejection changes nothing, so it is the only event its command produces.
    if (rejected) expect(events.map((e) => e.type)).toEqual(["CommandRejected"]);
    if (!rejected) {
      if (stamped.type === "DepositCash" || stamped.type === "CreditCash") addTo(this.cashExpected, stamped.currency, stamped.amountMinor);
      if (stamped.type === "WithdrawCash" || stamped.type === "DebitCash") addTo(this.cashExpected, stamped.currency, -stamped.amountMinor);
      if (stamped.type === "DepositSecurities") addTo(this.positionsExpected, stamped.instrumentId, stamped.qtyLots);
      if (stamped.type === "WithdrawSecurities") addTo(this.positionsExpected, stamped.instrumentId, -stamped.qtyLots);
    }
    expect(sameTotals(totalCash(this.engine), this.cashExpected), "cash + fees conserved").toBe(true);
    expect(sameTotals(totalPositions(this.engine), this.positionsExpected), "positions conserved").toBe(true);
    return events;
  }

  /** Places a GTC limit order (overrides change type, TIF and the rest) and returns its events and order id (0 if rejected). */
  order(
    accountId: number,
    side: Side,
    priceTicks: number,
    qtyLots: number,
    overrides: Parameters<typeof limit>[4] = {},
  ): { events: EngineEvent[]; id: number } {
    const events = this.apply(limit(accountId, side, priceTicks, qtyLots, overrides));
    return { events, id: acceptedId(events) };
  }

  /** Prints one trade at `priceTicks` between the two house accounts, so the last price becomes `priceTicks`. */
  tradeAt(priceTicks: number, qtyLots = 1): EngineEvent[] {
    this.order(printSeller, "sell", priceTicks, qtyLots);
    const events = this.order(printBuyer, "buy", priceTicks, qtyLots).events;
    expect(trades(events)[0]?.slice(0, 2)).toEqual([priceTicks, qtyLots]);
    return events;
  }

  cancel(accountId: number, orderId: number): EngineEvent[] {
    return this.apply({ type: "CancelOrder", tsUs: 0, accountId, orderId });
  }

  replace(accountId: number, orderId: number, priceTicks: number, qtyLots: number): EngineEvent[] {
    return this.apply({ type: "ReplaceOrder", tsUs: 0, accountId, orderId, priceTicks, qtyLots });
  }

  /** Book levels of a side, best first, as [price, displayed qty, order count]. */
  levels(side: Side, instrumentId = 1): Array<[number, number, number]> {
    const book = this.engine.instruments.get(instrumentId)?.book;
    return (book?.levels(side) ?? []).map((l) => [l.price, l.qty, l.count]);
  }

  /** [balance, reserved] of an account's cash in a currency. */
  cash(accountId: number, currency = "EUR"): [number, number] {
    const slot = this.engine.accounts.get(accountId)?.cash.get(currency);
    return [slot?.balance ?? 0, slot?.reserved ?? 0];
  }

  /** [position, reserved] of an account in an instrument, in lots. */
  position(accountId: number, instrumentId = 1): [number, number] {
    const slot = this.engine.accounts.get(accountId)?.positions.get(instrumentId);
    return [slot?.position ?? 0, slot?.reserved ?? 0];
  }

  /** [leaves, filled] of an open order, or null when it is no longer open. */
  open(orderId: number): [number, number] | null {
    const order = this.engine.orders.get(orderId);
    return order === undefined ? null : [order.leaves, order.filled];
  }
}

export function ofType<T extends EventType>(events: readonly EngineEvent[], type: T): Array<EventOf<T>> {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

export function acceptedId(events: readonly EngineEvent[]): number {
  return ofType(events, "OrderAccepted")[0]?.orderId ?? 0;
}

/** The reject code of a rejected command, or null when nothing was rejected. */
export function rejection(events: readonly EngineEvent[]): string | null {
  return ofType(events, "CommandRejected")[0]?.reason ?? null;
}

/** Trades as [price, qty, makerOrderId, takerOrderId]. */
export function trades(events: readonly EngineEvent[]): Array<[number, number, number, number]> {
  return ofType(events, "TradeExecuted").map((t) => [t.priceTicks, t.qtyLots, t.makerOrderId, t.takerOrderId]);
}

/** Cancels as [orderId, cancelledQty, leavesQty, reason]. */
export function cancels(events: readonly EngineEvent[]): Array<[number, number, number, string]> {
  return ofType(events, "OrderCancelled").map((c) => [c.orderId, c.cancelledQtyLots, c.leavesQtyLots, c.reason]);
}

/** Book level events as [side, price, qty, count]. */
export function levelEvents(events: readonly EngineEvent[]): Array<[Side, number, number, number]> {
  return ofType(events, "BookLevelChanged").map((l) => [l.side, l.priceTicks, l.qtyLots, l.orderCount]);
}
