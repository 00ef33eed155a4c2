/** Orders and fills: place, get, list, cancel, replace, mass cancel; the fills blotter. */
import type { OrderStatus } from "@tradestream/orders";
import { InvalidCursorError } from "@tradestream/orders";
import type { Side } from "@tradestream/contracts";
import type { FastifyInstance, FastifyReply } from "fastify";
import { orderScope } from "../access.ts";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { fillDto, orderDto } from "../format.ts";
import { placeBatchMax, type OrderOutcome, type PlaceInput, type ReplaceInput } from "../order-service.ts";
import { anyObject, errorResponse, listFillsQuery, listOrdersQuery, massCancelBody, orderIdParams, cancelBatchBody, placeBatchBody, placeOrderBody, replaceOrderBody } from "../schemas.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse, 429: errorResponse };

function send(reply: FastifyReply, outcome: OrderOutcome): FastifyReply {
  if (outcome.replay) void reply.header("idempotent-replay", "true");
  // A place answer comes with its JSON text already made (the idempotency cache keeps it): sent as is.
  if (outcome.json !== undefined) return reply.code(outcome.status).type("application/json; charset=utf-8").send(outcome.json);
  return reply.code(outcome.status).send(outcome.body);
}

export function registerOrderRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { orderService, deps } = context;

  app.post<{ Body: PlaceInput }>(
    "/api/v1/orders",
    {
      schema: {
        tags: ["orders"],
        summary: "Place an order",
        description:
          "Answers once the order is durable, with the order and the fills it got on entry (201). A retry with the same clientOrderId returns the first answer (200, header idempotent-replay). " +
          "Engine rejections use the catalogue's codes, e.g. price_off_tick, insufficient_funds, price_outside_collar.",
        body: placeOrderBody,
        response: { 200: anyObject, 201: anyObject, ...errors },
      },
    },
    async (request, reply) => send(reply, await orderService.place(context.principal(request), request.body, "rest")),
  );

  app.post<{ Body: { orders: PlaceInput[] } }>(
    "/api/v1/orders/batch",
    {
      schema: {
        tags: ["orders"],
        summary: `Place up to ${String(placeBatchMax)} orders in one request`,
        description:
          "The orders are independent, not atomic: each is placed in the batch's order and gets, in results[i], the status and body placing it alone would have got " +
          "(201 with its fills, a rejection with its error code, 200 for an idempotent retry). The answer (200) comes once every order is durable. " +
          "A malformed batch (not 1 to 20 orders, a field that fails the schema) is refused whole with 400 and places nothing. Each order counts against your request rate limit.",
        body: placeBatchBody,
        response: { 200: anyObject, ...errors },
      },
      config: { userCost: (request) => (request.body as { orders?: unknown[] } | undefined)?.orders?.length ?? 1 },
    },
    async (request, reply) => send(reply, await orderService.placeBatch(context.principal(request), request.body.orders, "rest")),
  );

  app.post<{ Body: { orderIds: number[] } }>(
    "/api/v1/orders/cancel-batch",
    {
      schema: {
        tags: ["orders"],
        summary: `Cancel up to ${String(placeBatchMax)} orders in one request`,
        description:
          "Independent, not atomic: results[i] is the status and body DELETE /api/v1/orders/{orderId} would have answered for orderIds[i] (200 with the order, 404 unknown_order…). " +
          "The answer (200) comes once every cancel is durable. A malformed batch is refused whole with 400. Each id counts against your request rate limit.",
        body: cancelBatchBody,
        response: { 200: anyObject, ...errors },
      },
      config: { userCost: (request) => (request.body as { orderIds?: unknown[] } | undefined)?.orderIds?.length ?? 1 },
    },
    async (request, reply) => send(reply, await orderService.cancelBatch(context.principal(request), request.body.orderIds, "rest")),
  );

  app.get<{ Querystring: { accountId?: number; symbol?: string; status?: OrderStatus | "open" | "closed"; side?: Side; limit: number; cursor?: string } }>(
    "/api/v1/orders",
    { schema: { tags: ["orders"], summary: "List orders (newest first, cursor pagination)", querystring: listOrdersQuery, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const principal = context.principal(request);
      const query = request.query;
      const accounts = orderScope(principal, query.accountId);
      const instrumentId = query.symbol === undefined ? undefined : orderService.instrumentOf({ symbol: query.symbol }).instrumentId;
      try {
        const page = deps.orders.listOrders({ accounts, instrumentId, status: query.status, side: query.side, limit: query.limit, cursor: query.cursor });
        return { items: page.items.map((order) => orderDto(order, orderService.instrumentOf({ instrumentId: order.instrumentId }))), nextCursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new ApiError("validation_failed", "The cursor is not valid; start again without it.");
        throw error;
      }
    },
  );

  app.get<{ Params: { orderId: number } }>(
    "/api/v1/orders/:orderId",
    { schema: { tags: ["orders"], summary: "Get an order", params: orderIdParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const order = orderService.visibleOrder(context.principal(request), request.params.orderId);
      return { order: orderDto(order, orderService.instrumentOf({ instrumentId: order.instrumentId })) };
    },
  );

  app.delete<{ Params: { orderId: number } }>(
    "/api/v1/orders/:orderId",
    { schema: { tags: ["orders"], summary: "Cancel an order", params: orderIdParams, response: { 200: anyObject, ...errors } } },
    async (request, reply) => send(reply, await orderService.cancel(context.principal(request), request.params.orderId, "rest")),
  );

  app.patch<{ Params: { orderId: number }; Body: ReplaceInput }>(
    "/api/v1/orders/:orderId",
    {
      schema: {
        tags: ["orders"],
        summary: "Replace (amend) an order",
        description: "A new price or a larger quantity loses time priority; a smaller quantity keeps it.",
        params: orderIdParams,
        body: replaceOrderBody,
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => send(reply, await orderService.replace(context.principal(request), request.params.orderId, request.body, "rest")),
  );

  app.post<{ Body: { accountId?: number; symbol?: string } | undefined }>(
    "/api/v1/orders/mass-cancel",
    {
      schema: {
        tags: ["orders"],
        summary: "Cancel all open orders of an account, optionally in one instrument",
        description: "Traders cancel on their own accounts. Compliance and admin may cancel any account, or every account when accountId is omitted.",
        body: massCancelBody,
        response: { 200: anyObject, ...errors },
      },
    },
    async (request, reply) => send(reply, await orderService.massCancel(context.principal(request), request.body ?? {}, "rest")),
  );

  app.get<{ Querystring: { accountId?: number; symbol?: string; orderId?: number; limit: number; cursor?: string } }>(
    "/api/v1/fills",
    { schema: { tags: ["orders"], summary: "List fills (your trades), newest first", querystring: listFillsQuery, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const principal = context.principal(request);
      const query = request.query;
      const accounts = orderScope(principal, query.accountId);
      const instrumentId = query.symbol === undefined ? undefined : orderService.instrumentOf({ symbol: query.symbol }).instrumentId;
      if (query.orderId !== undefined) orderService.visibleOrder(principal, query.orderId);
      try {
        const page = deps.orders.fills({ accounts, instrumentId, orderId: query.orderId, limit: query.limit, cursor: query.cursor });
        return { items: page.items.map((fill) => fillDto(fill, orderService.instrumentOf({ instrumentId: fill.instrumentId }))), nextCursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw new ApiError("validation_failed", "The cursor is not valid; start again without it.");
        throw error;
      }
    },
  );
}
