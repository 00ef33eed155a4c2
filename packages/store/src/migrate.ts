/**
 * Forward-only schema migrations, one list per component ("auth", "ledger", …).
 * Each migration runs in its own transaction together with the row that records
 * it, so a crash leaves it either fully applied or not at all. Running the same
 * list again changes nothing. An advisory lock per component makes concurrent
 * start-ups of several servers take turns instead of racing.
 *
 * The applied history is part of the contract: renaming an applied migration, or
 * running a build that does not know a migration the database already has, is
 * refused rather than guessed at.
 */
import type { Sql } from "./sql.ts";

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

const componentPattern = /^[a-z][a-z0-9_-]{0,62}$/;

export async function migrate(sql: Sql, component: string, migrations: readonly Migration[]): Promise<void> {
  checkList(component, migrations);
  await sql.transaction(async (tx) => {
    await lock(tx, "schema_migrations");
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component text NOT NULL,
      id integer NOT NULL,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, id)
    )`);
  });
  checkHistory(component, migrations, await applied(sql, component));
  for (const migration of migrations) {
    await sql.transaction(async (tx) => {
      await lock(tx, component);
      // Re-read under the lock: another process may have applied it meanwhile.
      const done = await applied(tx, component);
      checkHistory(component, migrations, done);
      if (done.has(migration.id)) return;
      await tx.query(migration.sql);
      await tx.query("INSERT INTO schema_migrations (component, id, name) VALUES ($1, $2, $3)", [component, migration.id, migration.name]);
    });
  }
}

function checkList(component: string, migrations: readonly Migration[]): void {
  if (!componentPattern.test(component)) throw new Error(`Migration component must match ${String(componentPattern)}.`);
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isSafeInteger(migration.id) || migration.id <= previous) {
      throw new Error(`Migrations of ${component} must have positive, strictly increasing ids (found ${migration.id} after ${previous}).`);
    }
    if (migration.name.trim() === "") throw new Error(`Migration ${component}/${migration.id} has no name.`);
    previous = migration.id;
  }
}

async function applied(sql: Sql, component: string): Promise<Map<number, string>> {
  const rows = await sql.query<{ id: number; name: string }>("SELECT id, name FROM schema_migrations WHERE component = $1", [component]);
  return new Map(rows.map((row) => [row.id, row.name]));
}

function checkHistory(component: string, migrations: readonly Migration[], done: ReadonlyMap<number, string>): void {
  const known = new Map(migrations.map((m) => [m.id, m.name]));
  for (const [id, name] of done) {
    const expected = known.get(id);
    if (expected === undefined) {
      throw new Error(`The database has migration ${component}/${id} (${name}) that this build does not know; refusing to run an older build against a newer schema.`);
    }
    if (expected !== name) {
      throw new Error(`Migration ${component}/${id} was applied as "${name}" but is now named "${expected}"; applied migrations must not change.`);
    }
  }
}

async function lock(tx: Sql, key: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`schema_migrations:${key}`]);
}
