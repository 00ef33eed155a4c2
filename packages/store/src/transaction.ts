/**
 * The transaction plumbing both adapters share. A transaction is a `Sql` bound to
 * one connection between BEGIN and COMMIT; it refuses statements once finished so
 * that a stray promise cannot write outside the transaction it was started in.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type RawResult, type Sql, TransactionAbortedError, isEmpty } from "./sql.ts";

export type Raw = (text: string, params: readonly unknown[] | undefined) => Promise<RawResult>;

interface ActiveTransaction {
  open: boolean;
  readonly sql: Sql;
}

/**
 * Tracks the transaction the current async call chain runs in, per adapter
 * instance, so calls on the outer handle made inside `transaction(fn)` join it.
 */
export class TransactionScope {
  readonly #storage = new AsyncLocalStorage<ActiveTransaction>();
  /** Transactions under way; when none is, the storage is disabled (see `run`). */
  #running = 0;

  /** The open transaction of the current call chain, if any. */
  current(): Sql | null {
    const active = this.#storage.getStore();
    return active !== undefined && active.open ? active.sql : null;
  }

  /**
   * Runs fn between BEGIN and COMMIT on `raw`, which must be a single connection
   * owned by the caller for the whole call. ROLLBACK on throw; a COMMIT that the
   * server turned into a ROLLBACK (fn swallowed a failed statement) throws.
   */
  async run<T>(kind: Sql["kind"], raw: Raw, fn: (tx: Sql) => Promise<T>, isolated = false): Promise<T> {
    const active: ActiveTransaction = { open: true, sql: transactionSql(kind, raw, () => active.open) };
    await raw("BEGIN", undefined);
    let result: T;
    if (!isolated) this.#running += 1;
    try {
      // An isolated fn only uses its tx (TransactionOptions): no context to carry.
      result = await (isolated ? fn(active.sql) : this.#storage.run(active, () => fn(active.sql)));
    } catch (error) {
      active.open = false;
      await rollbackAfter(raw, error);
      throw error;
    } finally {
      if (!isolated) this.#idle();
    }
    active.open = false;
    const commit = await raw("COMMIT", undefined);
    if (commit.command === "ROLLBACK") throw new TransactionAbortedError();
    return result;
  }

  /**
   * Disables the storage once no transaction is under way. While any AsyncLocalStorage is
   * enabled, Node tracks the context of every promise the process creates (promise hooks:
   * ≈ 2.5 % of the gateway's CPU, and an object per promise), and an enabled one stays so
   * until disabled. The next `run` enables it again; a transaction that ended has no
   * context left to lose (it refuses statements once finished).
   */
  #idle(): void {
    this.#running -= 1;
    if (this.#running === 0) this.#storage.disable();
  }
}

function transactionSql(kind: Sql["kind"], raw: Raw, isOpen: () => boolean): Sql {
  const tx: Sql = {
    kind,
    async query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
      if (!isOpen()) throw new Error("This transaction has already finished; run the statement on the store itself.");
      const result = await raw(text, isEmpty(params) ? undefined : params);
      return result.rows as R[];
    },
    transaction<T>(fn: (inner: Sql) => Promise<T>): Promise<T> {
      if (!isOpen()) return Promise.reject(new Error("This transaction has already finished."));
      return fn(tx);
    },
    close(): Promise<void> {
      return Promise.reject(new Error("Close the store, not a transaction."));
    },
  };
  return tx;
}

async function rollbackAfter(raw: Raw, cause: unknown): Promise<void> {
  try {
    await raw("ROLLBACK", undefined);
  } catch (rollbackError) {
    // Report both: the caller needs the original failure, the adapter must drop the connection.
    throw new AggregateError([cause, rollbackError], "ROLLBACK failed after an error in the transaction");
  }
}
