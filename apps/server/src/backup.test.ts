/**
 * Backup and restore of a real data directory: trade, stop, back up, restore into
 * a new directory, start there, and find the same books (trial balance) and the
 * same orders; retention keeps the newest N; a damaged backup is refused.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trialBalance, type TrialBalance } from "@tradestream/ledger";
import { createBackup, listBackups, restoreBackup, verifyBackup, type BackupResult } from "./backup.ts";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform, type PlatformConfig } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

const base: Omit<PlatformConfig, "dataDir"> = testConfig({ seed: 9 });

interface OrderBody {
  order: { orderId: number; status: string; filledQuantity: string };
}

/** Two crossing orders; returns the buy order's id and the buyer's signed-in client. */
async function trade(platform: Platform, tag: string): Promise<{ orderId: number; trader1: ApiClient }> {
  const trader1 = await ApiClient.signIn(platform.url, "trader1");
  const trader2 = await ApiClient.signIn(platform.url, "trader2");
  const buy = await trader1.post<OrderBody>("/api/v1/orders", { symbol: "TTE", side: "buy", type: "limit", price: "55.10", quantity: "40", clientOrderId: `${tag}-1` });
  expect(buy.status).toBe(201);
  const sell = await trader2.post<OrderBody>("/api/v1/orders", { symbol: "TTE", side: "sell", type: "limit", price: "55.10", quantity: "25", clientOrderId: `${tag}-2` });
  expect(sell.status).toBe(201);
  await platform.ledgerRunner.drained();
  return { orderId: buy.body.order.orderId, trader1 };
}

/**
 * Fetches an order with an existing client's token against `platform`. On a restored
 * platform the token signed before the backup still works: the secret and the
 * sessions came back with it (a second sign-in would reuse the same one-time code).
 */
async function fetchOrder(platform: Platform, client: ApiClient, orderId: number): Promise<OrderBody["order"]> {
  const got = await new ApiClient(platform.url, client.token).get<OrderBody>(`/api/v1/orders/${String(orderId)}`);
  expect(got.status).toBe(200);
  return got.body.order;
}

describe("backup and restore (PGlite)", () => {
  const root = mkdtempSync(join(tmpdir(), "tradestream-backup-"));
  const dataDir = join(root, "data");
  const backupDir = join(root, "backups");
  let platform: Platform | null = null;
  let orderId = 0;
  let trader1: ApiClient;
  let before: TrialBalance;
  let orderBefore: OrderBody["order"];
  let backup: BackupResult;

  beforeAll(async () => {
    platform = await startPlatform({ ...base, dataDir });
    ({ orderId, trader1 } = await trade(platform, "b"));
    before = await trialBalance(platform.ledger);
    orderBefore = await fetchOrder(platform, trader1, orderId);
  });

  afterAll(async () => {
    await platform?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("refuses to copy the embedded store while the platform answers", async () => {
    const running = platform;
    if (running === null) throw new Error("platform not started");
    await expect(createBackup({ dataDir, backupDir, keep: 5, readyUrl: `${running.url}/ready` })).rejects.toThrow(/stop it first/);
    expect(await listBackups(backupDir)).toEqual([]);
  });

  it("backs up a stopped platform, restores into a new data directory, and finds the same books and orders", async () => {
    const running = platform;
    if (running === null) throw new Error("platform not started");
    const url = running.url;
    platform = null;
    await running.close();
    expect(before.balanced).toBe(true);
    expect(before.currencies.length).toBeGreaterThan(0);

    backup = await createBackup({ dataDir, backupDir, keep: 5, readyUrl: `${url}/ready` });
    expect(backup.manifest.store).toBe("pglite");
    expect(backup.manifest.includes).toEqual(expect.arrayContaining(["pglite", "journal", "snapshots", "secret.key"]));
    expect(backup.manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(JSON.parse(readFileSync(join(backup.path, "manifest.json"), "utf8"))).toEqual(backup.manifest);

    const restoredDir = join(root, "restored");
    await restoreBackup({ backupPath: backup.path, dataDir: restoredDir });
    expect(readFileSync(join(restoredDir, "secret.key"))).toEqual(readFileSync(join(dataDir, "secret.key")));

    const restored = await startPlatform({ ...base, dataDir: restoredDir });
    try {
      await restored.ledgerRunner.drained();
      expect(await trialBalance(restored.ledger)).toEqual(before);
      expect(await fetchOrder(restored, trader1, orderId)).toEqual(orderBefore);
      expect(orderBefore.filledQuantity).toBe("25");
    } finally {
      await restored.close();
    }
  });

  it("refuses to overwrite a non-empty data directory unless forced", async () => {
    await expect(restoreBackup({ backupPath: backup.path, dataDir })).rejects.toThrow(/not empty/);
    const result = await restoreBackup({ backupPath: backup.path, dataDir, force: true });
    expect(result.files).toBe(backup.manifest.files.length);
  });

  it("keeps only the newest backups", async () => {
    const retentionDir = join(root, "retention");
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await createBackup({ dataDir, backupDir: retentionDir, keep: 2, now: new Date(Date.UTC(2026, 0, 1 + i)) });
      made.push(result.path);
      if (i === 2) expect(result.removed).toEqual([made[0]]);
    }
    expect(await listBackups(retentionDir)).toEqual(made.slice(1));
    expect(readdirSync(retentionDir).filter((name) => name.startsWith(".partial-"))).toEqual([]);
  });

  it("refuses a tampered backup", async () => {
    await verifyBackup(backup.path);
    const journalFile = backup.manifest.files.find((f) => f.path.startsWith("files/journal/") && f.size > 0);
    if (journalFile === undefined) throw new Error("no journal segment in the backup");
    const file = join(backup.path, journalFile.path);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const target = join(root, "tampered");
    await expect(restoreBackup({ backupPath: backup.path, dataDir: target })).rejects.toThrow(/SHA-256/);
    expect(existsSync(target)).toBe(false);
  });
});

/** PostgreSQL: pg_dump -Fc into the backup and pg_restore into another database. */
const adminUrl = process.env.TRADESTREAM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function psql(sql: string): void {
  execFileSync("psql", ["-v", "ON_ERROR_STOP=1", "-qAt", `--dbname=${adminUrl}`, "-c", sql], { stdio: "pipe" });
}

function postgresReachable(): boolean {
  try {
    psql("SELECT 1");
    return true;
  } catch {
    return false;
  }
}

const pgAvailable = postgresReachable();
if (!pgAvailable) {
  if (process.env.TRADESTREAM_REQUIRE_SERVICES === "1") throw new Error(`PostgreSQL is required (TRADESTREAM_REQUIRE_SERVICES=1) but unreachable at ${adminUrl}`);
  process.stdout.write(`skipping the PostgreSQL backup test: PostgreSQL unreachable at ${adminUrl}\n`);
}

describe.skipIf(!pgAvailable)("backup and restore (PostgreSQL)", () => {
  const root = mkdtempSync(join(tmpdir(), "tradestream-backup-pg-"));
  const suffix = randomBytes(4).toString("hex");
  const databases = [`ts_backup_src_${suffix}`, `ts_backup_dst_${suffix}`] as const;
  const urlOf = (db: string): string => {
    const url = new URL(adminUrl);
    url.pathname = `/${db}`;
    return url.toString();
  };

  beforeAll(() => {
    for (const db of databases) psql(`CREATE DATABASE ${db}`);
  });

  afterAll(() => {
    for (const db of databases) psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    rmSync(root, { recursive: true, force: true });
  });

  it("dumps the database with the journal and restores both", async () => {
    const dataDir = join(root, "data");
    const source = await startPlatform({ ...base, dataDir, databaseUrl: urlOf(databases[0]) });
    let before: TrialBalance;
    let orderBefore: OrderBody["order"];
    let orderId: number;
    let trader1: ApiClient;
    try {
      ({ orderId, trader1 } = await trade(source, "pg"));
      before = await trialBalance(source.ledger);
      orderBefore = await fetchOrder(source, trader1, orderId);
    } finally {
      await source.close();
    }
    const backup = await createBackup({ dataDir, databaseUrl: urlOf(databases[0]), backupDir: join(root, "backups"), keep: 3 });
    expect(backup.manifest.store).toBe("postgresql");
    expect(backup.manifest.includes).toContain("postgres.dump");
    expect(backup.manifest.includes).not.toContain("pglite");

    await expect(restoreBackup({ backupPath: backup.path, dataDir: join(root, "x") })).rejects.toThrow(/DATABASE_URL/);
    const restoredDir = join(root, "restored");
    await restoreBackup({ backupPath: backup.path, dataDir: restoredDir, databaseUrl: urlOf(databases[1]) });
    const restored = await startPlatform({ ...base, dataDir: restoredDir, databaseUrl: urlOf(databases[1]) });
    try {
      await restored.ledgerRunner.drained();
      expect(await trialBalance(restored.ledger)).toEqual(before);
      expect(await fetchOrder(restored, trader1, orderId)).toEqual(orderBefore);
    } finally {
      await restored.close();
    }
  });
});
