/**
 * The server adapter: a node-postgres pool. A transaction checks one client out
 * of the pool for its whole life; top-level statements take any free client.
 */
import pg from "pg";
import { type RawResult, type Sql, type TransactionOptions, isEmpty } from "./sql.ts";
import { type Raw, TransactionScope } from "./transaction.ts";

/** Default pool size: the store serves a few request handlers per process, not a fleet. */
export const postgresPoolMaxDefault = 10;

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Every connection's search_path; the schema is created if missing. Tests use it to isolate. */
  readonly schema?: string | undefined;
  readonly max?: number | undefined;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Sql> {
  const { schema } = options;
  if (schema !== undefined && !schemaPattern.test(schema)) {
    throw new Error(`Schema name must match ${String(schemaPattern)}.`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? postgresPoolMaxDefault,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client that loses its server emits here; without a listener the process
  // would crash. The next statement on the pool reports the outage instead.
  pool.on("error", () => undefined);
  try {
    if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    else await pool.query("SELECT 1");
  } catch (error) {
    await pool.end();
    throw error;
  }
  return new PostgresSql(pool);
}

class PostgresSql implements Sql {
  readonly kind = "postgres";
  readonly #pool: pg.Pool;
  readonly #scope = new TransactionScope();
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    const tx = this.#scope.current();
    if (tx !== null) return tx.query<R>(text, params);
    const result = await run(this.#pool, text, params);
    return result.rows as R[];
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const tx = this.#scope.current();
    if (tx !== null) return fn(tx);
    const client = await this.#pool.connect();
    // A checked-out client that loses its server emits 'error' between statements;
    // unheard, that would crash the process. The transaction's next statement fails instead.
    const onError = (): void => undefined;
    client.on("error", onError);
    const raw: Raw = (text, params) => run(client, text, params);
    try {
      const result = await this.#scope.run(this.kind, raw, fn, options?.isolated);
      client.off("error", onError);
      client.release();
      return result;
    } catch (error) {
      client.off("error", onError);
      // A failed ROLLBACK leaves the connection in an unknown state: drop it.
      client.release(error instanceof AggregateError ? error : undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

async function run(target: pg.Pool | pg.PoolClient, text: string, params: readonly unknown[] | undefined): Promise<RawResult> {
  // Without values node-postgres uses the simple protocol, which allows several
  // statements and then answers with one result per statement.
  const result: pg.QueryResult | pg.QueryResult[] = isEmpty(params)
    ? await (target.query(text) as Promise<pg.QueryResult | pg.QueryResult[]>)
    : await target.query(text, params === undefined ? [] : [...params]);
  const last = Array.isArray(result) ? result.at(-1) : result;
  return { rows: (last?.rows ?? []) as Record<string, unknown>[], command: last?.command };
}
