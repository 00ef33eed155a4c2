export * from "./assert.ts";
export * from "./decimal.ts";
