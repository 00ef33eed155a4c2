export * from "./errors.ts";
export * from "./commands.ts";
export * from "./events.ts";
export * from "./codec.ts";
