/**
 * The one catalogue of named outcomes. Every business rejection the engine can
 * produce, and every error the API edge can return, has a stable code here with a
 * message a person understands and the HTTP status the gateway answers with.
 * Codes are part of the public contract: never rename one, only add.
 */
export const rejectCatalogue = {
  // Reference data
  unknown_instrument: { status: 404, message: "No such instrument." },
  unknown_account: { status: 404, message: "No such account." },
  unknown_order: { status: 404, message: "No such open order for this account." },
  unknown_session: { status: 404, message: "No such session." },
  instrument_exists: { status: 409, message: "An instrument with this id already exists." },
  account_exists: { status: 409, message: "An account with this id already exists." },
  session_exists: { status: 409, message: "A session with this id is already open." },
  invalid_instrument: { status: 400, message: "The instrument definition is invalid (ids, grids, bands, fees or limits)." },
  invalid_account: { status: 400, message: "The account definition is invalid (ids or limits)." },
  // Order shape
  invalid_order: { status: 400, message: "The order's combination of type, time in force, prices and flags is not valid." },
  invalid_quantity: { status: 400, message: "Quantity must be a positive whole number of lots." },
  invalid_price: { status: 400, message: "Price must be a positive whole number of ticks." },
  price_off_tick: { status: 400, message: "Price is not a multiple of the instrument's tick size." },
  quantity_off_lot: { status: 400, message: "Quantity is not a multiple of the instrument's lot size." },
  invalid_amount: { status: 400, message: "Amount must be a positive whole number of minor units." },
  invalid_currency: { status: 400, message: "Currency must be a three-letter ISO 4217 code." },
  // Trading state
  instrument_halted: { status: 409, message: "Trading in this instrument is halted." },
  instrument_closed: { status: 409, message: "This instrument is closed for trading." },
  kill_switch_active: { status: 403, message: "Trading is disabled for this account or firm by a kill switch." },
  // Pre-trade risk
  max_quantity_exceeded: { status: 422, message: "Order quantity exceeds the instrument's maximum order quantity." },
  max_notional_exceeded: { status: 422, message: "Order value exceeds the instrument's maximum order notional." },
  price_outside_collar: { status: 422, message: "Price is outside the allowed band around the reference price." },
  insufficient_funds: { status: 422, message: "Not enough available cash for this order or withdrawal." },
  insufficient_position: { status: 422, message: "Not enough available position to sell or withdraw." },
  open_orders_limit: { status: 429, message: "The account has reached its maximum number of open orders." },
  order_rate_exceeded: { status: 429, message: "The account is sending orders faster than its allowed rate." },
  balance_limit: { status: 422, message: "The resulting balance would exceed the largest amount the platform holds." },
  // Order lifecycle
  duplicate_client_order_id: { status: 409, message: "This client order id was already used by the account today." },
  post_only_would_cross: { status: 422, message: "A post-only order would have traded on entry." },
  order_not_replaceable: { status: 409, message: "Only resting limit orders can be replaced." },
  replace_qty_below_filled: { status: 422, message: "The new quantity must be greater than the quantity already filled." },
  replace_no_change: { status: 422, message: "The replace request changes neither price nor quantity." },
} as const satisfies Record<string, { status: number; message: string }>;

export type RejectCode = keyof typeof rejectCatalogue;

export const rejectCodes = Object.keys(rejectCatalogue) as RejectCode[];

export function rejectMessage(code: RejectCode): string {
  return rejectCatalogue[code].message;
}

export function rejectStatus(code: RejectCode): number {
  return rejectCatalogue[code].status;
}

/** Why a live order left the book without being filled. */
export type CancelReason =
  | "user_request"
  | "mass_cancel"
  | "ioc_remainder"
  | "fok_not_filled"
  | "market_no_liquidity"
  | "self_trade_prevention"
  | "kill_switch"
  | "session_disconnect"
  | "circuit_breaker"
  | "instrument_halted";
