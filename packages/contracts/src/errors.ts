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
  invalid_payment_id: { status: 400, message: "Payment id must be 1 to 64 characters." },
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
  duplicate_payment: { status: 409, message: "This payment was already applied to the account." },
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

/**
 * Errors only the API edge produces (authentication, authorization, validation,
 * limits). They share the shape and the rules of the engine's codes: stable,
 * never renamed, each with a message a person understands and its HTTP status.
 */
export const apiErrorCatalogue = {
  validation_failed: { status: 400, message: "The request is not valid." },
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  invalid_decimal: { status: 400, message: "Prices and quantities must be decimal strings such as \"101.25\"." },
  unauthenticated: { status: 401, message: "Sign in first: this request needs a valid access token, session or API key signature." },
  invalid_credentials: { status: 401, message: "The username or password is wrong." },
  mfa_required: { status: 401, message: "A second factor (TOTP code) is required to finish signing in." },
  invalid_mfa_code: { status: 401, message: "The one-time code is wrong or expired." },
  token_expired: { status: 401, message: "The token has expired; refresh it or sign in again." },
  token_invalid: { status: 401, message: "The token is not valid." },
  refresh_token_reused: { status: 401, message: "This refresh token was already used; every session of its family has been revoked. Sign in again." },
  signature_invalid: { status: 401, message: "The API key signature does not match the request." },
  signature_stale: { status: 401, message: "The signed request's timestamp is too far from the server's clock." },
  nonce_replayed: { status: 401, message: "This signed request was already received (nonce replayed)." },
  account_locked: { status: 423, message: "Too many failed sign-in attempts; try again later." },
  user_disabled: { status: 403, message: "This user is disabled." },
  forbidden: { status: 403, message: "Your role does not allow this action." },
  not_owner: { status: 403, message: "You may act only on the trading accounts assigned to you." },
  mfa_already_enrolled: { status: 409, message: "A second factor is already enrolled for this user." },
  mfa_not_enrolled: { status: 409, message: "No second factor enrolment is pending for this user." },
  sso_not_configured: { status: 404, message: "Single sign-on is not configured on this server." },
  sso_failed: { status: 401, message: "Single sign-on did not complete; start again." },
  user_exists: { status: 409, message: "A user with this name already exists." },
  unknown_user: { status: 404, message: "No such user." },
  unknown_api_key: { status: 404, message: "No such API key." },
  not_found: { status: 404, message: "No such resource." },
  method_not_allowed: { status: 405, message: "This method is not allowed on this resource." },
  body_too_large: { status: 413, message: "The request body is larger than the server accepts." },
  unsupported_media_type: { status: 415, message: "Send the request body as application/json." },
  rate_limited: { status: 429, message: "Too many requests; slow down and retry after the time given in Retry-After." },
  overloaded: { status: 503, message: "The trading engine is busy; retry shortly." },
  not_ready: { status: 503, message: "The service is starting up; retry shortly." },
  idempotency_conflict: { status: 409, message: "This idempotency key was already used for a different request." },
  over_transaction_limit: { status: 422, message: "The amount is above the limit for one payment." },
  over_daily_limit: { status: 422, message: "The amount would exceed today's withdrawal limit." },
  unknown_card: { status: 422, message: "No card with this token is on file." },
  invalid_card: { status: 400, message: "This is not a valid card number." },
  unknown_payment: { status: 404, message: "No such payment on your accounts." },
  feed_not_configured: { status: 404, message: "No external market-data feed runs on this server." },
  internal_error: { status: 500, message: "Something went wrong on the server; the request was not carried out. It has been logged." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof apiErrorCatalogue;

/** Every code a client can see: engine rejections and API-edge errors. */
export type ErrorCode = RejectCode | ApiErrorCode;

export const errorCatalogue: Readonly<Record<ErrorCode, { readonly status: number; readonly message: string }>> = {
  ...rejectCatalogue,
  ...apiErrorCatalogue,
};

export function errorMessage(code: ErrorCode): string {
  return errorCatalogue[code].message;
}

export function errorStatus(code: ErrorCode): number {
  return errorCatalogue[code].status;
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
