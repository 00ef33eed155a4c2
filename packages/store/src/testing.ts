/**
 * Test support shared by every component with tables: the same test body runs on
 * PGlite (always) and on a real PostgreSQL server. The server is
 * `TRADESTREAM_TEST_DATABASE_URL` or the local default; when it does not answer
 * its tests are skipped with the reason printed, unless
 * `TRADESTREAM_REQUIRE_SERVICES=1` (CI), where an absent server is a failure.
 * Every PostgreSQL store opened here lives in its own random schema, dropped on close.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPgliteFromTemplate, pgliteTemplate } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import type { Sql, TransactionOptions } from "./sql.ts";

export const testDatabaseUrlDefault = "postgres://postgres@127.0.0.1:5432/test";

const probeTimeoutMs = 3_000;

export interface TestBackend {
  readonly name: Sql["kind"];
  /** Why this backend's tests are skipped, or null when it is available. */
  readonly unavailable: string | null;
  /** A fresh, empty store; close it to drop everything it holds. */
  open(): Promise<Sql>;
}

export async function testBackends(env: NodeJS.ProcessEnv = process.env): Promise<readonly TestBackend[]> {
  const url = env["TRADESTREAM_TEST_DATABASE_URL"] ?? testDatabaseUrlDefault;
  const unavailable = await probe(url);
  if (unavailable !== null) {
    if (env["TRADESTREAM_REQUIRE_SERVICES"] === "1") {
      throw new Error(`PostgreSQL is required (TRADESTREAM_REQUIRE_SERVICES=1) but unreachable: ${unavailable}`);
    }
    console.warn(`Skipping PostgreSQL tests: ${unavailable}`);
  }
  return [
    { name: "pglite", unavailable: null, open: async () => openPgliteFromTemplate(await sharedTemplate()) },
    { name: "postgres", unavailable, open: () => openIsolatedPostgres(url) },
  ];
}

let template: Promise<Blob> | undefined;

function sharedTemplate(): Promise<Blob> {
  template ??= pgliteTemplate();
  return template;
}

async function probe(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: probeTimeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return `${redact(url)} did not answer (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function openIsolatedPostgres(url: string): Promise<Sql> {
  const schema = `test_${randomBytes(8).toString("hex")}`;
  const sql = await openPostgres(url, { schema, max: 4 });
  return {
    kind: sql.kind,
    query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[]) {
      return sql.query<R>(text, params);
    },
    transaction<T>(fn: (tx: Sql) => Promise<T>, options?: TransactionOptions) {
      return sql.transaction(fn, options);
    },
    async close() {
      try {
        await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await sql.close();
      }
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "the test database URL";
  }
}
