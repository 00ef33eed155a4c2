/**
 * The order ticket's rules, checked before anything is sent: the same grid,
 * shape, size, collar and funds checks the engine makes, computed exactly on
 * decimal strings (scaled bigints), so the notional, fee and cash shown are the
 * engine's to the cent. The API stays the judge: a rejection it returns is
 * shown with its code (`rejectionMessage`).
 */
import { add, basisPoints, cmp, type Dec, formatDec, isMultipleOf, mul, parseDec, stepsOf, truncate } from "./decimal.ts";
import type { Instrument, OrderType, Side, TimeInForce, TradingState } from "./types.ts";

export interface TicketDraft {
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly price: string;
  readonly stopPrice: string;
  readonly quantity: string;
  /** Iceberg peak; "" = show the whole quantity. */
  readonly displayQuantity: string;
  readonly postOnly: boolean;
}

export const emptyDraft: TicketDraft = { side: "buy", type: "limit", timeInForce: "GTC", price: "", stopPrice: "", quantity: "", displayQuantity: "", postOnly: false };

export interface TicketMarket {
  readonly instrument: Instrument;
  readonly state: TradingState;
  readonly referencePrice: string;
  readonly bestBid: string | null;
  readonly bestAsk: string | null;
  /** Cash available in the instrument's currency; null when unknown. */
  readonly availableCash: string | null;
  /** Shares available to sell; null when unknown. */
  readonly availablePosition: string | null;
}

export type TicketField = "price" | "stopPrice" | "quantity" | "displayQuantity" | "timeInForce" | "postOnly";

export interface TicketCheck {
  /** Problems by field; the ticket cannot be sent while any exists. */
  readonly errors: Partial<Record<TicketField, string>>;
  /** A problem with the whole order (halted instrument, funds, limits). */
  readonly blocking: string | null;
  /** Price × quantity in the instrument's currency; estimated for market and stop orders. */
  readonly notional: string | null;
  readonly notionalEstimated: boolean;
  /** The larger of maker and taker fee on the notional (what the engine reserves), rounded down. */
  readonly fee: string | null;
  /** Notional plus fee: the cash a buy reserves. */
  readonly total: string | null;
  readonly ok: boolean;
}

/** Minor-unit digits per currency (ISO 4217), as the platform uses them. */
const currencyExponents: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3 };

export function currencyDecimals(currency: string): number {
  return currencyExponents[currency] ?? 2;
}

const persistent = (tif: TimeInForce): boolean => tif === "GTC" || tif === "DAY";
export const hasLimitPrice = (type: OrderType): boolean => type === "limit" || type === "stop_limit";
export const hasStopPrice = (type: OrderType): boolean => type === "stop" || type === "stop_limit";

/** The time-in-force values an order type accepts (market: now or never; stops wait). */
export function allowedTifs(type: OrderType): readonly TimeInForce[] {
  switch (type) {
    case "limit":
      return ["GTC", "DAY", "IOC", "FOK"];
    case "market":
      return ["IOC", "FOK"];
    case "stop":
    case "stop_limit":
      return ["GTC", "DAY"];
  }
}

/** Keeps the draft consistent when its type changes (a market order cannot be GTC, a stop cannot be IOC). */
export function withType(draft: TicketDraft, type: OrderType): TicketDraft {
  const tifs = allowedTifs(type);
  const timeInForce = tifs.includes(draft.timeInForce) ? draft.timeInForce : (tifs[0] ?? "GTC");
  return { ...draft, type, timeInForce, postOnly: type === "limit" ? draft.postOnly : false, displayQuantity: type === "limit" ? draft.displayQuantity : "" };
}

function gridValue(text: string, step: string, name: string, unit: string): { value: Dec } | { error: string } {
  if (text.trim() === "") return { error: `Enter a ${name}.` };
  const value = parseDec(text);
  if (value === null) return { error: `${name[0]?.toUpperCase() ?? ""}${name.slice(1)} must be a number such as ${unit === "tick" ? "229.50" : "10"}.` };
  if (value.units <= 0n) return { error: `${name[0]?.toUpperCase() ?? ""}${name.slice(1)} must be positive.` };
  const grid = parseDec(step);
  if (grid === null || !isMultipleOf(value, grid)) return { error: `${name[0]?.toUpperCase() ?? ""}${name.slice(1)} must be a multiple of the ${unit} size ${step}.` };
  return { value };
}

/** The collar in the engine's terms: reference ± floor(reference ticks × band / 10 000) ticks. */
export function collar(instrument: Instrument, referencePrice: string): { low: string; high: string } | null {
  const tick = parseDec(instrument.tickSize);
  const ref = parseDec(referencePrice);
  if (tick === null || ref === null) return null;
  const refTicks = stepsOf(ref, tick);
  if (refTicks === null) return null;
  const band = (refTicks * BigInt(instrument.priceBandBps)) / 10_000n;
  const lowTicks = refTicks - band < 1n ? 1n : refTicks - band;
  const highTicks = refTicks + band;
  return { low: formatDec(mul({ units: lowTicks, scale: 0 }, tick), tick.scale), high: formatDec(mul({ units: highTicks, scale: 0 }, tick), tick.scale) };
}

export function checkTicket(draft: TicketDraft, market: TicketMarket): TicketCheck {
  const { instrument } = market;
  const errors: Partial<Record<TicketField, string>> = {};
  const decimals = currencyDecimals(instrument.currency);

  const quantity = gridValue(draft.quantity, instrument.lotSize, "quantity", "lot");
  if ("error" in quantity) errors.quantity = quantity.error;
  else {
    const max = parseDec(instrument.maxOrderQuantity);
    if (max !== null && cmp(quantity.value, max) > 0) errors.quantity = `At most ${instrument.maxOrderQuantity} per order (max_quantity_exceeded).`;
  }

  let price: Dec | null = null;
  if (hasLimitPrice(draft.type)) {
    const parsed = gridValue(draft.price, instrument.tickSize, "price", "tick");
    if ("error" in parsed) errors.price = parsed.error;
    else {
      price = parsed.value;
      const band = collar(instrument, market.referencePrice);
      const low = band === null ? null : parseDec(band.low);
      const high = band === null ? null : parseDec(band.high);
      if (band !== null && low !== null && high !== null && (cmp(price, low) < 0 || cmp(price, high) > 0)) {
        errors.price = `Outside the collar ${band.low}–${band.high} around the reference price ${market.referencePrice} (price_outside_collar).`;
      }
    }
  }
  let stopPrice: Dec | null = null;
  if (hasStopPrice(draft.type)) {
    const parsed = gridValue(draft.stopPrice, instrument.tickSize, "stop price", "tick");
    if ("error" in parsed) errors.stopPrice = parsed.error;
    else stopPrice = parsed.value;
  }

  if (!allowedTifs(draft.type).includes(draft.timeInForce)) errors.timeInForce = `A ${draft.type.replace("_", "-")} order takes ${allowedTifs(draft.type).join(" or ")}.`;
  if (draft.postOnly && (draft.type !== "limit" || !persistent(draft.timeInForce))) errors.postOnly = "Post-only applies to GTC or DAY limit orders.";
  if (draft.displayQuantity.trim() !== "") {
    if (draft.type !== "limit" || !persistent(draft.timeInForce)) errors.displayQuantity = "An iceberg is a GTC or DAY limit order.";
    else {
      const display = gridValue(draft.displayQuantity, instrument.lotSize, "display quantity", "lot");
      if ("error" in display) errors.displayQuantity = display.error;
      else if (!("error" in quantity) && cmp(display.value, quantity.value) > 0) errors.displayQuantity = "The display quantity cannot exceed the quantity.";
    }
  }

  // The price the notional is computed at: the limit, else an estimate from the book or the stop.
  let notionalPrice: Dec | null = price;
  let estimated = false;
  if (notionalPrice === null) {
    estimated = true;
    const opposite = draft.side === "buy" ? market.bestAsk : market.bestBid;
    notionalPrice = draft.type === "stop" ? stopPrice : opposite === null ? parseDec(market.referencePrice) : parseDec(opposite);
  }

  let notional: Dec | null = null;
  let fee: Dec | null = null;
  let total: Dec | null = null;
  let blocking: string | null = null;
  if (!("error" in quantity) && notionalPrice !== null) {
    notional = truncate(mul(notionalPrice, quantity.value), decimals);
    const feeBps = draft.postOnly ? instrument.makerFeeBps : Math.max(instrument.makerFeeBps, instrument.takerFeeBps);
    fee = truncate(basisPoints(notional, feeBps), decimals);
    total = add(notional, fee);
    const maxNotional = parseDec(instrument.maxOrderNotional);
    if (maxNotional !== null && cmp(notional, maxNotional) > 0 && !estimated) blocking = `The order's value exceeds the maximum ${instrument.maxOrderNotional} ${instrument.currency} per order (max_notional_exceeded).`;
    if (blocking === null && draft.side === "buy" && !estimated && market.availableCash !== null) {
      const cash = parseDec(market.availableCash);
      if (cash !== null && cmp(total, cash) > 0) blocking = `Not enough available cash: the order needs ${formatDec(total, decimals)} ${instrument.currency}, ${market.availableCash} is available (insufficient_funds).`;
    }
  }
  if (blocking === null && draft.side === "sell" && !("error" in quantity) && market.availablePosition !== null) {
    const shares = parseDec(market.availablePosition);
    if (shares !== null && cmp(quantity.value, shares) > 0) blocking = `Not enough shares available to sell: ${market.availablePosition} (insufficient_position).`;
  }
  if (market.state !== "open") blocking = `Trading in ${instrument.symbol} is ${market.state}: orders are refused until it reopens (instrument_${market.state}).`;

  return {
    errors,
    blocking,
    notional: notional === null ? null : formatDec(notional, decimals),
    notionalEstimated: estimated,
    fee: fee === null ? null : formatDec(fee, decimals),
    total: total === null ? null : formatDec(total, decimals),
    ok: Object.keys(errors).length === 0 && blocking === null,
  };
}

/** The body of POST /api/v1/orders for a checked draft. */
export function orderRequest(draft: TicketDraft, symbol: string, clientOrderId: string, accountId: number | undefined): Record<string, unknown> {
  return {
    symbol,
    side: draft.side,
    type: draft.type,
    timeInForce: draft.timeInForce,
    quantity: draft.quantity.trim(),
    clientOrderId,
    ...(hasLimitPrice(draft.type) ? { price: draft.price.trim() } : {}),
    ...(hasStopPrice(draft.type) ? { stopPrice: draft.stopPrice.trim() } : {}),
    ...(draft.displayQuantity.trim() === "" ? {} : { displayQuantity: draft.displayQuantity.trim() }),
    ...(draft.postOnly ? { postOnly: true } : {}),
    ...(accountId === undefined ? {} : { accountId }),
  };
}

/** What a person reads for an API error code: the server's message, with advice where there is some. */
const advice: Readonly<Record<string, string>> = {
  price_off_tick: "Use a price on the instrument's tick grid.",
  quantity_off_lot: "Use a whole number of lots.",
  price_outside_collar: "The price is too far from the reference price.",
  insufficient_funds: "Not enough available cash; cancel an order or deposit.",
  insufficient_position: "Not enough shares available to sell.",
  instrument_halted: "Trading in this instrument is halted.",
  instrument_closed: "This instrument is closed for trading.",
  kill_switch_active: "Trading is disabled for your account by a kill switch; contact compliance.",
  post_only_would_cross: "The post-only order would have traded; it was not entered.",
  max_quantity_exceeded: "The quantity is above the instrument's maximum per order.",
  max_notional_exceeded: "The order value is above the instrument's maximum per order.",
  open_orders_limit: "Your account has reached its limit of open orders.",
  order_rate_exceeded: "Too many orders per second; slow down.",
  rate_limited: "Too many requests; wait a moment.",
  duplicate_client_order_id: "This order was already sent.",
  market_no_liquidity: "No liquidity within the collar for a market order.",
};

export function rejectionMessage(code: string, message: string): string {
  const hint = advice[code];
  return hint === undefined || hint === message ? `${message} (${code})` : `${hint} ${message} (${code})`;
}
