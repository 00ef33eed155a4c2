export * from "./assert.ts";
export * from "./decimal.ts";
export * from "./random.ts";
export * from "./sequence.ts";
export * from "./listeners.ts";
export * from "./fnv.ts";
export * from "./fifo-map.ts";
