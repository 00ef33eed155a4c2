/** Accounts: the caller's accounts, summaries, balances and positions. */
import type { FastifyInstance } from "fastify";
import { can, mayReadAccount } from "../access.ts";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { balanceDto, positionDto } from "../format.ts";
import { accountIdParams, anyObject, errorResponse } from "../schemas.ts";

const errors = { 401: errorResponse, 403: errorResponse, 404: errorResponse, 429: errorResponse };

export function registerAccountRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { deps, orderService } = context;

  const readable = (principal: Parameters<typeof mayReadAccount>[0], accountId: number): void => {
    if (!mayReadAccount(principal, accountId) || deps.orders.account(accountId) === undefined) throw new ApiError("unknown_account", `No account ${String(accountId)} you may see.`);
  };

  const summary = (accountId: number): Record<string, unknown> => {
    const account = deps.orders.account(accountId);
    if (account === undefined) throw new ApiError("unknown_account");
    return {
      accountId,
      firmId: account.firmId,
      selfTradePrevention: account.stpMode,
      openOrders: account.openOrders,
      openOrdersMax: account.openOrdersMax,
      ordersPerSecondMax: account.ordersPerSecondMax,
      killSwitch: account.killSwitch,
      balances: deps.orders.balances(accountId).map(balanceDto),
      positions: deps.orders.positions(accountId).flatMap((position) => {
        const spec = deps.market.instrument(position.instrumentId);
        return spec === undefined ? [] : [positionDto(position, spec)];
      }),
    };
  };

  app.get(
    "/api/v1/accounts",
    { schema: { tags: ["accounts"], summary: "Accounts you may see (your own; every account for staff roles)", response: { 200: anyObject, ...errors } } },
    async (request) => {
      const principal = context.principal(request);
      const ids = can(principal, "read_all_accounts") ? deps.orders.accounts().map((account) => account.accountId) : principal.accountIds.filter((accountId) => deps.orders.account(accountId) !== undefined);
      return { items: ids.map(summary) };
    },
  );

  app.get<{ Params: { accountId: number } }>(
    "/api/v1/accounts/:accountId",
    { schema: { tags: ["accounts"], summary: "Account summary: balances, positions, open orders, kill switch", params: accountIdParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      readable(context.principal(request), request.params.accountId);
      return summary(request.params.accountId);
    },
  );

  app.get<{ Params: { accountId: number } }>(
    "/api/v1/accounts/:accountId/balances",
    { schema: { tags: ["accounts"], summary: "Cash balances per currency (balance, reserved, available)", params: accountIdParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      readable(context.principal(request), request.params.accountId);
      return { items: deps.orders.balances(request.params.accountId).map(balanceDto) };
    },
  );

  app.get<{ Params: { accountId: number } }>(
    "/api/v1/accounts/:accountId/positions",
    { schema: { tags: ["accounts"], summary: "Positions per instrument (position, reserved, available)", params: accountIdParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      readable(context.principal(request), request.params.accountId);
      return { items: deps.orders.positions(request.params.accountId).map((position) => positionDto(position, orderService.instrumentOf({ instrumentId: position.instrumentId }))) };
    },
  );
}
