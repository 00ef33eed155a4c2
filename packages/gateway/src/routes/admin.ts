/**
 * Administration by role: instruments (create, bands/limits/fees, halt, resume,
 * close, reference price), accounts (create, deposits, withdrawals), users and
 * group membership, the kill switch, and the audit trail. Every action — allowed
 * or refused — is recorded in the audit trail.
 */
import { groups, isGroup, type Group, type Principal } from "@tradestream/auth";
import { type CommandRejected, type EngineEvent, type TradingState } from "@tradestream/contracts";
import { openOrdersPerAccountMax, ordersPerSecondPerAccountMax } from "@tradestream/engine";
import { tickValueMinor, toSteps } from "@tradestream/kernel";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { requirePermission, type Permission } from "../access.ts";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { currencyDecimals, instrumentDto, isoTime, parseAmount, parsePrice, parseQuantity } from "../format.ts";
import type { CommandInput } from "@tradestream/shard";
import { accountIdParams, anyObject, decimal, errorResponse, id, symbol, symbolParams } from "../schemas.ts";
import { userDto } from "./auth.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse, 429: errorResponse };
const bps = { type: "integer", minimum: 0, maximum: 10_000 } as const;
const currency = { type: "string", pattern: "^[A-Z]{3}$" } as const;
const groupList = { type: "array", maxItems: groups.length, uniqueItems: true, items: { type: "string", enum: [...groups] } } as const;
const accountList = { type: "array", maxItems: 100, uniqueItems: true, items: id } as const;

function rejectionOf(events: readonly EngineEvent[]): CommandRejected | undefined {
  for (const event of events) if (event.type === "CommandRejected") return event;
  return undefined;
}

export function registerAdminRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { deps, orderService } = context;

  /** Checks the permission, auditing a refusal. */
  const allow = async (request: FastifyRequest, permission: Permission, action: string, target: string): Promise<Principal> => {
    const principal = context.principal(request);
    try {
      requirePermission(principal, permission);
    } catch (error) {
      await context.audit(request, action, target, "denied");
      throw error;
    }
    return principal;
  };

  /** Submits an admin command, audits the outcome, maps an engine rejection to its error. */
  const run = async (request: FastifyRequest, action: string, target: string, command: CommandInput): Promise<readonly EngineEvent[]> => {
    const applied = await orderService.submit(command);
    const rejected = rejectionOf(applied.events);
    await context.audit(request, action, target, rejected === undefined ? "ok" : "error", { command: command.type, ...(rejected === undefined ? {} : { reason: rejected.reason }) });
    if (rejected !== undefined) throw new ApiError(rejected.reason);
    return applied.events;
  };

  app.post<{
    Body: { instrumentId?: number; symbol: string; isin: string; mic: string; currency: string; tickSize: string; lotSize: string; referencePrice: string; priceBandBps: number; circuitBandBps: number; maxOrderQuantity: string; maxOrderNotional: string; makerFeeBps: number; takerFeeBps: number };
  }>(
    "/api/v1/admin/instruments",
    {
      schema: {
        tags: ["admin"],
        summary: "Create an instrument (admin)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["symbol", "isin", "mic", "currency", "tickSize", "lotSize", "referencePrice", "priceBandBps", "circuitBandBps", "maxOrderQuantity", "maxOrderNotional", "makerFeeBps", "takerFeeBps"],
          properties: {
            instrumentId: id,
            symbol,
            isin: { type: "string", pattern: "^[A-Z]{2}[A-Z0-9]{9}[0-9]$" },
            mic: { type: "string", pattern: "^[A-Z0-9]{4}$" },
            currency,
            tickSize: decimal,
            lotSize: decimal,
            referencePrice: decimal,
            priceBandBps: bps,
            circuitBandBps: bps,
            maxOrderQuantity: decimal,
            maxOrderNotional: decimal,
            makerFeeBps: bps,
            takerFeeBps: bps,
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      await allow(request, "manage_instruments", "instrument.create", body.symbol);
      if (deps.market.instrument(body.symbol) !== undefined) throw new ApiError("instrument_exists", `Symbol ${body.symbol} is already listed.`);
      const tickValue = tickValueMinor(body.tickSize, body.lotSize, currencyDecimals(body.currency));
      if (tickValue === null) throw new ApiError("invalid_instrument", `tickSize × lotSize must be a whole number of ${body.currency} minor units.`);
      const grid = { symbol: body.symbol, tickSize: body.tickSize, lotSize: body.lotSize };
      const instrumentId = body.instrumentId ?? Math.max(0, ...deps.market.instruments().map((info) => info.instrumentId)) + 1;
      const maxQty = toSteps(body.maxOrderQuantity, body.lotSize);
      if (!maxQty.ok) throw new ApiError("invalid_instrument", "maxOrderQuantity must be on the lot grid.");
      await run(request, "instrument.create", body.symbol, {
        type: "CreateInstrument",
        instrumentId,
        symbol: body.symbol.toUpperCase(),
        isin: body.isin,
        mic: body.mic,
        currency: body.currency,
        tickSize: body.tickSize,
        lotSize: body.lotSize,
        tickValueMinor: tickValue,
        referencePriceTicks: parsePrice(body.referencePrice, grid, "referencePrice"),
        priceBandBps: body.priceBandBps,
        circuitBandBps: body.circuitBandBps,
        maxOrderQtyLots: maxQty.steps,
        maxOrderNotionalMinor: parseAmount(body.maxOrderNotional, body.currency),
        makerFeeBps: body.makerFeeBps,
        takerFeeBps: body.takerFeeBps,
      });
      const created = deps.market.instrument(instrumentId);
      return reply.code(201).send(created === undefined ? { instrumentId } : instrumentDto(created));
    },
  );

  app.patch<{ Params: { symbol: string }; Body: { priceBandBps?: number; circuitBandBps?: number; maxOrderQuantity?: string; maxOrderNotional?: string; makerFeeBps?: number; takerFeeBps?: number } }>(
    "/api/v1/admin/instruments/:symbol",
    {
      schema: {
        tags: ["admin"],
        summary: "Update bands, limits and fees (admin)",
        params: symbolParams,
        body: { type: "object", additionalProperties: false, minProperties: 1, properties: { priceBandBps: bps, circuitBandBps: bps, maxOrderQuantity: decimal, maxOrderNotional: decimal, makerFeeBps: bps, takerFeeBps: bps } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      await allow(request, "manage_instruments", "instrument.update", request.params.symbol);
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      const body = request.body;
      await run(request, "instrument.update", spec.symbol, {
        type: "UpdateInstrument",
        instrumentId: spec.instrumentId,
        priceBandBps: body.priceBandBps ?? spec.priceBandBps,
        circuitBandBps: body.circuitBandBps ?? spec.circuitBandBps,
        maxOrderQtyLots: body.maxOrderQuantity === undefined ? spec.maxOrderQtyLots : parseQuantity(body.maxOrderQuantity, spec, "maxOrderQuantity"),
        maxOrderNotionalMinor: body.maxOrderNotional === undefined ? spec.maxOrderNotionalMinor : parseAmount(body.maxOrderNotional, spec.currency),
        makerFeeBps: body.makerFeeBps ?? spec.makerFeeBps,
        takerFeeBps: body.takerFeeBps ?? spec.takerFeeBps,
      });
      return instrumentDto(orderService.instrumentOf({ instrumentId: spec.instrumentId }));
    },
  );

  const stateRoute = (path: string, state: TradingState, summary: string): void => {
    app.post<{ Params: { symbol: string } }>(
      `/api/v1/admin/instruments/:symbol/${path}`,
      { schema: { tags: ["admin"], summary, params: symbolParams, response: { 200: anyObject, ...errors } } },
      async (request) => {
        await allow(request, "halt", `instrument.${path}`, request.params.symbol);
        const spec = orderService.instrumentOf({ symbol: request.params.symbol });
        await run(request, `instrument.${path}`, spec.symbol, { type: "SetTradingState", instrumentId: spec.instrumentId, state });
        return instrumentDto(orderService.instrumentOf({ instrumentId: spec.instrumentId }));
      },
    );
  };
  stateRoute("halt", "halted", "Halt trading in an instrument (compliance, admin)");
  stateRoute("resume", "open", "Resume trading in an instrument (compliance, admin)");
  stateRoute("close", "closed", "Close an instrument for trading (compliance, admin)");

  app.post<{ Params: { symbol: string }; Body: { price: string } }>(
    "/api/v1/admin/instruments/:symbol/reference-price",
    {
      schema: {
        tags: ["admin"],
        summary: "Set the reference price (collar and circuit breaker) (admin)",
        params: symbolParams,
        body: { type: "object", additionalProperties: false, required: ["price"], properties: { price: decimal } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      await allow(request, "manage_instruments", "instrument.reference_price", request.params.symbol);
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      await run(request, "instrument.reference_price", spec.symbol, { type: "SetReferencePrice", instrumentId: spec.instrumentId, priceTicks: parsePrice(request.body.price, spec) });
      return instrumentDto(orderService.instrumentOf({ instrumentId: spec.instrumentId }));
    },
  );

  app.post<{ Body: { accountId: number; firmId: number; selfTradePrevention?: "none" | "cancel_newest" | "cancel_oldest" | "cancel_both" | "decrement_and_cancel"; openOrdersMax?: number; ordersPerSecondMax?: number } }>(
    "/api/v1/admin/accounts",
    {
      schema: {
        tags: ["admin"],
        summary: "Create a trading account (admin)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["accountId", "firmId"],
          properties: {
            accountId: id,
            firmId: id,
            selfTradePrevention: { type: "string", enum: ["none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement_and_cancel"] },
            openOrdersMax: { type: "integer", minimum: 1, maximum: openOrdersPerAccountMax },
            ordersPerSecondMax: { type: "integer", minimum: 1, maximum: ordersPerSecondPerAccountMax },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      await allow(request, "manage_accounts", "account.create", String(body.accountId));
      await run(request, "account.create", String(body.accountId), {
        type: "CreateAccount",
        accountId: body.accountId,
        firmId: body.firmId,
        stpMode: body.selfTradePrevention ?? "cancel_newest",
        openOrdersMax: body.openOrdersMax ?? 1_000,
        ordersPerSecondMax: body.ordersPerSecondMax ?? 100,
      });
      return reply.code(201).send({ accountId: body.accountId, firmId: body.firmId });
    },
  );

  const movement = (path: "deposits" | "withdrawals", summary: string): void => {
    app.post<{ Params: { accountId: number }; Body: { currency?: string; amount?: string; symbol?: string; quantity?: string } }>(
      `/api/v1/admin/accounts/:accountId/${path}`,
      {
        schema: {
          tags: ["admin"],
          summary,
          description: "Cash: {currency, amount}. Securities: {symbol, quantity}.",
          params: accountIdParams,
          body: {
            type: "object",
            additionalProperties: false,
            oneOf: [
              { required: ["currency", "amount"], not: { anyOf: [{ required: ["symbol"] }, { required: ["quantity"] }] } },
              { required: ["symbol", "quantity"], not: { anyOf: [{ required: ["currency"] }, { required: ["amount"] }] } },
            ],
            properties: { currency, amount: decimal, symbol, quantity: decimal },
          },
          response: { 200: anyObject, ...errors },
        },
      },
      async (request) => {
        const accountId = request.params.accountId;
        const action = `account.${path === "deposits" ? "deposit" : "withdrawal"}`;
        await allow(request, "manage_accounts", action, String(accountId));
        const body = request.body;
        if (body.currency !== undefined && body.amount !== undefined) {
          const amountMinor = parseAmount(body.amount, body.currency);
          await run(request, action, String(accountId), { type: path === "deposits" ? "DepositCash" : "WithdrawCash", accountId, currency: body.currency, amountMinor });
        } else if (body.symbol !== undefined && body.quantity !== undefined) {
          const spec = orderService.instrumentOf({ symbol: body.symbol });
          const qtyLots = parseQuantity(body.quantity, spec);
          await run(request, action, String(accountId), { type: path === "deposits" ? "DepositSecurities" : "WithdrawSecurities", accountId, instrumentId: spec.instrumentId, qtyLots });
        } else {
          throw new ApiError("validation_failed", "Give either currency and amount, or symbol and quantity.");
        }
        return { status: "done", accountId };
      },
    );
  };
  movement("deposits", "Deposit cash or securities into an account (admin)");
  movement("withdrawals", "Withdraw cash or securities from an account (admin); never more than is available");

  app.post<{ Body: { scope: "account" | "firm"; id: number; active: boolean } }>(
    "/api/v1/admin/kill-switch",
    {
      schema: {
        tags: ["admin"],
        summary: "Engage or release the kill switch for an account or a firm (compliance, admin)",
        description: "Engaging cancels the open orders it covers and refuses new ones until released.",
        body: { type: "object", additionalProperties: false, required: ["scope", "id", "active"], properties: { scope: { type: "string", enum: ["account", "firm"] }, id, active: { type: "boolean" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const target = `${request.body.scope}:${String(request.body.id)}`;
      await allow(request, "kill_switch", "kill_switch.set", target);
      const events = await run(request, "kill_switch.set", target, { type: "SetKillSwitch", scope: request.body.scope, id: request.body.id, active: request.body.active });
      return { scope: request.body.scope, id: request.body.id, active: request.body.active, cancelledOrders: events.filter((event) => event.type === "OrderCancelled").length };
    },
  );

  app.post(
    "/api/v1/admin/end-of-day",
    {
      schema: {
        tags: ["admin"],
        summary: "End the trading day now (compliance, admin)",
        description:
          "What the scheduled close (TRADESTREAM_END_OF_DAY) does: every DAY order expires and its reservation is released, and client order ids become free for the next day. Answers with the number of orders that expired.",
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      await allow(request, "halt", "trading_day.end", "*");
      const events = await run(request, "trading_day.end", "*", { type: "EndOfDay" });
      const ended = events.find((event) => event.type === "DayEnded");
      return { expiredOrders: events.filter((event) => event.type === "OrderExpired").length, endedAt: isoTime(ended?.tsUs ?? 0) };
    },
  );

  app.get("/api/v1/admin/users", { schema: { tags: ["admin"], summary: "List users (compliance, auditors, support, admin)", response: { 200: anyObject, ...errors } } }, async (request) => {
    await allow(request, "read_users", "user.list", "*");
    return { items: (await deps.auth.listUsers()).map(userDto) };
  });

  app.post<{ Body: { username: string; password: string; displayName?: string; groups: Group[]; accountIds: number[] } }>(
    "/api/v1/admin/users",
    {
      schema: {
        tags: ["admin"],
        summary: "Create a user (admin)",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["username", "password", "groups", "accountIds"],
          properties: { username: { type: "string", minLength: 2, maxLength: 64 }, password: { type: "string", minLength: 12, maxLength: 1024 }, displayName: { type: "string", minLength: 1, maxLength: 100 }, groups: groupList, accountIds: accountList },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      const principal = await allow(request, "manage_users", "user.create", request.body.username);
      const user = await deps.auth.createUser({ username: request.body.username, password: request.body.password, displayName: request.body.displayName, groups: request.body.groups.filter(isGroup), accountIds: request.body.accountIds }, principal.username);
      await context.audit(request, "user.create", request.body.username, "ok", { groups: user.groups, accountIds: user.accountIds });
      return reply.code(201).send(userDto(user));
    },
  );

  app.patch<{ Params: { userId: number }; Body: { groups?: Group[]; accountIds?: number[]; disabled?: boolean } }>(
    "/api/v1/admin/users/:userId",
    {
      schema: {
        tags: ["admin"],
        summary: "Change a user's groups, trading accounts or disabled flag (admin)",
        params: { type: "object", required: ["userId"], properties: { userId: id } },
        body: { type: "object", additionalProperties: false, minProperties: 1, properties: { groups: groupList, accountIds: accountList, disabled: { type: "boolean" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const principal = await allow(request, "manage_users", "user.update", String(request.params.userId));
      if (request.params.userId === principal.userId && request.body.groups !== undefined && !request.body.groups.includes("fin-compliance-leads")) {
        throw new ApiError("forbidden", "You cannot remove your own admin group; ask another admin.");
      }
      const change = {
        ...(request.body.groups === undefined ? {} : { groups: request.body.groups.filter(isGroup) }),
        ...(request.body.accountIds === undefined ? {} : { accountIds: request.body.accountIds }),
        ...(request.body.disabled === undefined ? {} : { disabled: request.body.disabled }),
      };
      const user = await deps.auth.updateUser(request.params.userId, change, principal.username);
      await context.audit(request, "user.update", user.username, "ok", change);
      return userDto(user);
    },
  );

  app.get<{ Querystring: { limit: number; beforeId?: number; action?: string } }>(
    "/api/v1/admin/audit",
    {
      schema: {
        tags: ["admin"],
        summary: "The audit trail, newest first (compliance, auditors, admin)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 100 }, beforeId: id, action: { type: "string", maxLength: 64, pattern: "^[a-z_.]+$" } },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      await allow(request, "read_audit", "audit.read", "*");
      const items = await deps.auth.audit.list({ limit: request.query.limit, beforeId: request.query.beforeId, action: request.query.action });
      return { items: items.map((item) => ({ ...item, at: new Date(item.atMs).toISOString() })) };
    },
  );

}
