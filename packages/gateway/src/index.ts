export * from "./access.ts";
export * from "./api-error.ts";
export * from "./app.ts";
export * from "./format.ts";
export * from "./metrics.ts";
export * from "./order-service.ts";
export * from "./rate-limit.ts";
export * from "./ws.ts";
export type { LedgerPort } from "./routes/ledger.ts";
