/** Liveness, readiness, Prometheus metrics and the SRE status page. */
import type { FastifyInstance } from "fastify";
import { requirePermission } from "../access.ts";
import type { GatewayContext } from "../app.ts";
import { anyObject, errorResponse } from "../schemas.ts";

const probe = { auth: "public", limit: "none" } as const;

export function registerOpsRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { deps, metrics } = context;

  app.get("/health", { config: probe, schema: { tags: ["ops"], summary: "Liveness: the process answers", security: [], response: { 200: anyObject } } }, async () => ({ status: "ok" }));

  app.get(
    "/ready",
    { config: probe, schema: { tags: ["ops"], summary: "Readiness: journal replayed, stores reachable", security: [], response: { 200: anyObject, 503: anyObject } } },
    async (_request, reply) => {
      const readiness = await deps.readiness();
      return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? "ready" : "not_ready", checks: readiness.checks });
    },
  );

  app.get("/metrics", { config: probe, schema: { tags: ["ops"], summary: "Prometheus metrics", security: [] } }, async (_request, reply) => {
    metrics.engineQueueDepth.set(deps.trading.inFlight);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get(
    "/api/v1/ops/status",
    { schema: { tags: ["ops"], summary: "Operational status (SRE, admin)", response: { 200: anyObject, 401: errorResponse, 403: errorResponse } } },
    async (request) => {
      requirePermission(context.principal(request), "ops_status");
      return { ...(deps.status?.() ?? {}), wsConnections: context.ws.connectionCount, engineQueueDepth: deps.trading.inFlight };
    },
  );
}
