export * from "./clock.ts";
export * from "./shard.ts";
export * from "./event-hash.ts";
export * from "./slices.ts";
export * from "./replayer.ts";
