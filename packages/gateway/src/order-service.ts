/**
 * Order entry shared by REST and WebSocket: authorize, convert decimals to the
 * instrument's grid, submit through the sequencer, and answer only once the
 * command is durable — with the order as it stands and the fills it got on entry.
 * Engine rejections become the catalogue's error; a place is idempotent by
 * (account, clientOrderId).
 */
import type { Principal } from "@tradestream/auth";
import { errorCatalogue, type CommandRejected, type EngineEvent, type OrderType, type Side, type TimeInForce } from "@tradestream/contracts";
import type { InstrumentInfo, MarketDataProjection } from "@tradestream/marketdata";
import { OrdersProjection, type OrderRecord } from "@tradestream/orders";
import { ShardOverloadedError, type Applied, type CommandInput } from "@tradestream/shard";
import { can, mayReadOrdersOf, requirePermission, tradingAccount } from "./access.ts";
import { ApiError, errorBody } from "./api-error.ts";
import { fillDto, orderDto, parsePrice, parseQuantity } from "./format.ts";
import { IdempotencyCache, type PlaceOutcome } from "./idempotency.ts";
import type { GatewayMetrics } from "./metrics.ts";

/** What the gateway needs of the trading core: the sequencer's submit. */
export interface TradingPort {
  submit(command: CommandInput): Promise<Applied>;
  /** Commands waiting for durability (engine queue depth). */
  readonly inFlight: number;
}

export interface PlaceInput {
  readonly accountId?: number | undefined;
  readonly symbol?: string | undefined;
  readonly instrumentId?: number | undefined;
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce?: TimeInForce | undefined;
  readonly price?: string | undefined;
  readonly stopPrice?: string | undefined;
  readonly quantity: string;
  readonly displayQuantity?: string | undefined;
  readonly postOnly?: boolean | undefined;
  readonly clientOrderId: string;
}

export interface ReplaceInput {
  readonly price?: string | undefined;
  readonly quantity?: string | undefined;
}

export type Via = "rest" | "ws";

export interface OrderOutcome {
  readonly status: number;
  readonly body: unknown;
  readonly replay: boolean;
  /** `body` as JSON text when it was made already (place answers, batches): send it as is. */
  readonly json?: string | undefined;
}

/** Most orders one batch may carry (REST `POST /api/v1/orders/batch` and `/cancel-batch`, WebSocket `place_batch` and `cancel_batch`). */
export const placeBatchMax = 20;

/**
 * The batch's answer from each request's settled outcome: a client error (ApiError) is that
 * request's answer; anything else (the journal failed) fails the batch, as it fails one request.
 */
function batchOutcome(settled: ReadonlyArray<PromiseSettledResult<OrderOutcome>>): OrderOutcome {
  const parts: string[] = [];
  for (const result of settled) {
    if (result.status === "rejected") {
      const error: unknown = result.reason;
      if (!(error instanceof ApiError)) throw error;
      parts.push(`{"status":${String(error.status)},"replay":false,"body":${JSON.stringify(errorBody(error.code, error.message))}}`);
      continue;
    }
    const outcome = result.value;
    parts.push(`{"status":${String(outcome.status)},"replay":${String(outcome.replay)},"body":${outcome.json ?? JSON.stringify(outcome.body)}}`);
  }
  // `{"results":[…]}`, each result `{"status","replay","body"}`: what that request alone would have answered.
  return { status: 200, body: null, replay: false, json: `{"results":[${parts.join(",")}]}` };
}

function rejection(events: readonly EngineEvent[]): CommandRejected | undefined {
  for (const event of events) if (event.type === "CommandRejected") return event;
  return undefined;
}

export class OrderService {
  private readonly idempotency = new IdempotencyCache();
  private dayStart = 0;

  constructor(
    private readonly trading: TradingPort,
    private readonly market: MarketDataProjection,
    private readonly orders: OrdersProjection,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** When the current trading day began (the last end of day; 0 before the first): read-model snapshots keep it. */
  get dayStartUs(): number {
    return this.dayStart;
  }

  /** Continues from a read-model snapshot: the day began at `dayStartUs`. */
  resumeDay(dayStartUs: number): void {
    this.dayStart = dayStartUs;
  }

  /** Feed every applied command's events (for end-of-day and trade counts). */
  observe(events: readonly EngineEvent[]): void {
    for (const event of events) {
      if (event.type === "DayEnded") {
        this.idempotency.clear();
        this.dayStart = event.tsUs;
      } else if (event.type === "TradeExecuted") {
        this.metrics.trades.inc();
      }
    }
  }

  instrumentOf(input: { readonly symbol?: string | undefined; readonly instrumentId?: number | undefined }): InstrumentInfo {
    const key = input.instrumentId ?? input.symbol;
    if (key === undefined) throw new ApiError("validation_failed", "Name the instrument with symbol or instrumentId.");
    const info = this.market.instrument(key);
    if (info === undefined) throw new ApiError("unknown_instrument", `No instrument ${String(key)}.`);
    return info;
  }

  async submit(command: CommandInput): Promise<Applied> {
    try {
      return await this.trading.submit(command);
    } catch (error) {
      if (error instanceof ShardOverloadedError) throw new ApiError("overloaded", undefined, 1);
      throw error;
    }
  }

  async place(principal: Principal, input: PlaceInput, via: Via, sessionId = 0): Promise<OrderOutcome> {
    const accountId = tradingAccount(principal, input.accountId);
    const spec = this.instrumentOf(input);
    const limitPriced = input.type === "limit" || input.type === "stop_limit";
    const stopped = input.type === "stop" || input.type === "stop_limit";
    if (limitPriced && input.price === undefined) throw new ApiError("invalid_order", `A ${input.type} order needs a price.`);
    if (!limitPriced && input.price !== undefined) throw new ApiError("invalid_order", `A ${input.type} order takes no price.`);
    if (stopped && input.stopPrice === undefined) throw new ApiError("invalid_order", `A ${input.type} order needs a stopPrice.`);
    if (!stopped && input.stopPrice !== undefined) throw new ApiError("invalid_order", `A ${input.type} order takes no stopPrice.`);
    const command: CommandInput = {
      type: "PlaceOrder",
      accountId,
      instrumentId: spec.instrumentId,
      clientOrderId: input.clientOrderId,
      side: input.side,
      orderType: input.type,
      tif: input.timeInForce ?? (input.type === "market" ? "IOC" : "GTC"),
      priceTicks: input.price === undefined ? 0 : parsePrice(input.price, spec),
      stopPriceTicks: input.stopPrice === undefined ? 0 : parsePrice(input.stopPrice, spec, "stopPrice"),
      qtyLots: parseQuantity(input.quantity, spec),
      displayQtyLots: input.displayQuantity === undefined ? 0 : parseQuantity(input.displayQuantity, spec, "displayQuantity"),
      postOnly: input.postOnly ?? false,
      sessionId,
    };
    const key = IdempotencyCache.key(accountId, input.clientOrderId);
    // An order accepted earlier today but no longer cached: answer with its current state.
    const known = this.orders.orderByClientId(accountId, input.clientOrderId);
    if (known !== undefined && known.createdAtUs >= this.dayStart && !this.idempotency.has(key)) {
      return { status: 200, body: { order: orderDto(known, spec), fills: [] }, replay: true };
    }
    const { outcome, replay } = this.idempotency.run(key, async (): Promise<PlaceOutcome> => {
      const applied = await this.submit(command);
      const rejected = rejection(applied.events);
      if (rejected !== undefined) {
        this.metrics.countOrder("place", rejected.reason, via);
        return { status: errorCatalogue[rejected.reason].status, body: errorBody(rejected.reason) };
      }
      const accepted = applied.events.find((event) => event.type === "OrderAccepted");
      if (accepted === undefined) throw new Error("a place command produced neither an acceptance nor a rejection");
      this.metrics.countOrder("place", "accepted", via);
      const order = this.orders.order(accepted.orderId);
      const fills = OrdersProjection.fillsOf(applied.events, accepted.orderId).map((fill) => fillDto(fill, spec));
      return { status: 201, body: { order: order === undefined ? null : orderDto(order, spec), fills } };
    });
    const result = await outcome;
    return { status: replay && result.status === 201 ? 200 : result.status, body: result.body, replay, json: result.json };
  }

  /**
   * Places up to `placeBatchMax` orders as one request. They are independent, not atomic: each
   * is submitted in the batch's order within one turn of the event loop (so they share one group
   * commit) and gets the answer it would have got alone: 201 with its fills, a rejection with the
   * catalogue's code, or 200 for an idempotent retry. The batch answers once every order is
   * durable. An error that is not the client's (a failure of the journal) fails the whole answer,
   * as it fails a single place.
   */
  async placeBatch(principal: Principal, inputs: readonly PlaceInput[], via: Via, sessionIdOf: (accountId: number | undefined) => number = () => 0): Promise<OrderOutcome> {
    requirePermission(principal, "trade");
    if (inputs.length === 0 || inputs.length > placeBatchMax) throw new ApiError("validation_failed", `A batch carries 1 to ${String(placeBatchMax)} orders.`);
    // Each place runs synchronously up to its submit, so the engine sees the orders in the batch's order.
    return batchOutcome(await Promise.allSettled(inputs.map((input) => this.place(principal, input, via, sessionIdOf(input.accountId)))));
  }

  /** Cancels up to `placeBatchMax` orders as one request, each answered as `cancel` alone would be (see placeBatch). */
  async cancelBatch(principal: Principal, orderIds: readonly number[], via: Via): Promise<OrderOutcome> {
    requirePermission(principal, "trade");
    if (orderIds.length === 0 || orderIds.length > placeBatchMax) throw new ApiError("validation_failed", `A batch carries 1 to ${String(placeBatchMax)} order ids.`);
    return batchOutcome(await Promise.allSettled(orderIds.map((orderId) => this.cancel(principal, orderId, via))));
  }

  /** An order the principal may see, else unknown_order (no hint that it exists). */
  visibleOrder(principal: Principal, orderId: number): OrderRecord {
    const order = this.orders.order(orderId);
    if (order === undefined || !mayReadOrdersOf(principal, order.accountId)) throw new ApiError("unknown_order", `No order ${String(orderId)} on your accounts.`);
    return order;
  }

  private ownOrder(principal: Principal, orderId: number): OrderRecord {
    requirePermission(principal, "trade");
    const order = this.orders.order(orderId);
    if (order === undefined || !principal.accountIds.includes(order.accountId)) throw new ApiError("unknown_order", `No order ${String(orderId)} on your accounts.`);
    return order;
  }

  async cancel(principal: Principal, orderId: number, via: Via): Promise<OrderOutcome> {
    const order = this.ownOrder(principal, orderId);
    const applied = await this.submit({ type: "CancelOrder", accountId: order.accountId, orderId });
    return this.answer(applied, "cancel", via, orderId);
  }

  async replace(principal: Principal, orderId: number, input: ReplaceInput, via: Via): Promise<OrderOutcome> {
    const order = this.ownOrder(principal, orderId);
    if (input.price === undefined && input.quantity === undefined) throw new ApiError("replace_no_change", "Give a new price, a new quantity or both.");
    const spec = this.instrumentOf({ instrumentId: order.instrumentId });
    const applied = await this.submit({
      type: "ReplaceOrder",
      accountId: order.accountId,
      orderId,
      priceTicks: input.price === undefined ? order.priceTicks : parsePrice(input.price, spec),
      qtyLots: input.quantity === undefined ? order.qtyLots : parseQuantity(input.quantity, spec),
    });
    return this.answer(applied, "replace", via, orderId);
  }

  async massCancel(principal: Principal, input: { readonly accountId?: number | undefined; readonly symbol?: string | undefined }, via: Via): Promise<OrderOutcome> {
    const instrumentId = input.symbol === undefined ? 0 : this.instrumentOf({ symbol: input.symbol }).instrumentId;
    let accountIds: readonly number[];
    if (can(principal, "trade") && (input.accountId === undefined || principal.accountIds.includes(input.accountId))) {
      accountIds = input.accountId === undefined ? principal.accountIds : [input.accountId];
    } else {
      // Operators (compliance, admin) may cancel across accounts: one account, or all with no accountId.
      requirePermission(principal, "operator_mass_cancel");
      accountIds = [input.accountId ?? 0];
    }
    if (accountIds.length === 0) throw new ApiError("not_owner", "No trading account is assigned to you.");
    let cancelled = 0;
    for (const accountId of accountIds) {
      const applied = await this.submit({ type: "MassCancel", accountId, instrumentId });
      const rejected = rejection(applied.events);
      if (rejected !== undefined) throw new ApiError(rejected.reason);
      cancelled += applied.events.filter((event) => event.type === "OrderCancelled").length;
    }
    this.metrics.countOrder("mass_cancel", "accepted", via);
    return { status: 200, body: { cancelled }, replay: false };
  }

  private answer(applied: Applied, kind: "cancel" | "replace", via: Via, orderId: number): OrderOutcome {
    const rejected = rejection(applied.events);
    if (rejected !== undefined) {
      this.metrics.countOrder(kind, rejected.reason, via);
      return { status: errorCatalogue[rejected.reason].status, body: errorBody(rejected.reason), replay: false };
    }
    this.metrics.countOrder(kind, "accepted", via);
    const order = this.orders.order(orderId);
    if (order === undefined) return { status: 200, body: { order: null }, replay: false };
    const spec = this.instrumentOf({ instrumentId: order.instrumentId });
    const fills = OrdersProjection.fillsOf(applied.events, orderId).map((fill) => fillDto(fill, spec));
    return { status: 200, body: { order: orderDto(order, spec), fills }, replay: false };
  }
}
