/**
 * The embedded adapter: PostgreSQL compiled to WebAssembly, in this process, on a
 * data directory or in memory. It has exactly one connection, so every top-level
 * statement and every transaction passes through one queue; a transaction holds
 * the queue from BEGIN to COMMIT and no other caller's statement can land inside it.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Mutex, type RawResult, type Sql, isEmpty } from "./sql.ts";
import { TransactionScope } from "./transaction.ts";

const int8Oid = 20;
const numericOid = 1700;

// Decode int8 and numeric as decimal strings, as node-postgres does by default
// (PGlite would return a number or a bigint depending on the magnitude).
const parsers = { [int8Oid]: (value: string) => value, [numericOid]: (value: string) => value };

/** Opens the embedded database in `dir` (created if missing), or in memory when `dir` is null. */
export async function openPglite(dir: string | null): Promise<Sql> {
  if (dir !== null) mkdirSync(dir, { recursive: true });
  const db = dir === null ? await PGlite.create({ parsers }) : await PGlite.create({ dataDir: dir, parsers });
  return new PgliteSql(db);
}

/**
 * An empty in-memory database's files, for tests: initialising a cluster takes
 * seconds, loading a copy of one takes a fraction of that.
 */
export async function pgliteTemplate(): Promise<Blob> {
  const db = await PGlite.create({ parsers });
  try {
    return await db.dumpDataDir("none");
  } finally {
    await db.close();
  }
}

/** An in-memory database starting as a copy of `template` (see `pgliteTemplate`). */
export async function openPgliteFromTemplate(template: Blob): Promise<Sql> {
  return new PgliteSql(await PGlite.create({ loadDataDir: template, parsers }));
}

class PgliteSql implements Sql {
  readonly kind = "pglite";
  readonly #db: PGlite;
  readonly #queue = new Mutex();
  readonly #scope = new TransactionScope();
  #closed = false;

  constructor(db: PGlite) {
    this.#db = db;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    const tx = this.#scope.current();
    if (tx !== null) return tx.query<R>(text, params);
    const result = await this.#queue.run(() => this.#raw(text, params));
    return result.rows as R[];
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const tx = this.#scope.current();
    if (tx !== null) return fn(tx);
    return this.#queue.run(() => this.#scope.run(this.kind, (text, params) => this.#raw(text, params), fn));
  }

  close(): Promise<void> {
    // Queued behind running work so that a close never cuts a transaction in half.
    return this.#queue.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#db.close();
    });
  }

  async #raw(text: string, params: readonly unknown[] | undefined): Promise<RawResult> {
    if (this.#closed) throw new Error("The store is closed.");
    if (isEmpty(params)) {
      const results = await this.#db.exec(text);
      const last = results.at(-1);
      return { rows: last?.rows ?? [], command: commandOf(last) };
    }
    const result = await this.#db.query<Record<string, unknown>>(text, params === undefined ? [] : [...params]);
    return { rows: result.rows, command: commandOf(result) };
  }
}

function commandOf(result: object | undefined): string | undefined {
  if (result === undefined || !("command" in result)) return undefined;
  return typeof result.command === "string" ? result.command : undefined;
}
