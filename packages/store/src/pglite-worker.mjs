// The embedded database on a worker thread: PGlite (PostgreSQL compiled to
// WebAssembly) spends real CPU on every statement, and on the server's main thread
// that time would be taken from the gateway and the engine. This worker owns the
// database; the main thread's adapter (pglite.ts) sends it one statement at a time
// and keeps the queue and the transactions. Plain JavaScript so that it starts the
// same under any TypeScript loader.
import { mkdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { durableOptions } from "./pglite-durable.mjs";

const int8Oid = 20;
const numericOid = 1700;
// Decode int8 and numeric as decimal strings, exactly as the in-process adapter does.
const parsers = { [int8Oid]: (value) => value, [numericOid]: (value) => value };

function commandOf(result) {
  return result !== undefined && typeof result.command === "string" ? result.command : undefined;
}

/** An error as plain data: message, name and the driver's fields (SQLSTATE `code`, `detail`…). */
function errorData(error) {
  if (!(error instanceof Error)) return { message: String(error), name: "Error", fields: {} };
  const fields = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") fields[key] = value;
  }
  return { message: error.message, name: error.name, fields };
}

// Below the event loop's priority: when both cores are busy, an order's acknowledgement goes
// before a ledger statement, which only has to catch up. On Linux the nice value is per
// thread, so this lowers this worker alone (measured: WebSocket p99 at 4,000 orders/s fell
// from ≈ 15 to ≈ 10 ms; the settlement lag after a run did not grow). Where the system
// refuses, the worker runs at the process's priority.
const workerNice = 10;
try {
  setPriority(workerNice);
} catch {
  // Not permitted here: nothing to do.
}
/** This thread's id in the operating system (Linux: the first field of /proc/thread-self/stat), or null. */
function ownThreadId() {
  try {
    const tid = Number(readFileSync("/proc/thread-self/stat", "latin1").split(" ", 1)[0]);
    return Number.isSafeInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

const port = parentPort;
if (port === null) throw new Error("pglite-worker.mjs runs as a worker thread");

let db;
try {
  const { dir, template } = workerData;
  if (typeof dir === "string") mkdirSync(dir, { recursive: true });
  // On a data directory, commits are durable (pglite-durable.mjs); in memory there is nothing to sync.
  const options = typeof dir === "string" ? { parsers, ...durableOptions(dir) } : { parsers };
  if (template !== undefined && template !== null) options.loadDataDir = template;
  db = await PGlite.create(options);
  port.postMessage({ type: "ready", threadId: ownThreadId() });
} catch (error) {
  port.postMessage({ type: "failed", error: errorData(error) });
}

port.on("message", async (message) => {
  if (message.type === "close") {
    try {
      await db?.close();
      port.postMessage({ id: message.id, ok: true, rows: [], command: undefined });
    } catch (error) {
      port.postMessage({ id: message.id, ok: false, error: errorData(error) });
    }
    port.close();
    return;
  }
  try {
    if (message.params === undefined) {
      const results = await db.exec(message.text);
      const last = results.at(-1);
      port.postMessage({ id: message.id, ok: true, rows: last?.rows ?? [], command: commandOf(last) });
    } else {
      const result = await db.query(message.text, message.params);
      port.postMessage({ id: message.id, ok: true, rows: result.rows, command: commandOf(result) });
    }
  } catch (error) {
    port.postMessage({ id: message.id, ok: false, error: errorData(error) });
  }
});
