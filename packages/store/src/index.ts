/**
 * The relational store: one `Sql` port with two adapters. PGlite (embedded, the
 * default: nothing to install or run) and a PostgreSQL server (set a database URL).
 * Components own their tables and bring their migrations; see `migrate`.
 */
import { join } from "node:path";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import type { Sql } from "./sql.ts";

export { type Sql, type TransactionOptions, TransactionAbortedError } from "./sql.ts";
export { openPglite, type PgliteOptions } from "./pglite.ts";
export { openPostgres, type PostgresOptions, postgresPoolMaxDefault } from "./postgres.ts";
export { type Migration, migrate } from "./migrate.ts";
export { type TestBackend, testBackends, testDatabaseUrlDefault } from "./testing.ts";

export interface StoreConfig {
  /** A PostgreSQL URL; when set the server adapter is used. */
  readonly databaseUrl?: string | undefined;
  /** Where PGlite keeps its files (under `pglite/`); null keeps everything in memory. */
  readonly dataDir: string | null;
  /** Run PGlite on a worker thread, so that its CPU time is not taken from this thread. */
  readonly pgliteWorker?: boolean | undefined;
}

export function openStore(config: StoreConfig): Promise<Sql> {
  if (config.databaseUrl !== undefined && config.databaseUrl !== "") return openPostgres(config.databaseUrl);
  return openPglite(config.dataDir === null ? null : join(config.dataDir, "pglite"), { worker: config.pgliteWorker === true });
}
