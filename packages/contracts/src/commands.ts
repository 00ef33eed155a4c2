/**
 * Commands: imperative requests to a shard's engine, version 1. The sequencer
 * stamps each one with its timestamp (`tsUs`, UTC microseconds) before it is
 * journaled; the engine reads no clock. All values are integers: prices in ticks,
 * quantities in lots, cash in currency minor units. Ids are positive safe integers
 * except where 0 is documented as "none/all".
 */
export const commandVersion = 1;

export type Side = "buy" | "sell";
export type OrderType = "limit" | "market" | "stop" | "stop_limit";
export type TimeInForce = "GTC" | "DAY" | "IOC" | "FOK";
export type TradingState = "open" | "halted" | "closed";
export type StpMode = "none" | "cancel_newest" | "cancel_oldest" | "cancel_both" | "decrement_and_cancel";
export type KillSwitchScope = "account" | "firm";

export interface PlaceOrder {
  readonly type: "PlaceOrder";
  readonly tsUs: number;
  readonly accountId: number;
  readonly instrumentId: number;
  /** Unique per account per trading day; a duplicate is rejected, never re-executed. */
  readonly clientOrderId: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  /** Limit price for limit and stop_limit; 0 for market and stop. */
  readonly priceTicks: number;
  /** Trigger price for stop and stop_limit; 0 otherwise. */
  readonly stopPriceTicks: number;
  readonly qtyLots: number;
  /** Iceberg peak size; 0 shows the whole quantity. */
  readonly displayQtyLots: number;
  readonly postOnly: boolean;
  /** The session that entered the order (cancel-on-disconnect); 0 for none. */
  readonly sessionId: number;
}

export interface CancelOrder {
  readonly type: "CancelOrder";
  readonly tsUs: number;
  readonly accountId: number;
  readonly orderId: number;
}

export interface ReplaceOrder {
  readonly type: "ReplaceOrder";
  readonly tsUs: number;
  readonly accountId: number;
  readonly orderId: number;
  readonly priceTicks: number;
  /** The new total quantity (filled quantity included), as in FIX OrderQty. */
  readonly qtyLots: number;
}

export interface MassCancel {
  readonly type: "MassCancel";
  readonly tsUs: number;
  /** 0 cancels for every account (an operator action). */
  readonly accountId: number;
  /** 0 cancels in every instrument. */
  readonly instrumentId: number;
}

export interface OpenSession {
  readonly type: "OpenSession";
  readonly tsUs: number;
  readonly sessionId: number;
  readonly accountId: number;
  readonly cancelOnDisconnect: boolean;
}

export interface CloseSession {
  readonly type: "CloseSession";
  readonly tsUs: number;
  readonly sessionId: number;
}

export interface InstrumentSpec {
  readonly instrumentId: number;
  readonly symbol: string;
  readonly isin: string;
  readonly mic: string;
  readonly currency: string;
  /** Decimal strings kept for the API edge; the engine works in ticks and lots. */
  readonly tickSize: string;
  readonly lotSize: string;
  /** Cash value in minor units of one tick on one lot (tickSize × lotSize × 10^decimals). */
  readonly tickValueMinor: number;
  readonly referencePriceTicks: number;
  /** Price collar: a limit price may deviate this much from the reference price. */
  readonly priceBandBps: number;
  /** Circuit breaker: a trade may move the price this much from the last trade. */
  readonly circuitBandBps: number;
  readonly maxOrderQtyLots: number;
  readonly maxOrderNotionalMinor: number;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface CreateInstrument extends InstrumentSpec {
  readonly type: "CreateInstrument";
  readonly tsUs: number;
}

export interface UpdateInstrument {
  readonly type: "UpdateInstrument";
  readonly tsUs: number;
  readonly instrumentId: number;
  readonly priceBandBps: number;
  readonly circuitBandBps: number;
  readonly maxOrderQtyLots: number;
  readonly maxOrderNotionalMinor: number;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface SetReferencePrice {
  readonly type: "SetReferencePrice";
  readonly tsUs: number;
  readonly instrumentId: number;
  readonly priceTicks: number;
}

export interface SetTradingState {
  readonly type: "SetTradingState";
  readonly tsUs: number;
  readonly instrumentId: number;
  readonly state: TradingState;
}

export interface CreateAccount {
  readonly type: "CreateAccount";
  readonly tsUs: number;
  readonly accountId: number;
  readonly firmId: number;
  readonly stpMode: StpMode;
  readonly openOrdersMax: number;
  readonly ordersPerSecondMax: number;
}

export interface DepositCash {
  readonly type: "DepositCash";
  readonly tsUs: number;
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: number;
}

export interface WithdrawCash {
  readonly type: "WithdrawCash";
  readonly tsUs: number;
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: number;
}

/**
 * Cash moved for a payment (a settled deposit, a withdrawal's hold, a voided
 * withdrawal's return). Idempotent by `paymentId`: the engine applies each
 * (type, paymentId) once and refuses a repeat with `duplicate_payment`, so the
 * payments service can retry after a crash without moving money twice.
 */
export interface CreditCash {
  readonly type: "CreditCash";
  readonly tsUs: number;
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: number;
  readonly paymentId: string;
}

/** Takes available cash for a payment; idempotent by `paymentId` like `CreditCash`. */
export interface DebitCash {
  readonly type: "DebitCash";
  readonly tsUs: number;
  readonly accountId: number;
  readonly currency: string;
  readonly amountMinor: number;
  readonly paymentId: string;
}

export interface DepositSecurities {
  readonly type: "DepositSecurities";
  readonly tsUs: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly qtyLots: number;
}

export interface WithdrawSecurities {
  readonly type: "WithdrawSecurities";
  readonly tsUs: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly qtyLots: number;
}

export interface SetKillSwitch {
  readonly type: "SetKillSwitch";
  readonly tsUs: number;
  readonly scope: KillSwitchScope;
  /** Account id or firm id, by scope. */
  readonly id: number;
  readonly active: boolean;
}

/** Closes the trading day: DAY orders expire and client order ids may be reused. */
export interface EndOfDay {
  readonly type: "EndOfDay";
  readonly tsUs: number;
}

export type Command =
  | PlaceOrder
  | CancelOrder
  | ReplaceOrder
  | MassCancel
  | OpenSession
  | CloseSession
  | CreateInstrument
  | UpdateInstrument
  | SetReferencePrice
  | SetTradingState
  | CreateAccount
  | DepositCash
  | WithdrawCash
  | DepositSecurities
  | WithdrawSecurities
  | SetKillSwitch
  | EndOfDay
  | CreditCash
  | DebitCash;

export type CommandType = Command["type"];
