/**
 * Command builders with sensible defaults, for tests, simulations, benchmarks
 * and the demo market. A builder fills every field so a test states only what
 * it is about.
 */
import type { CreateAccount, CreateInstrument, PlaceOrder } from "@tradestream/contracts";

export const demoInstrument: CreateInstrument = {
  type: "CreateInstrument",
  tsUs: 0,
  instrumentId: 1,
  symbol: "ACME",
  isin: "DE000ACME001",
  mic: "XETR",
  currency: "EUR",
  tickSize: "0.01",
  lotSize: "1",
  tickValueMinor: 1,
  referencePriceTicks: 10_000,
  priceBandBps: 1_000,
  circuitBandBps: 500,
  maxOrderQtyLots: 1_000_000,
  maxOrderNotionalMinor: 100_000_000_000,
  makerFeeBps: 0,
  takerFeeBps: 0,
};

export function instrument(overrides: Partial<Omit<CreateInstrument, "type">> = {}): CreateInstrument {
  return { ...demoInstrument, ...overrides };
}

export function account(accountId: number, overrides: Partial<Omit<CreateAccount, "type" | "accountId">> = {}): CreateAccount {
  return {
    type: "CreateAccount",
    tsUs: 0,
    accountId,
    firmId: 1,
    stpMode: "cancel_newest",
    openOrdersMax: 10_000,
    ordersPerSecondMax: 100_000,
    ...overrides,
  };
}

let clientOrderCounter = 0;

/** A GTC limit order; `clientOrderId` defaults to a fresh one per call. */
export function limit(
  accountId: number,
  side: "buy" | "sell",
  priceTicks: number,
  qtyLots: number,
  overrides: Partial<Omit<PlaceOrder, "type">> = {},
): PlaceOrder {
  clientOrderCounter += 1;
  return {
    type: "PlaceOrder",
    tsUs: 0,
    accountId,
    instrumentId: 1,
    clientOrderId: `c${clientOrderCounter}`,
    side,
    orderType: "limit",
    tif: "GTC",
    priceTicks,
    stopPriceTicks: 0,
    qtyLots,
    displayQtyLots: 0,
    postOnly: false,
    sessionId: 0,
    ...overrides,
  };
}

export function market(accountId: number, side: "buy" | "sell", qtyLots: number, overrides: Partial<Omit<PlaceOrder, "type">> = {}): PlaceOrder {
  return limit(accountId, side, 0, qtyLots, { orderType: "market", tif: "IOC", ...overrides });
}
