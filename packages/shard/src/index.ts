export * from "./clock.ts";
export * from "./shard.ts";
