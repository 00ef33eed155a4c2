import type { PGliteOptions } from "@electric-sql/pglite";

/** How many syncs this thread's durable databases have made so far. */
export function durableSyncCount(): number;
/** PGlite's start parameters with fsync on and the WAL flushed by fsync. */
export function durableStartParams(): string[];
/** The PGlite options that make a database on `dir` durable. */
export function durableOptions(dir: string): Pick<PGliteOptions, "fs" | "startParams">;
