/**
 * Payments over HTTP: deposits and withdrawals with a client idempotency key (a
 * retry returns the first result), two-phase withdrawals (the engine's cash is
 * taken first, then paid out or returned), and the provider's signed webhook.
 * A trader moves money on their own accounts; admins on any.
 */
import type { Principal } from "@tradestream/auth";
import { webhookSignatureHeader, type CardVault, type Payment, type PaymentResult, type PaymentsService } from "@tradestream/ledger";
import type { FastifyInstance, FastifyReply } from "fastify";
import { can } from "../access.ts";
import { ApiError, errorBody } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { formatMinor, parseAmount } from "../format.ts";
import { anyObject, decimal, errorResponse, id } from "../schemas.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse, 429: errorResponse };
const paymentBody = {
  type: "object",
  additionalProperties: false,
  required: ["currency", "amount", "idempotencyKey"],
  properties: {
    accountId: id,
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    amount: decimal,
    idempotencyKey: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.:-]+$", description: "Your key for this payment; a retry with the same key returns the first result" },
    cardToken: { type: "string", minLength: 1, maxLength: 100, pattern: "^[A-Za-z0-9_-]+$", description: "Deposits: a card token from POST /api/v1/payments/cards" },
  },
} as const;

interface PaymentInput {
  readonly accountId?: number;
  readonly currency: string;
  readonly amount: string;
  readonly idempotencyKey: string;
  readonly cardToken?: string;
}

export function paymentDto(payment: Payment): Record<string, unknown> {
  return {
    paymentId: payment.paymentId,
    accountId: payment.accountId,
    direction: payment.direction,
    currency: payment.currency,
    amount: formatMinor(Number(payment.amountMinor), payment.currency),
    status: payment.status,
    reason: payment.reason,
    idempotencyKey: payment.idempotencyKey,
    cardToken: payment.cardToken,
    createdAt: new Date(payment.createdAtMs).toISOString(),
    updatedAt: new Date(payment.updatedAtMs).toISOString(),
  };
}

/** The account a principal moves money on: their own (trader) or any (admin). */
function paymentAccount(principal: Principal, requested: number | undefined): number {
  if (can(principal, "manage_accounts")) {
    if (requested === undefined) throw new ApiError("validation_failed", "Name the account with accountId.");
    return requested;
  }
  if (!can(principal, "trade")) throw new ApiError("forbidden");
  if (requested === undefined) {
    const [only, ...more] = principal.accountIds;
    if (only === undefined) throw new ApiError("not_owner", "No trading account is assigned to you.");
    if (more.length > 0) throw new ApiError("validation_failed", "You have several trading accounts: name one with accountId.");
    return only;
  }
  if (!principal.accountIds.includes(requested)) throw new ApiError("not_owner");
  return requested;
}

function answer(reply: FastifyReply, result: PaymentResult): FastifyReply {
  if (result.replayed) void reply.header("idempotent-replay", "true");
  switch (result.code) {
    case "ok":
      return reply.code(result.replayed ? 200 : 201).send({ payment: result.payment === null ? null : paymentDto(result.payment) });
    case "invalid_request":
      return reply.code(400).send(errorBody("validation_failed", result.problem === undefined ? undefined : `The payment request is not valid: ${result.problem}.`));
    case "idempotency_conflict":
    case "over_transaction_limit":
    case "over_daily_limit":
    case "insufficient_funds":
    case "unknown_card": {
      const body = errorBody(result.code);
      return reply.code(new ApiError(result.code).status).send(result.payment === null ? body : { ...body, payment: paymentDto(result.payment) });
    }
  }
}

export function registerPaymentRoutes(app: FastifyInstance, context: GatewayContext, payments: PaymentsService, vault: CardVault | undefined): void {
  if (vault !== undefined) {
    app.post<{ Body: { pan: string } }>(
      "/api/v1/payments/cards",
      {
        schema: {
          tags: ["payments"],
          summary: "Put a card in the vault: returns a token and the last four digits (the card number is never returned or stored elsewhere)",
          body: { type: "object", additionalProperties: false, required: ["pan"], properties: { pan: { type: "string", minLength: 12, maxLength: 23, pattern: "^[0-9 -]+$" } } },
          response: { 201: anyObject, ...errors },
        },
      },
      async (request, reply) => {
        const principal = context.principal(request);
        if (!can(principal, "trade") && !can(principal, "manage_accounts")) throw new ApiError("forbidden");
        const outcome = await vault.tokenize(request.body.pan);
        if (outcome.status === "invalid_pan") throw new ApiError("invalid_card");
        await context.audit(request, "payment.card_added", outcome.card.token, "ok", { lastFour: outcome.card.lastFour, brand: outcome.card.brand });
        return reply.code(201).send(outcome.card);
      },
    );
  }

  const move = (path: "deposits" | "withdrawals", summary: string): void => {
    app.post<{ Body: PaymentInput }>(
      `/api/v1/payments/${path}`,
      { schema: { tags: ["payments"], summary, body: paymentBody, response: { 200: anyObject, 201: anyObject, ...errors } } },
      async (request, reply) => {
        const principal = context.principal(request);
        const accountId = paymentAccount(principal, request.body.accountId);
        const amountMinor = BigInt(parseAmount(request.body.amount, request.body.currency));
        const paymentRequest = { accountId, currency: request.body.currency, amountMinor, idempotencyKey: request.body.idempotencyKey, ...(request.body.cardToken === undefined ? {} : { cardToken: request.body.cardToken }) };
        const result = path === "deposits" ? await payments.deposit(paymentRequest) : await payments.withdraw(paymentRequest);
        await context.audit(request, `payment.${path === "deposits" ? "deposit" : "withdrawal"}`, String(accountId), result.code === "ok" ? "ok" : "error", { code: result.code, paymentId: result.payment?.paymentId, replayed: result.replayed });
        return answer(reply, result);
      },
    );
  };
  move("deposits", "Deposit cash into an account through the payment provider (pending until the provider confirms)");
  move("withdrawals", "Withdraw cash: held from available cash at once, paid out when the provider confirms, returned if it fails");

  app.get<{ Querystring: { accountId?: number; limit: number } }>(
    "/api/v1/payments",
    {
      schema: {
        tags: ["payments"],
        summary: "Payments of an account, newest first",
        querystring: { type: "object", additionalProperties: false, properties: { accountId: id, limit: { type: "integer", minimum: 1, maximum: 500, default: 100 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const principal = context.principal(request);
      const requested = request.query.accountId;
      let accountId: number;
      if (requested !== undefined && (can(principal, "read_ledger") || principal.accountIds.includes(requested))) accountId = requested;
      else if (requested === undefined && principal.accountIds.length === 1 && principal.accountIds[0] !== undefined) accountId = principal.accountIds[0];
      else throw new ApiError(requested === undefined ? "validation_failed" : "not_owner", requested === undefined ? "Name the account with accountId." : undefined);
      return { items: (await payments.list(accountId, request.query.limit)).map(paymentDto) };
    },
  );

  app.get<{ Params: { paymentId: string } }>(
    "/api/v1/payments/:paymentId",
    {
      schema: {
        tags: ["payments"],
        summary: "One payment",
        params: { type: "object", required: ["paymentId"], properties: { paymentId: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const principal = context.principal(request);
      const payment = await payments.get(request.params.paymentId);
      if (payment === null || !(can(principal, "read_ledger") || can(principal, "manage_accounts") || principal.accountIds.includes(payment.accountId))) throw new ApiError("unknown_payment");
      return { payment: paymentDto(payment) };
    },
  );

  app.post(
    "/api/v1/payments/webhook",
    {
      config: { auth: "public" },
      schema: {
        tags: ["payments"],
        summary: "The payment provider's callback (HMAC-signed, timestamped; replays are ignored)",
        security: [],
        body: { type: "object", additionalProperties: true },
        response: { 200: anyObject, 400: errorResponse, 401: errorResponse },
      },
    },
    async (request, reply) => {
      const signature = request.headers[webhookSignatureHeader];
      const outcome = await payments.handleWebhook(request.rawBody, typeof signature === "string" ? signature : undefined);
      switch (outcome.status) {
        case "applied":
        case "duplicate":
        case "ignored":
        case "unknown_payment":
          return reply.code(200).send({ status: outcome.status });
        case "missing_signature":
        case "invalid_signature":
          return reply.code(401).send(errorBody("signature_invalid", "The webhook signature is missing or does not match."));
        case "stale_timestamp":
          return reply.code(401).send(errorBody("signature_stale", "The webhook timestamp is outside the accepted window."));
        case "malformed_signature":
        case "malformed":
          return reply.code(400).send(errorBody("validation_failed", "The webhook is malformed."));
      }
    },
  );
}
