/**
 * @tradestream/orders: the order-management read model (orders, fills,
 * balances, positions, accounts) as a pure projection of the engine's events.
 */
export { InvalidCursorError } from "./cursor.ts";
export { captureCommandsMaxDefault, fillsMaxDefault, isOpenStatus, OrdersProjection, pageLimitMax, terminalOrdersMaxDefault } from "./projection.ts";
export { OrdersSnapshotError, ordersSnapshotVersion } from "./snapshot.ts";
export type {
  AccountRecord,
  AccountScope,
  AccountUpdate,
  BalanceRecord,
  Fill,
  FillQuery,
  OrderQuery,
  OrderRecord,
  OrderStatus,
  OrderStatusFilter,
  OrdersOptions,
  Page,
  PositionRecord,
} from "./types.ts";
