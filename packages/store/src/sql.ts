/**
 * The relational-store port. Components talk to a `Sql` and never learn whether
 * it is the embedded PGlite database or a PostgreSQL server: both adapters run the
 * same SQL dialect and decode values the same way.
 *
 * Value decoding, identical on both adapters:
 * - `int8`/`bigint` and `numeric` columns (and arrays of them) come back as decimal
 *   strings, never as JS numbers, so no value above 2^53 is silently rounded;
 *   convert with `BigInt(x)` or `Number(x)` where the range is known.
 * - `int2`/`int4`/`float8` come back as numbers, `bool` as boolean, `json`/`jsonb`
 *   parsed, `timestamptz` as `Date`, `bytea` as `Uint8Array` (a `Buffer` on
 *   PostgreSQL, which is a `Uint8Array`).
 *
 * Statements without parameters use the simple query protocol and may hold several
 * statements (migrations rely on this); statements with parameters hold one.
 */
export interface Sql {
  readonly kind: "pglite" | "postgres";
  /**
   * The operating-system thread (Linux thread id) that runs the database itself inside
   * this process, when one does (embedded PGlite on its worker thread), for its CPU time;
   * null or absent otherwise.
   */
  readonly threadId?: number | null;
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs fn in one transaction (BEGIN/COMMIT, ROLLBACK on throw). Nested calls
   * reuse the outer transaction, and so do calls made on the outer handle from
   * inside fn: on a single-connection database they would otherwise wait for the
   * transaction that is waiting for them.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * fn runs every statement on its `tx` and nothing else it calls uses the outer handle,
   * so nothing needs joining: the transaction does without the async context tracking that
   * joining takes (it costs every promise in the process something while any transaction
   * runs). A call on the outer handle from inside such an fn is not joined: on PGlite it
   * would wait for the transaction, forever. For a hot path that owns its statements.
   */
  readonly isolated?: boolean;
}

/** The result of one raw statement, as each adapter's driver reports it. */
export interface RawResult {
  readonly rows: Record<string, unknown>[];
  readonly command: string | undefined;
}

/** Thrown when COMMIT found the transaction already aborted by an earlier error that fn swallowed. */
export class TransactionAbortedError extends Error {
  constructor() {
    super("The transaction was aborted by an earlier failed statement and has been rolled back.");
    this.name = "TransactionAbortedError";
  }
}

/**
 * Serialises async critical sections in arrival order. PGlite has one connection,
 * so a transaction must own it from BEGIN to COMMIT; every other caller queues here.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export function isEmpty(params: readonly unknown[] | undefined): boolean {
  return params === undefined || params.length === 0;
}
