/**
 * Events: what the engine decided, past tense, version 1. Every event carries
 * the shard's event sequence number (`seq`, consecutive from 1) and the
 * timestamp of the command that caused it (`tsUs`). Projections (ledger, market
 * data, surveillance, audit) consume these in order and nothing else.
 */
import type { CancelReason, RejectCode } from "./errors.ts";
import type { CommandType, InstrumentSpec, KillSwitchScope, OrderType, Side, StpMode, TimeInForce, TradingState } from "./commands.ts";

export const eventVersion = 1;

interface EventBase {
  readonly seq: number;
  readonly tsUs: number;
}

export interface OrderAccepted extends EventBase {
  readonly type: "OrderAccepted";
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly clientOrderId: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  readonly priceTicks: number;
  readonly stopPriceTicks: number;
  readonly qtyLots: number;
  readonly displayQtyLots: number;
  readonly postOnly: boolean;
}

export interface CommandRejected extends EventBase {
  readonly type: "CommandRejected";
  readonly command: CommandType;
  readonly reason: RejectCode;
  /** 0 when the command names no account. */
  readonly accountId: number;
  /** The client order id of a rejected PlaceOrder, else "". */
  readonly clientOrderId: string;
  /** The order a rejected cancel/replace named, else 0. */
  readonly orderId: number;
}

export interface TradeExecuted extends EventBase {
  readonly type: "TradeExecuted";
  readonly tradeId: number;
  readonly instrumentId: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  /** Cash value of the trade in minor units (price × qty × tick value). */
  readonly notionalMinor: number;
  readonly takerSide: Side;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerAccountId: number;
  readonly takerAccountId: number;
  readonly makerFeeMinor: number;
  readonly takerFeeMinor: number;
}

export interface OrderCancelled extends EventBase {
  readonly type: "OrderCancelled";
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  /** Quantity removed from the order by this cancel. */
  readonly cancelledQtyLots: number;
  /** Open quantity left: 0 when the order is gone; above 0 after a self-trade decrement. */
  readonly leavesQtyLots: number;
  readonly reason: CancelReason;
}

export interface OrderReplaced extends EventBase {
  readonly type: "OrderReplaced";
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly leavesQtyLots: number;
  readonly priorityKept: boolean;
}

export interface OrderExpired extends EventBase {
  readonly type: "OrderExpired";
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly expiredQtyLots: number;
}

export interface OrderTriggered extends EventBase {
  readonly type: "OrderTriggered";
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly lastPriceTicks: number;
}

export interface InstrumentCreated extends EventBase, InstrumentSpec {
  readonly type: "InstrumentCreated";
}

export interface InstrumentUpdated extends EventBase {
  readonly type: "InstrumentUpdated";
  readonly instrumentId: number;
  readonly priceBandBps: number;
  readonly circuitBandBps: number;
  readonly maxOrderQtyLots: number;
  readonly maxOrderNotionalMinor: number;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface ReferencePriceSet extends EventBase {
  readonly type: "ReferencePriceSet";
  readonly instrumentId: number;
  readonly priceTicks: number;
}

export interface TradingStateChanged extends EventBase {
  readonly type: "TradingStateChanged";
  readonly instrumentId: number;
  readonly state: TradingState;
  readonly reason: "operator" | "circuit_breaker";
}

export interface AccountCreated extends EventBase {
  readonly type: "AccountCreated";
  readonly accountId: number;
  readonly firmId: number;
  readonly stpMode: StpMode;
  readonly openOrdersMax: number;
  readonly ordersPerSecondMax: number;
}

/**
 * Why a balance changed. `deposit` / `withdrawal`: an operator's funding or
 * defunding of the account (DepositCash, WithdrawCash); `payment_in` /
 * `payment_out`: money moved by a payment (CreditCash, DebitCash), which the
 * books settle through payments clearing.
 */
export type BalanceReason = "deposit" | "withdrawal" | "payment_in" | "payment_out" | "trade" | "reserve" | "release";

export interface BalanceChanged extends EventBase {
  readonly type: "BalanceChanged";
  readonly accountId: number;
  readonly currency: string;
  readonly balanceMinor: number;
  readonly reservedMinor: number;
  readonly reason: BalanceReason;
}

export interface PositionChanged extends EventBase {
  readonly type: "PositionChanged";
  readonly accountId: number;
  readonly instrumentId: number;
  readonly positionLots: number;
  readonly reservedLots: number;
  readonly reason: BalanceReason;
}

export interface SessionOpened extends EventBase {
  readonly type: "SessionOpened";
  readonly sessionId: number;
  readonly accountId: number;
  readonly cancelOnDisconnect: boolean;
}

export interface SessionClosed extends EventBase {
  readonly type: "SessionClosed";
  readonly sessionId: number;
}

export interface KillSwitchSet extends EventBase {
  readonly type: "KillSwitchSet";
  readonly scope: KillSwitchScope;
  readonly id: number;
  readonly active: boolean;
}

export interface BookLevelChanged extends EventBase {
  readonly type: "BookLevelChanged";
  readonly instrumentId: number;
  readonly side: Side;
  readonly priceTicks: number;
  /** Displayed quantity at the level (iceberg reserves are hidden); 0 = level gone. */
  readonly qtyLots: number;
  readonly orderCount: number;
}

export interface DayEnded extends EventBase {
  readonly type: "DayEnded";
}

export type EngineEvent =
  | OrderAccepted
  | CommandRejected
  | TradeExecuted
  | OrderCancelled
  | OrderReplaced
  | OrderExpired
  | OrderTriggered
  | InstrumentCreated
  | InstrumentUpdated
  | ReferencePriceSet
  | TradingStateChanged
  | AccountCreated
  | BalanceChanged
  | PositionChanged
  | SessionOpened
  | SessionClosed
  | KillSwitchSet
  | BookLevelChanged
  | DayEnded;

export type EventType = EngineEvent["type"];
