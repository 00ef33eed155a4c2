/**
 * The shapes the platform's API answers with (decimal strings for every value).
 * Enumerations and the instrument fields the gateway passes through unchanged
 * come from the platform's contracts (type-only: nothing is bundled); what the
 * gateway turns from integers (ticks, lots, minor units) into decimal strings is
 * declared here.
 */
import type { InstrumentSpec, OrderType, Side, TimeInForce, TradingState } from "@tradestream/contracts";

export type { OrderType, Side, TimeInForce, TradingState };

export type Role = "trader" | "compliance" | "sre" | "auditor" | "support" | "admin";

/** The specification's fields the API answers with as they are (tickSize and lotSize are decimal strings there too). */
type InstrumentSpecFields = "instrumentId" | "symbol" | "isin" | "mic" | "currency" | "tickSize" | "lotSize" | "priceBandBps" | "circuitBandBps" | "makerFeeBps" | "takerFeeBps";

export interface Instrument extends Pick<InstrumentSpec, InstrumentSpecFields> {
  readonly referencePrice: string;
  readonly lastPrice: string | null;
  readonly maxOrderQuantity: string;
  readonly maxOrderNotional: string;
  readonly state: TradingState;
}

export interface Ticker {
  readonly symbol: string;
  readonly last: string | null;
  readonly change?: string | null;
  readonly changePercent?: string | null;
  readonly volume?: string;
  readonly high?: string | null;
  readonly low?: string | null;
  readonly bestBid?: string | null;
  readonly bestAsk?: string | null;
  readonly referencePrice?: string;
  readonly state?: TradingState;
}

export type Level = readonly [price: string, quantity: string, orders: number];

export interface Order {
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly accountId: number;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly price: string | null;
  readonly stopPrice: string | null;
  readonly quantity: string;
  readonly displayQuantity: string | null;
  readonly postOnly: boolean;
  readonly filledQuantity: string;
  readonly leavesQuantity: string;
  readonly averagePrice: string | null;
  readonly fees: string;
  readonly currency: string;
  readonly status: string;
  readonly cancelReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Fill {
  readonly tradeId: number;
  readonly orderId: number;
  readonly accountId: number;
  readonly symbol: string;
  readonly side: Side;
  readonly price: string;
  readonly quantity: string;
  readonly notional: string;
  readonly fee: string;
  readonly currency: string;
  readonly liquidity: string;
  readonly time: string;
}

export interface Balance {
  readonly accountId: number;
  readonly currency: string;
  readonly balance: string;
  readonly reserved: string;
  readonly available: string;
}

export interface Position {
  readonly accountId: number;
  readonly symbol: string;
  readonly instrumentId: number;
  readonly position: string;
  readonly reserved: string;
  readonly available: string;
}

export interface PublicTrade {
  readonly tradeId: number;
  readonly symbol: string;
  readonly price: string;
  readonly quantity: string;
  readonly takerSide: Side;
  readonly time: string;
}

export interface Candle {
  readonly start: string;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
}

export interface User {
  readonly userId: number;
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  readonly accountIds: readonly number[];
  readonly mfaEnrolled: boolean;
  readonly roles: readonly Role[];
}

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}
