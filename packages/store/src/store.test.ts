import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Migration, type Sql, TransactionAbortedError, migrate, openPglite, openStore, testBackends } from "./index.ts";
import { openPgliteFromTemplate, pgliteTemplate } from "./pglite.ts";
import { durableSyncCount } from "./pglite-durable.mjs";

const template = pgliteTemplate();
const pgliteOnWorker = { name: "pglite" as const, label: "pglite on a worker thread", unavailable: null, open: async () => openPgliteFromTemplate(await template, { worker: true }) };
const backends = [...(await testBackends()).map((b) => ({ ...b, label: String(b.name) })), pgliteOnWorker];
const pglite = backends.find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const migrations: readonly Migration[] = [
  { id: 1, name: "create widgets", sql: "CREATE TABLE widgets (id integer PRIMARY KEY, label text NOT NULL); CREATE INDEX widgets_label ON widgets (label);" },
  { id: 2, name: "add weight", sql: "ALTER TABLE widgets ADD COLUMN weight bigint NOT NULL DEFAULT 0;" },
];

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`store on ${backend.label}`, () => {
    let sql: Sql;
    beforeEach(async () => {
      sql = await backend.open();
      await sql.query("CREATE TABLE items (id integer PRIMARY KEY, name text, big bigint, amount numeric(20, 4), flags jsonb, ok boolean)");
    });
    afterEach(async () => {
      await sql.close();
    });

    it("reports its kind", () => {
      expect(sql.kind).toBe(backend.name);
    });

    it("binds parameters and decodes values the same way on every adapter", async () => {
      await sql.query("INSERT INTO items (id, name, big, amount, flags, ok) VALUES ($1, $2, $3, $4, $5, $6)", [
        1,
        "o'brien; DROP TABLE items",
        "9007199254740993",
        "12.3400",
        JSON.stringify({ tags: ["a"], n: 1 }),
        true,
      ]);
      await sql.query("INSERT INTO items (id, name, big) VALUES ($1, $2, $3)", [2, null, 5n]);
      const rows = await sql.query<{ id: number; name: string | null; big: string; amount: string | null; flags: unknown; ok: boolean | null }>(
        "SELECT id, name, big, amount, flags, ok FROM items ORDER BY id",
      );
      expect(rows).toEqual([
        { id: 1, name: "o'brien; DROP TABLE items", big: "9007199254740993", amount: "12.3400", flags: { tags: ["a"], n: 1 }, ok: true },
        { id: 2, name: null, big: "5", amount: null, flags: null, ok: null },
      ]);
      const [count] = await sql.query<{ n: unknown }>("SELECT count(*) AS n FROM items WHERE id > $1", [0]);
      expect(count?.n).toBe("2");
    });

    it("runs several statements when there are no parameters and returns the last result", async () => {
      const rows = await sql.query("INSERT INTO items (id) VALUES (7); INSERT INTO items (id) VALUES (8); SELECT count(*)::int AS n FROM items");
      expect(rows).toEqual([{ n: 2 }]);
    });

    it("commits a transaction and returns its value", async () => {
      const value = await sql.transaction(async (tx) => {
        await tx.query("INSERT INTO items (id, name) VALUES ($1, $2)", [1, "a"]);
        await tx.query("INSERT INTO items (id, name) VALUES ($1, $2)", [2, "b"]);
        return "done";
      });
      expect(value).toBe("done");
      expect(await sql.query("SELECT id FROM items ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
    });

    it("rolls back on throw and rethrows the error", async () => {
      const failure = new Error("boom");
      await expect(
        sql.transaction(async (tx) => {
          await tx.query("INSERT INTO items (id) VALUES (1)");
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await sql.query("SELECT id FROM items")).toEqual([]);
    });

    it("rolls back when a statement fails", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await tx.query("INSERT INTO items (id) VALUES (1)");
          await tx.query("INSERT INTO items (id) VALUES (1)");
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await sql.query("SELECT id FROM items")).toEqual([]);
    });

    it("refuses to commit when fn swallowed a failed statement", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await tx.query("INSERT INTO items (id) VALUES (1)");
          await tx.query("SELECT 1 / 0").catch(() => undefined);
        }),
      ).rejects.toBeInstanceOf(TransactionAbortedError);
      expect(await sql.query("SELECT id FROM items")).toEqual([]);
    });

    it("nested transactions and calls on the outer handle join the outer transaction", async () => {
      await expect(
        sql.transaction(async (tx) => {
          await tx.transaction(async (inner) => {
            await inner.query("INSERT INTO items (id) VALUES (1)");
          });
          // On PGlite this would wait forever for the running transaction if it did not join it.
          await sql.query("INSERT INTO items (id) VALUES (2)");
          await sql.transaction((again) => again.query("INSERT INTO items (id) VALUES (3)"));
          expect(await tx.query("SELECT count(*)::int AS n FROM items")).toEqual([{ n: 3 }]);
          throw new Error("undo all three");
        }),
      ).rejects.toThrow("undo all three");
      expect(await sql.query("SELECT id FROM items")).toEqual([]);
    });

    it("keeps joining outer-handle calls after earlier transactions ended, and while another one is still running", async () => {
      // Each transaction that ends may switch the context tracking off; the next must switch it on again.
      for (const id of [1, 2, 3]) {
        await expect(
          sql.transaction(async () => {
            await sql.query("INSERT INTO items (id) VALUES ($1)", [id]);
            throw new Error("undo");
          }),
        ).rejects.toThrow("undo");
      }
      expect(await sql.query("SELECT id FROM items")).toEqual([]);
      if (sql.kind !== "postgres") return;
      // Postgres runs transactions side by side: one ending must not switch the tracking off under the other.
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const long = sql.transaction(async () => {
        await gate;
        await sql.query("INSERT INTO items (id) VALUES (10)");
        throw new Error("undo the long one");
      });
      await sql.transaction((tx) => tx.query("INSERT INTO items (id) VALUES (20)"));
      release();
      await expect(long).rejects.toThrow("undo the long one");
      expect(await sql.query("SELECT id FROM items")).toEqual([{ id: 20 }]);
    });

    it("runs an isolated transaction like any other on its tx, without joining calls on the outer handle", async () => {
      await sql.transaction((tx) => tx.query("INSERT INTO items (id) VALUES (1)"), { isolated: true });
      await expect(
        sql.transaction(async (tx) => {
          await tx.query("INSERT INTO items (id) VALUES (2)");
          throw new Error("undo");
        }, { isolated: true }),
      ).rejects.toThrow("undo");
      expect(await sql.query("SELECT id FROM items")).toEqual([{ id: 1 }]);
      if (sql.kind !== "postgres") return; // on PGlite an outer call would wait for the transaction: the caller's promise not to make one
      await expect(
        sql.transaction(async () => {
          await sql.query("INSERT INTO items (id) VALUES (3)");
          throw new Error("undo, but the outer call was its own");
        }, { isolated: true }),
      ).rejects.toThrow("its own");
      expect(await sql.query("SELECT id FROM items ORDER BY id")).toEqual([{ id: 1 }, { id: 3 }]);
    });

    it("refuses statements on a finished transaction", async () => {
      let escaped: Sql | undefined;
      await sql.transaction((tx) => {
        escaped = tx;
        return Promise.resolve();
      });
      expect(escaped).toBeDefined();
      await expect(escaped?.query("SELECT 1")).rejects.toThrow(/finished/);
    });

    it("migrates once, records each migration, and is idempotent", async () => {
      await migrate(sql, "widgets", migrations);
      await sql.query("INSERT INTO widgets (id, label, weight) VALUES (1, 'w', 3)");
      await migrate(sql, "widgets", migrations);
      expect(await sql.query("SELECT id, label, weight FROM widgets")).toEqual([{ id: 1, label: "w", weight: "3" }]);
      const recorded = await sql.query("SELECT component, id, name FROM schema_migrations ORDER BY id");
      expect(recorded).toEqual([
        { component: "widgets", id: 1, name: "create widgets" },
        { component: "widgets", id: 2, name: "add weight" },
      ]);
    });

    it("applies only the migrations that are new", async () => {
      await migrate(sql, "widgets", migrations.slice(0, 1));
      await migrate(sql, "widgets", migrations);
      expect(await sql.query("SELECT count(*)::int AS n FROM schema_migrations WHERE component = 'widgets'")).toEqual([{ n: 2 }]);
    });

    it("keeps components apart", async () => {
      await migrate(sql, "widgets", migrations);
      await migrate(sql, "gadgets", [{ id: 1, name: "create gadgets", sql: "CREATE TABLE gadgets (id integer)" }]);
      expect(await sql.query("SELECT component, id FROM schema_migrations ORDER BY component, id")).toEqual([
        { component: "gadgets", id: 1 },
        { component: "widgets", id: 1 },
        { component: "widgets", id: 2 },
      ]);
    });

    it("refuses a renamed applied migration and an unknown applied one", async () => {
      await migrate(sql, "widgets", migrations);
      const renamed = [migrations[0], { id: 2, name: "add mass", sql: "SELECT 1" }].filter((m) => m !== undefined);
      await expect(migrate(sql, "widgets", renamed)).rejects.toThrow(/applied as "add weight"/);
      await expect(migrate(sql, "widgets", migrations.slice(0, 1))).rejects.toThrow(/does not know/);
    });

    it("leaves a failing migration unapplied and unrecorded", async () => {
      const broken: Migration[] = [...migrations, { id: 3, name: "broken", sql: "CREATE TABLE half (id integer); SELECT no_such_function();" }];
      await expect(migrate(sql, "widgets", broken)).rejects.toThrow(/no_such_function/);
      expect(await sql.query("SELECT id FROM schema_migrations ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
      expect(await sql.query("SELECT to_regclass('half') IS NULL AS absent")).toEqual([{ absent: true }]);
    });

    it("rejects malformed migration lists before touching the database", async () => {
      await expect(migrate(sql, "widgets", [{ id: 2, name: "b", sql: "" }, { id: 1, name: "a", sql: "" }])).rejects.toThrow(/increasing/);
      await expect(migrate(sql, "Bad Name", [])).rejects.toThrow(/component/);
    });
  });
}

describe("PGlite specifics", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tradestream-store-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("never lets another caller's statement run inside a transaction", async () => {
    const sql = await pglite.open();
    try {
      await sql.query("CREATE TABLE log (seq serial PRIMARY KEY, who text NOT NULL)");
      const writer = (who: string) =>
        sql.transaction(async (tx) => {
          for (let step = 0; step < 3; step += 1) {
            await tx.query("INSERT INTO log (who) VALUES ($1)", [who]);
            await sleep(5);
          }
        });
      let inserted: () => void = () => undefined;
      const doomedInserted = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const doomed = sql.transaction(async (tx) => {
        await tx.query("INSERT INTO log (who) VALUES ('doomed')");
        inserted();
        await sleep(30);
        throw new Error("roll back");
      });
      await doomedInserted;
      // Issued while the doomed transaction holds the connection, after its insert: must not see its row.
      const countDuring = sql.query<{ n: number }>("SELECT count(*)::int AS n FROM log");
      const results = await Promise.allSettled([doomed, countDuring, writer("a"), writer("b"), writer("c")]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
      expect(await countDuring).toEqual([{ n: 0 }]);
      const order = (await sql.query<{ who: string }>("SELECT who FROM log ORDER BY seq")).map((r) => r.who).join("");
      expect(order).toBe("aaabbbccc");
    } finally {
      await sql.close();
    }
  });

  it("keeps data across close and reopen of a data directory", async () => {
    const first = await openPglite(dir);
    await migrate(first, "widgets", migrations);
    await first.query("INSERT INTO widgets (id, label) VALUES ($1, $2)", [1, "kept"]);
    await first.close();
    const second = await openPglite(dir);
    try {
      expect(await second.query("SELECT label FROM widgets")).toEqual([{ label: "kept" }]);
      await migrate(second, "widgets", migrations);
    } finally {
      await second.close();
    }
  });

  it("on a data directory, every commit syncs its write-ahead log to disk, and a checkpoint syncs the data files", async () => {
    const sql = await openPglite(dir);
    try {
      expect(await sql.query("SHOW fsync")).toEqual([{ fsync: "on" }]);
      expect(await sql.query("SHOW wal_sync_method")).toEqual([{ wal_sync_method: "fsync" }]);
      await sql.query("CREATE TABLE t (id integer)");
      let before = durableSyncCount();
      for (let i = 0; i < 5; i += 1) await sql.query("INSERT INTO t VALUES ($1)", [i]);
      expect(durableSyncCount() - before).toBeGreaterThanOrEqual(5);
      before = durableSyncCount();
      await sql.transaction(async (tx) => {
        for (let i = 0; i < 100; i += 1) await tx.query("INSERT INTO t VALUES ($1)", [i]);
      });
      // One transaction, one flush of its log at COMMIT (not one per statement).
      expect(durableSyncCount() - before).toBeGreaterThanOrEqual(1);
      expect(durableSyncCount() - before).toBeLessThanOrEqual(3);
      before = durableSyncCount();
      await sql.query("SELECT count(*) FROM t");
      expect(durableSyncCount()).toBe(before);
      await sql.query("CHECKPOINT");
      expect(durableSyncCount() - before).toBeGreaterThan(1);
    } finally {
      await sql.close();
    }
  });

  it("in memory there is nothing to sync, and PostgreSQL runs as PGlite starts it", async () => {
    const sql = await openPglite(null);
    try {
      const before = durableSyncCount();
      await sql.query("CREATE TABLE t (id integer)");
      await sql.query("INSERT INTO t VALUES (1)");
      expect(durableSyncCount()).toBe(before);
      expect(await sql.query("SHOW fsync")).toEqual([{ fsync: "off" }]);
    } finally {
      await sql.close();
    }
  });

  it("openStore uses PGlite under dataDir/pglite without a database URL (on a worker thread when asked)", async () => {
    const sql = await openStore({ dataDir: dir, databaseUrl: undefined, pgliteWorker: true });
    try {
      expect(sql.kind).toBe("pglite");
      await sql.query("CREATE TABLE t (id integer)");
      expect(existsSync(join(dir, "pglite"))).toBe(true);
      // The worker's database is durable too (its syncs are counted on its own thread).
      expect(await sql.query("SHOW fsync")).toEqual([{ fsync: "on" }]);
      expect(await sql.query("SHOW wal_sync_method")).toEqual([{ wal_sync_method: "fsync" }]);
      // The worker reports its operating-system thread id (Linux), so its CPU time can be read from /proc.
      if (existsSync("/proc/thread-self/stat")) {
        expect(sql.threadId).toBeGreaterThan(0);
        expect(existsSync(`/proc/self/task/${String(sql.threadId)}/stat`)).toBe(true);
      } else {
        expect(sql.threadId).toBeNull();
      }
    } finally {
      await sql.close();
    }
  });

  it("closing waits for a running transaction and then refuses work", async () => {
    const sql = await pglite.open();
    await sql.query("CREATE TABLE t (id integer)");
    const running = sql.transaction(async (tx) => {
      await sleep(20);
      await tx.query("INSERT INTO t VALUES (1)");
      return tx.query<{ n: number }>("SELECT count(*)::int AS n FROM t");
    });
    const closing = sql.close();
    expect(await running).toEqual([{ n: 1 }]);
    await closing;
    await expect(sql.query("SELECT 1")).rejects.toThrow(/closed/);
  });

  it("on a worker thread: the same results, SQL errors with their SQLSTATE, data kept across reopen", async () => {
    const first = await openPglite(dir, { worker: true });
    await migrate(first, "widgets", migrations);
    await first.query("INSERT INTO widgets (id, label, weight) VALUES ($1, $2, $3)", [1, "kept", "9007199254740993"]);
    const duplicate = first.query("INSERT INTO widgets (id, label) VALUES ($1, $2)", [1, "again"]);
    await expect(duplicate).rejects.toThrow(/duplicate key/);
    await expect(duplicate).rejects.toMatchObject({ code: "23505" });
    await expect(first.transaction(async (tx) => tx.query("SELECT nope FROM widgets"))).rejects.toMatchObject({ code: "42703" });
    await first.close();
    await expect(first.query("SELECT 1")).rejects.toThrow(/closed/);
    const second = await openPglite(dir, { worker: true });
    try {
      expect(await second.query("SELECT label, weight FROM widgets")).toEqual([{ label: "kept", weight: "9007199254740993" }]);
    } finally {
      await second.close();
    }
  });
});
