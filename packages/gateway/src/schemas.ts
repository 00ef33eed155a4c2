/**
 * JSON schemas of the API: they validate requests at the edge (400 with a clear
 * message) and generate the OpenAPI document. Shapes are strict — unknown fields
 * are refused, strings are bounded.
 */
import { placeBatchMax } from "./order-service.ts";

export const decimal = { type: "string", minLength: 1, maxLength: 40, pattern: "^[0-9]+(\\.[0-9]+)?$", description: "A decimal string, e.g. \"101.25\"" } as const;
export const symbol = { type: "string", minLength: 1, maxLength: 16, pattern: "^[A-Za-z0-9._-]+$" } as const;
export const id = { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
export const clientOrderId = { type: "string", minLength: 1, maxLength: 36, pattern: "^[A-Za-z0-9._:-]+$", description: "Your id for the order, unique per account per trading day; a retry with the same id returns the first result" } as const;
export const side = { type: "string", enum: ["buy", "sell"] } as const;
export const orderType = { type: "string", enum: ["limit", "market", "stop", "stop_limit"] } as const;
export const timeInForce = { type: "string", enum: ["GTC", "DAY", "IOC", "FOK"] } as const;
export const limit = { type: "integer", minimum: 1, maximum: 500, default: 100 } as const;
export const cursor = { type: "string", minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9_-]+$" } as const;

export const errorResponse = {
  type: "object",
  description: "Error",
  properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } }, required: ["code", "message"] } },
  required: ["error"],
} as const;

export const anyObject = { type: "object", additionalProperties: true } as const;

export const placeOrderBody = {
  type: "object",
  additionalProperties: false,
  required: ["side", "type", "quantity", "clientOrderId"],
  properties: {
    accountId: { ...id, description: "Trading account; may be omitted when you have exactly one" },
    symbol,
    instrumentId: id,
    side,
    type: orderType,
    timeInForce: { ...timeInForce, description: "Default GTC (IOC for market orders)" },
    price: { ...decimal, description: "Limit price (limit and stop_limit)" },
    stopPrice: { ...decimal, description: "Trigger price (stop and stop_limit), compared with the last trade" },
    quantity: decimal,
    displayQuantity: { ...decimal, description: "Iceberg: the visible part" },
    postOnly: { type: "boolean" },
    clientOrderId,
  },
} as const;

export const placeBatchBody = {
  type: "object",
  additionalProperties: false,
  required: ["orders"],
  properties: {
    orders: {
      type: "array",
      minItems: 1,
      maxItems: placeBatchMax,
      description: `1 to ${String(placeBatchMax)} orders, each with the fields of POST /api/v1/orders`,
      items: placeOrderBody,
    },
  },
} as const;

export const cancelBatchBody = {
  type: "object",
  additionalProperties: false,
  required: ["orderIds"],
  properties: {
    orderIds: { type: "array", minItems: 1, maxItems: placeBatchMax, items: id, description: `1 to ${String(placeBatchMax)} order ids` },
  },
} as const;

export const replaceOrderBody = {
  type: "object",
  additionalProperties: false,
  properties: { price: decimal, quantity: { ...decimal, description: "New total quantity, filled quantity included" } },
} as const;

export const massCancelBody = {
  type: "object",
  additionalProperties: false,
  properties: { accountId: id, symbol },
} as const;

export const orderIdParams = { type: "object", required: ["orderId"], properties: { orderId: id } } as const;
export const symbolParams = { type: "object", required: ["symbol"], properties: { symbol } } as const;
export const accountIdParams = { type: "object", required: ["accountId"], properties: { accountId: id } } as const;

export const listOrdersQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    accountId: id,
    symbol,
    status: { type: "string", enum: ["open", "closed", "pending_trigger", "new", "partially_filled", "filled", "cancelled", "expired"] },
    side,
    limit,
    cursor,
  },
} as const;

export const listFillsQuery = {
  type: "object",
  additionalProperties: false,
  properties: { accountId: id, symbol, orderId: id, limit, cursor },
} as const;
