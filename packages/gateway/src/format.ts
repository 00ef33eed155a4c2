/**
 * Decimal strings at the edge. The API speaks "101.25"; inside are ticks, lots
 * and minor units. Conversion is exact: a value off the instrument's grid is
 * rejected with the engine's reason code, never rounded.
 */
import type { InstrumentSpec } from "@tradestream/contracts";
import { formatUnits, fromSteps, parseDecimal, toSteps } from "@tradestream/kernel";
import type { Candle, InstrumentInfo, PublicTrade, Ticker } from "@tradestream/marketdata";
import type { BalanceRecord, Fill, OrderRecord, PositionRecord } from "@tradestream/orders";
import { ApiError } from "./api-error.ts";

/** ISO 4217 minor-unit exponents that differ from 2. */
const currencyExponents: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, HUF: 2, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3 };

export function currencyDecimals(currency: string): number {
  return currencyExponents[currency] ?? 2;
}

export function formatMinor(amountMinor: number, currency: string): string {
  return formatUnits(BigInt(amountMinor), currencyDecimals(currency));
}

/** Minor units from a decimal amount string in a currency ("12.50" EUR → 1250). */
export function parseAmount(text: string, currency: string): number {
  const step = currencyDecimals(currency) === 0 ? "1" : `0.${"0".repeat(currencyDecimals(currency) - 1)}1`;
  const result = toSteps(text, step);
  if (result.ok && result.steps > 0) return result.steps;
  if (!result.ok && result.reason === "not_a_number") throw new ApiError("invalid_decimal", `amount must be a decimal string such as "100.00", got ${JSON.stringify(text)}`);
  throw new ApiError("invalid_amount", `amount must be positive with at most ${String(currencyDecimals(currency))} decimals in ${currency}`);
}

export function parsePrice(text: string, spec: Pick<InstrumentSpec, "tickSize" | "symbol">, field = "price"): number {
  const result = toSteps(text, spec.tickSize);
  if (result.ok) {
    if (result.steps > 0) return result.steps;
    throw new ApiError("invalid_price", `${field} must be positive`);
  }
  switch (result.reason) {
    case "not_a_number":
      throw new ApiError("invalid_decimal", `${field} must be a decimal string such as "101.25", got ${JSON.stringify(text)}`);
    case "off_grid":
      throw new ApiError("price_off_tick", `${field} ${text} is not a multiple of ${spec.symbol}'s tick size ${spec.tickSize}`);
    case "out_of_range":
      throw new ApiError("invalid_price", `${field} ${text} is out of range`);
  }
}

export function parseQuantity(text: string, spec: Pick<InstrumentSpec, "lotSize" | "symbol">, field = "quantity"): number {
  const result = toSteps(text, spec.lotSize);
  if (result.ok) {
    if (result.steps > 0) return result.steps;
    throw new ApiError("invalid_quantity", `${field} must be positive`);
  }
  switch (result.reason) {
    case "not_a_number":
      throw new ApiError("invalid_decimal", `${field} must be a decimal string such as "10", got ${JSON.stringify(text)}`);
    case "off_grid":
      throw new ApiError("quantity_off_lot", `${field} ${text} is not a multiple of ${spec.symbol}'s lot size ${spec.lotSize}`);
    case "out_of_range":
      throw new ApiError("invalid_quantity", `${field} ${text} is out of range`);
  }
}

let lastIsoMs = -1;
let lastIso = "";

/** ISO 8601 UTC of a microsecond timestamp (millisecond precision); the last answer is reused, as bursts share a millisecond. */
export function isoTime(tsUs: number): string {
  const ms = Math.floor(tsUs / 1000);
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

type Grid = Pick<InstrumentSpec, "tickSize" | "lotSize" | "currency" | "symbol" | "tickValueMinor">;

const price = (ticks: number, spec: Grid): string => fromSteps(ticks, spec.tickSize);
const quantity = (lots: number, spec: Grid): string => fromSteps(lots, spec.lotSize);

/** Average price of a set of fills (notional / quantity), truncated to 4 places beyond the tick grid. */
export function averagePrice(notionalMinor: number, qtyLots: number, spec: Grid): string | null {
  if (qtyLots === 0) return null;
  const tick = parseDecimal(spec.tickSize);
  if (tick === null) return null;
  // ticks = notional / (qty × tick value); price = ticks × tick size.
  const extra = 4;
  const scaled = (BigInt(notionalMinor) * tick.units * 10n ** BigInt(extra)) / (BigInt(qtyLots) * BigInt(spec.tickValueMinor));
  return trimZeros(formatUnits(scaled, tick.scale + extra));
}

function trimZeros(text: string): string {
  if (!text.includes(".")) return text;
  const trimmed = text.replace(/0+$/, "");
  return trimmed.endsWith(".") ? trimmed.slice(0, -1) : trimmed;
}

export function orderDto(order: OrderRecord, spec: Grid): Record<string, unknown> {
  const hasPrice = order.orderType === "limit" || order.orderType === "stop_limit";
  const hasStop = order.orderType === "stop" || order.orderType === "stop_limit";
  return {
    orderId: order.orderId,
    clientOrderId: order.clientOrderId,
    accountId: order.accountId,
    symbol: spec.symbol,
    instrumentId: order.instrumentId,
    side: order.side,
    type: order.orderType,
    timeInForce: order.tif,
    price: hasPrice ? price(order.priceTicks, spec) : null,
    stopPrice: hasStop ? price(order.stopPriceTicks, spec) : null,
    quantity: quantity(order.qtyLots, spec),
    displayQuantity: order.displayQtyLots > 0 ? quantity(order.displayQtyLots, spec) : null,
    postOnly: order.postOnly,
    filledQuantity: quantity(order.filledQtyLots, spec),
    leavesQuantity: quantity(order.leavesQtyLots, spec),
    cancelledQuantity: quantity(order.cancelledQtyLots, spec),
    averagePrice: averagePrice(order.filledNotionalMinor, order.filledQtyLots, spec),
    fees: formatMinor(order.feesMinor, spec.currency),
    currency: spec.currency,
    status: order.status,
    cancelReason: order.cancelReason,
    createdAt: isoTime(order.createdAtUs),
    updatedAt: isoTime(order.updatedAtUs),
  };
}

export function fillDto(fill: Fill, spec: Grid): Record<string, unknown> {
  return {
    tradeId: fill.tradeId,
    orderId: fill.orderId,
    accountId: fill.accountId,
    symbol: spec.symbol,
    side: fill.side,
    price: price(fill.priceTicks, spec),
    quantity: quantity(fill.qtyLots, spec),
    notional: formatMinor(fill.notionalMinor, spec.currency),
    fee: formatMinor(fill.feeMinor, spec.currency),
    currency: spec.currency,
    liquidity: fill.liquidity,
    time: isoTime(fill.tsUs),
  };
}

export function balanceDto(balance: BalanceRecord): Record<string, unknown> {
  return {
    currency: balance.currency,
    balance: formatMinor(balance.balanceMinor, balance.currency),
    reserved: formatMinor(balance.reservedMinor, balance.currency),
    available: formatMinor(balance.availableMinor, balance.currency),
  };
}

export function positionDto(position: PositionRecord, spec: Grid): Record<string, unknown> {
  return {
    symbol: spec.symbol,
    instrumentId: position.instrumentId,
    position: quantity(position.positionLots, spec),
    reserved: quantity(position.reservedLots, spec),
    available: quantity(position.availableLots, spec),
  };
}

export function instrumentDto(info: InstrumentInfo): Record<string, unknown> {
  return {
    instrumentId: info.instrumentId,
    symbol: info.symbol,
    isin: info.isin,
    mic: info.mic,
    currency: info.currency,
    tickSize: info.tickSize,
    lotSize: info.lotSize,
    referencePrice: price(info.referencePriceTicks, info),
    lastPrice: info.lastPriceTicks === null ? null : price(info.lastPriceTicks, info),
    priceBandBps: info.priceBandBps,
    circuitBandBps: info.circuitBandBps,
    maxOrderQuantity: quantity(info.maxOrderQtyLots, info),
    maxOrderNotional: formatMinor(info.maxOrderNotionalMinor, info.currency),
    makerFeeBps: info.makerFeeBps,
    takerFeeBps: info.takerFeeBps,
    state: info.state,
  };
}

export function tradeDto(trade: PublicTrade, spec: Grid): Record<string, unknown> {
  return {
    tradeId: trade.tradeId,
    symbol: spec.symbol,
    price: price(trade.priceTicks, spec),
    quantity: quantity(trade.qtyLots, spec),
    takerSide: trade.takerSide,
    time: isoTime(trade.tsUs),
  };
}

export function candleDto(candle: Candle, spec: Grid): Record<string, unknown> {
  return {
    symbol: spec.symbol,
    interval: candle.interval,
    start: isoTime(candle.startUs),
    open: price(candle.open, spec),
    high: price(candle.high, spec),
    low: price(candle.low, spec),
    close: price(candle.close, spec),
    volume: quantity(candle.volumeLots, spec),
    notional: formatMinor(candle.notionalMinor, spec.currency),
    trades: candle.trades,
  };
}

/** change / base in percent with two decimals, exact (integers only), rounded half away from zero. */
function percentOf(change: number, base: number): string {
  const scaled = BigInt(change) * 20_000n / BigInt(base); // hundredths of a percent, doubled for rounding
  const rounded = (scaled + (scaled < 0n ? -1n : 1n)) / 2n;
  return formatUnits(rounded, 2);
}

export function tickerDto(ticker: Ticker, spec: Grid): Record<string, unknown> {
  const maybe = (ticks: number | null): string | null => (ticks === null ? null : price(ticks, spec));
  const last = ticker.lastPriceTicks;
  const base = ticker.previousCloseTicks;
  const change = last !== null && base !== null ? last - base : null;
  return {
    symbol: spec.symbol,
    last: maybe(last),
    open: maybe(ticker.openTicks),
    high: maybe(ticker.highTicks),
    low: maybe(ticker.lowTicks),
    previousClose: maybe(base),
    change: change === null ? null : change < 0 ? `-${price(-change, spec)}` : price(change, spec),
    changePercent: change === null || base === null || base === 0 ? null : percentOf(change, base),
    volume: quantity(ticker.volumeLots, spec),
    notional: formatMinor(ticker.notionalMinor, spec.currency),
    vwap: averagePrice(ticker.notionalMinor, ticker.volumeLots, spec),
    trades: ticker.trades,
    bestBid: maybe(ticker.bestBidTicks),
    bestAsk: maybe(ticker.bestAskTicks),
    referencePrice: price(ticker.referencePriceTicks, spec),
    state: ticker.state,
    time: isoTime(ticker.tsUs),
  };
}
