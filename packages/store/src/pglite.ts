/**
 * The embedded adapter: PostgreSQL compiled to WebAssembly, on a data directory or
 * in memory, either in this process or on a worker thread of its own (`worker:
 * true`, what the server uses: the database's CPU time then never delays the
 * gateway or the engine). It has exactly one connection, so every top-level
 * statement and every transaction passes through one queue; a transaction holds
 * the queue from BEGIN to COMMIT and no other caller's statement can land inside it.
 * On a data directory every COMMIT is on disk before it returns (pglite-durable.mjs).
 */
import { mkdirSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { durableOptions } from "./pglite-durable.mjs";
import { Mutex, type RawResult, type Sql, type TransactionOptions, isEmpty } from "./sql.ts";
import { TransactionScope } from "./transaction.ts";

const int8Oid = 20;
const numericOid = 1700;

// Decode int8 and numeric as decimal strings, as node-postgres does by default
// (PGlite would return a number or a bigint depending on the magnitude).
const parsers = { [int8Oid]: (value: string) => value, [numericOid]: (value: string) => value };

export interface PgliteOptions {
  /** Run the database on a worker thread (the statements' CPU time leaves this thread). */
  readonly worker?: boolean;
  /** Start in memory from a copy of these files (see `pgliteTemplate`); only with a null `dir`. */
  readonly template?: Blob;
}

/** Opens the embedded database in `dir` (created if missing), or in memory when `dir` is null. */
export async function openPglite(dir: string | null, options: PgliteOptions = {}): Promise<Sql> {
  if (options.worker === true) return new PgliteSql(await WorkerDatabase.start(dir, options.template ?? null));
  if (dir !== null) mkdirSync(dir, { recursive: true });
  const base = { parsers, ...(options.template === undefined ? {} : { loadDataDir: options.template }) };
  // On a data directory, commits are durable: see pglite-durable.mjs.
  const db = dir === null ? await PGlite.create(base) : await PGlite.create({ ...base, ...durableOptions(dir) });
  return new PgliteSql(new InProcessDatabase(db));
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
export function openPgliteFromTemplate(template: Blob, options: Omit<PgliteOptions, "template"> = {}): Promise<Sql> {
  return openPglite(null, { ...options, template });
}

/** One statement at a time on the single connection: the in-process database or the worker's. */
interface Database {
  /** See `Sql.threadId`. */
  readonly threadId: number | null;
  raw(text: string, params: readonly unknown[] | undefined): Promise<RawResult>;
  close(): Promise<void>;
}

class InProcessDatabase implements Database {
  readonly threadId = null;
  readonly #db: PGlite;

  constructor(db: PGlite) {
    this.#db = db;
  }

  async raw(text: string, params: readonly unknown[] | undefined): Promise<RawResult> {
    if (isEmpty(params)) {
      const results = await this.#db.exec(text);
      const last = results.at(-1);
      return { rows: last?.rows ?? [], command: commandOf(last) };
    }
    const result = await this.#db.query<Record<string, unknown>>(text, params === undefined ? [] : [...params]);
    return { rows: result.rows, command: commandOf(result) };
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}

interface ErrorData {
  readonly message: string;
  readonly name: string;
  readonly fields: Record<string, string | number | boolean>;
}

type Reply = { readonly id: number; readonly ok: true; readonly rows: Record<string, unknown>[]; readonly command: string | undefined } | { readonly id: number; readonly ok: false; readonly error: ErrorData };

/** The database on a worker thread (pglite-worker.mjs): statements go by message, rows and errors come back. */
class WorkerDatabase implements Database {
  readonly #worker: Worker;
  /** The worker's operating-system thread id (Linux), for its CPU time; null elsewhere. */
  readonly threadId: number | null;
  readonly #waiting = new Map<number, { resolve: (result: RawResult) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #failure: Error | null = null;

  private constructor(worker: Worker, threadId: number | null) {
    this.#worker = worker;
    this.threadId = threadId;
    worker.on("message", (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter.resolve({ rows: reply.rows, command: reply.command });
      else waiter.reject(errorOf(reply.error));
    });
    const fail = (error: Error) => {
      this.#failure ??= error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`The database worker exited (code ${String(code)}).`)));
  }

  static start(dir: string | null, template: Blob | null): Promise<WorkerDatabase> {
    const worker = new Worker(new URL("./pglite-worker.mjs", import.meta.url), { workerData: { dir, template } });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      worker.once("error", onError);
      worker.once("message", (message: { type: "ready"; threadId: number | null } | { type: "failed"; error: ErrorData }) => {
        worker.off("error", onError);
        if (message.type === "ready") resolve(new WorkerDatabase(worker, message.threadId));
        else {
          reject(errorOf(message.error));
          void worker.terminate();
        }
      });
    });
  }

  raw(text: string, params: readonly unknown[] | undefined): Promise<RawResult> {
    return this.#send({ type: "query", text, params: isEmpty(params) ? undefined : params });
  }

  async close(): Promise<void> {
    if (this.#failure !== null) return;
    await this.#send({ type: "close" });
    await new Promise<void>((resolve) => {
      this.#worker.once("exit", () => resolve());
    });
  }

  #send(message: { type: "query"; text: string; params: readonly unknown[] | undefined } | { type: "close" }): Promise<RawResult> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, ...message });
    });
  }
}

/** The worker's error as an Error again, with the driver's fields (`code` is the SQLSTATE). */
function errorOf(data: ErrorData): Error {
  const error = new Error(data.message);
  error.name = data.name;
  Object.assign(error, data.fields);
  return error;
}

class PgliteSql implements Sql {
  readonly kind = "pglite";
  readonly #db: Database;
  readonly #queue = new Mutex();
  readonly #scope = new TransactionScope();
  #closed = false;

  constructor(db: Database) {
    this.#db = db;
  }

  get threadId(): number | null {
    return this.#db.threadId;
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    const tx = this.#scope.current();
    if (tx !== null) return tx.query<R>(text, params);
    const result = await this.#queue.run(() => this.#raw(text, params));
    return result.rows as R[];
  }

  transaction<T>(fn: (tx: Sql) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const tx = this.#scope.current();
    if (tx !== null) return fn(tx);
    return this.#queue.run(() => this.#scope.run(this.kind, (text, params) => this.#raw(text, params), fn, options?.isolated));
  }

  close(): Promise<void> {
    // Queued behind running work so that a close never cuts a transaction in half.
    return this.#queue.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#db.close();
    });
  }

  #raw(text: string, params: readonly unknown[] | undefined): Promise<RawResult> {
    if (this.#closed) return Promise.reject(new Error("The store is closed."));
    return this.#db.raw(text, params);
  }
}

function commandOf(result: object | undefined): string | undefined {
  if (result === undefined || !("command" in result)) return undefined;
  return typeof result.command === "string" ? result.command : undefined;
}
