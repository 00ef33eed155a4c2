/**
 * Test support (not exported from the package): the real engine with the
 * orders projection fed from its events, a test clock, and the updates the
 * projection emitted per command. Scenarios state their own, hand-derived
 * expectations.
 */
import type { Command, CreateInstrument, EngineEvent, Side } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { OrdersProjection } from "./projection.ts";
import type { AccountUpdate, FillQuery, OrderQuery, OrdersOptions, OrderStatusFilter, Page } from "./types.ts";

export interface DeskOptions extends OrdersOptions {
  readonly instrument?: Partial<Omit<CreateInstrument, "type">>;
  /** Accounts 1–4 are created with self-trade prevention cancel_newest in firm 1; these are added, each in its own firm. */
  readonly extraAccounts?: ReadonlyArray<{ readonly accountId: number; readonly stpMode: "none" | "cancel_newest" | "cancel_oldest" | "cancel_both" | "decrement_and_cancel" }>;
}

export class Desk {
  readonly engine = new Engine();
  readonly projection: OrdersProjection;
  readonly batches: AccountUpdate[][] = [];
  readonly eventBatches: EngineEvent[][] = [];
  nowUs = 1_000;

  constructor(options: OrdersOptions = {}) {
    this.projection = new OrdersProjection(options);
    this.projection.onUpdate((update) => this.batches[this.batches.length - 1]?.push(update));
  }

  /** The demo instrument (id 1, EUR, reference 10 000, collar ±10 %, circuit ±5 %) and funded accounts. */
  static create(options: DeskOptions = {}): Desk {
    const desk = new Desk(options);
    desk.apply(fixtures.instrument(options.instrument ?? {}));
    const accounts = [1, 2, 3, 4].map((accountId) => fixtures.account(accountId));
    for (const extra of options.extraAccounts ?? []) accounts.push(fixtures.account(extra.accountId, { firmId: extra.accountId, stpMode: extra.stpMode }));
    for (const account of accounts) {
      desk.apply(account);
      desk.apply({ type: "DepositCash", tsUs: 0, accountId: account.accountId, currency: "EUR", amountMinor: 10_000_000_000 });
      desk.apply({ type: "DepositSecurities", tsUs: 0, accountId: account.accountId, instrumentId: 1, qtyLots: 1_000_000 });
    }
    return desk;
  }

  apply(command: Command): EngineEvent[] {
    const events = this.engine.apply({ ...command, tsUs: this.nowUs });
    this.nowUs += 1;
    this.batches.push([]);
    this.eventBatches.push(events);
    this.projection.apply(events);
    return events;
  }

  get lastUpdates(): AccountUpdate[] {
    return this.batches[this.batches.length - 1] ?? [];
  }

  /** Places an order (a GTC limit unless overridden) and returns its id; throws when it is rejected. */
  order(accountId: number, side: Side, priceTicks: number, qtyLots: number, overrides: Parameters<typeof fixtures.limit>[4] = {}): number {
    const events = this.apply(fixtures.limit(accountId, side, priceTicks, qtyLots, overrides));
    const accepted = events.find((e) => e.type === "OrderAccepted");
    if (accepted === undefined) throw new Error(`order not accepted: ${JSON.stringify(events)}`);
    return accepted.orderId;
  }

  cancel(accountId: number, orderId: number): EngineEvent[] {
    return this.apply({ type: "CancelOrder", tsUs: 0, accountId, orderId });
  }

  replace(accountId: number, orderId: number, priceTicks: number, qtyLots: number): EngineEvent[] {
    return this.apply({ type: "ReplaceOrder", tsUs: 0, accountId, orderId, priceTicks, qtyLots });
  }
}

/** Updates as compact strings: "order 5 filled", "fill 5 taker 4", "balance 1 EUR", "position 2 1". */
export function summary(updates: readonly AccountUpdate[]): string[] {
  return updates.map((u) => {
    switch (u.kind) {
      case "order":
        return `order ${String(u.order.orderId)} ${u.order.status}`;
      case "fill":
        return `fill ${String(u.fill.orderId)} ${u.fill.liquidity} ${String(u.fill.qtyLots)}`;
      case "balance":
        return `balance ${String(u.accountId)} ${u.balance.currency}`;
      case "position":
        return `position ${String(u.accountId)} ${String(u.position.instrumentId)}`;
    }
  });
}

/** What a stream of events named: the ids and client order ids whose answers `answers` collects. */
export interface Known {
  readonly accountIds: ReadonlySet<number>;
  readonly instrumentIds: ReadonlySet<number>;
  readonly orderIds: ReadonlySet<number>;
  /** "accountId clientOrderId". */
  readonly clientOrderIds: ReadonlySet<string>;
}

export function knownFrom(eventBatches: ReadonlyArray<readonly EngineEvent[]>): Known {
  const known = { accountIds: new Set<number>(), instrumentIds: new Set<number>(), orderIds: new Set<number>(), clientOrderIds: new Set<string>() };
  for (const event of eventBatches.flat()) {
    if (event.type === "AccountCreated") known.accountIds.add(event.accountId);
    if (event.type === "InstrumentCreated") known.instrumentIds.add(event.instrumentId);
    if (event.type === "OrderAccepted") {
      known.orderIds.add(event.orderId);
      known.clientOrderIds.add(`${String(event.accountId)} ${event.clientOrderId}`);
    }
  }
  return known;
}

function walk<T>(list: (cursor: string | undefined) => Page<T>): T[] {
  const items: T[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = list(cursor);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    cursor = page.nextCursor;
  }
}

const statusFilters: Array<OrderStatusFilter | undefined> = [undefined, "open", "closed", "pending_trigger", "new", "partially_filled", "filled", "cancelled", "expired"];

/**
 * Every answer a projection gives about what the events named, keyed by the
 * query: order listings walked page by page (each account and all, by
 * instrument, status and side), fill listings (by account, instrument and
 * order), each order by id and by client order id, balances, positions,
 * accounts and the last event seq. Two projections that hold the same state
 * give equal answers.
 */
export function answers(projection: OrdersProjection, known: Known, pageLimit: number): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const scopes: Array<readonly number[] | "all"> = ["all", ...[...known.accountIds].map((accountId) => [accountId])];
  for (const accounts of scopes) {
    const orders = (query: Omit<OrderQuery, "accounts" | "limit" | "cursor">): void => {
      out.set(`listOrders ${JSON.stringify({ accounts, ...query })}`, walk((cursor) => projection.listOrders({ accounts, ...query, limit: pageLimit, cursor })));
    };
    const fills = (query: Omit<FillQuery, "accounts" | "limit" | "cursor">): void => {
      out.set(`fills ${JSON.stringify({ accounts, ...query })}`, walk((cursor) => projection.fills({ accounts, ...query, limit: pageLimit, cursor })));
    };
    for (const status of statusFilters) orders({ status });
    for (const side of ["buy", "sell"] as const) orders({ side });
    orders({ status: "open", side: "sell" });
    fills({});
    for (const instrumentId of known.instrumentIds) {
      orders({ instrumentId });
      orders({ instrumentId, status: "open" });
      orders({ instrumentId, status: "closed", side: "buy" });
      fills({ instrumentId });
    }
    for (const orderId of known.orderIds) fills({ orderId });
  }
  for (const orderId of known.orderIds) out.set(`order ${String(orderId)}`, projection.order(orderId));
  for (const key of known.clientOrderIds) {
    const [accountId = "", ...rest] = key.split(" ");
    out.set(`orderByClientId ${key}`, projection.orderByClientId(Number(accountId), rest.join(" ")));
  }
  for (const accountId of known.accountIds) {
    out.set(`balances ${String(accountId)}`, projection.balances(accountId));
    out.set(`positions ${String(accountId)}`, projection.positions(accountId));
    out.set(`account ${String(accountId)}`, projection.account(accountId));
  }
  out.set("accounts", projection.accounts());
  out.set("lastEventSeq", projection.lastEventSeq);
  return out;
}
