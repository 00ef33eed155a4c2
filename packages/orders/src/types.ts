/**
 * The order-management read model: each account's orders, fills, balances
 * and positions as the engine's events describe them. Private data: callers
 * scope every query to the accounts a principal may see. Values are integers
 * (ticks, lots, minor units, UTC microseconds). Every record handed out is
 * immutable and never changed afterwards, so a listener may keep it.
 */
import type { CancelReason, OrderType, Side, StpMode, TimeInForce } from "@tradestream/contracts";

export type OrderStatus = "pending_trigger" | "new" | "partially_filled" | "filled" | "cancelled" | "expired";

export interface OrderRecord {
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly clientOrderId: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  /** Limit price; 0 for market and stop orders. */
  readonly priceTicks: number;
  /** Trigger price; 0 unless stop or stop_limit. */
  readonly stopPriceTicks: number;
  /** Total quantity (a replace may change it): always filled + leaves + cancelled + expired. */
  readonly qtyLots: number;
  readonly displayQtyLots: number;
  readonly postOnly: boolean;
  readonly filledQtyLots: number;
  readonly leavesQtyLots: number;
  /** Removed by cancels, self-trade prevention decrements included. */
  readonly cancelledQtyLots: number;
  /** Removed when a DAY order expired at the end of the day. */
  readonly expiredQtyLots: number;
  readonly filledNotionalMinor: number;
  readonly feesMinor: number;
  readonly status: OrderStatus;
  /** Why the order was cancelled; null unless its status is "cancelled". */
  readonly cancelReason: CancelReason | null;
  readonly createdAtUs: number;
  readonly updatedAtUs: number;
}

export interface Fill {
  readonly tradeId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly side: Side;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly notionalMinor: number;
  readonly feeMinor: number;
  readonly liquidity: "maker" | "taker";
  readonly tsUs: number;
}

export interface BalanceRecord {
  readonly accountId: number;
  readonly currency: string;
  readonly balanceMinor: number;
  readonly reservedMinor: number;
  readonly availableMinor: number;
}

export interface PositionRecord {
  readonly accountId: number;
  readonly instrumentId: number;
  readonly positionLots: number;
  readonly reservedLots: number;
  readonly availableLots: number;
}

export interface AccountRecord {
  readonly accountId: number;
  readonly firmId: number;
  readonly stpMode: StpMode;
  readonly openOrdersMax: number;
  readonly ordersPerSecondMax: number;
  /** A kill switch is active on the account or on its firm. */
  readonly killSwitch: boolean;
  readonly openOrders: number;
}

export type AccountUpdate =
  | { readonly kind: "order"; readonly accountId: number; readonly order: OrderRecord }
  | { readonly kind: "fill"; readonly accountId: number; readonly fill: Fill }
  | { readonly kind: "balance"; readonly accountId: number; readonly balance: BalanceRecord }
  | { readonly kind: "position"; readonly accountId: number; readonly position: PositionRecord };

export interface Page<T> {
  readonly items: T[];
  /** Pass back to get the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** The accounts a query may see: a list, or every account (operators). */
export type AccountScope = readonly number[] | "all";

export type OrderStatusFilter = OrderStatus | "open" | "closed";

export interface OrderQuery {
  readonly accounts: AccountScope;
  readonly instrumentId?: number | undefined;
  /** "open" = pending_trigger, new or partially_filled; "closed" = filled, cancelled or expired. */
  readonly status?: OrderStatusFilter | undefined;
  readonly side?: Side | undefined;
  /** 1 to `pageLimitMax`. */
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface FillQuery {
  readonly accounts: AccountScope;
  readonly instrumentId?: number | undefined;
  readonly orderId?: number | undefined;
  /** 1 to `pageLimitMax`. */
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface OrdersOptions {
  /** Finished orders kept (default `terminalOrdersMaxDefault`); the oldest to finish are dropped first. Open orders are always kept. */
  readonly terminalOrdersMax?: number;
  /** Fills kept (default `fillsMaxDefault`); the oldest are dropped first. */
  readonly fillsMax?: number;
  /** Commands a snapshot taken with `snapshotSteps` may stay unfinished before the rest is gathered at once (default `captureCommandsMaxDefault`). */
  readonly captureCommandsMax?: number;
  /** Records a step of `snapshotSteps` reads while it gathers (default 16,384; tests make it small so that commands land mid-gathering). */
  readonly captureRecordsPerStep?: number;
  /** Slots the fills' ring starts with (default 1,024; it doubles as needed). Small values are for tests: the ring then wraps within a short stream. */
  readonly fillSlotsInitial?: number;
  /** Told about an error a listener threw; the projection and the other listeners carry on regardless. */
  readonly onListenerError?: (error: unknown) => void;
}
