/**
 * Read-model snapshots: a restart restores the read models from their newest
 * snapshot and replays only the journal after it, and what they answer is what
 * a rebuild from the whole journal answers. Unusable snapshots are ignored, with
 * a warning, for a rebuild from the start.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSnapshotStore, type JournalLogger } from "@tradestream/journal";
import { afterAll, describe, expect, it } from "vitest";
import { decodeReadModels, encodeReadModels, loadReadModels, readModelSnapshotVersion } from "./read-model-snapshots.ts";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform, type PlatformConfig } from "./platform.ts";
import { limitOrder, testConfig } from "./test-platform.ts";

const dir = mkdtempSync(join(tmpdir(), "tradestream-read-models-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const snapshotsDir = join(dir, "snapshots", "read-models");
const config: PlatformConfig = testConfig({ seed: 9, dataDir: dir, snapshotEvery: 10, readModelSnapshotEvery: 30 });

/** Everything a trader and the public see, as the API answers it. */
async function views(platform: Platform, client: ApiClient): Promise<Record<string, unknown>> {
  const base = new ApiClient(platform.url, client.token);
  const paths = [
    "/api/v1/orders?limit=500",
    "/api/v1/orders?status=open",
    "/api/v1/fills?limit=500",
    "/api/v1/accounts/1001",
    "/api/v1/accounts/1001/balances",
    "/api/v1/accounts/1001/positions",
    "/api/v1/markets",
    "/api/v1/markets/SAP/book?depth=50",
    "/api/v1/markets/SAP/trades?limit=100",
    "/api/v1/markets/SAP/candles?interval=1m",
    "/api/v1/markets/SAP/ticker",
  ];
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const answer = await base.get(path);
    expect(answer.status, path).toBe(200);
    out[path] = answer.body;
  }
  return out;
}

function warnings(): { logger: JournalLogger; seen: string[] } {
  const seen: string[] = [];
  const note = (message: string): void => {
    seen.push(message);
  };
  return { logger: { info: () => undefined, warn: note, error: note }, seen };
}

describe("read-model snapshots", () => {
  it("a restart restores the read models and replays only the journal after them; a rebuild from the start answers the same", async () => {
    const first = await startPlatform(config);
    let before: Record<string, unknown>;
    let stoppedAt: number;
    let token: string | null;
    try {
      const buyer = await ApiClient.signIn(first.url, "trader1");
      const seller = await ApiClient.signIn(first.url, "trader2");
      token = buyer.token;
      for (let i = 0; i < 40; i += 1) {
        const price = (226 + (i % 5)).toFixed(2);
        expect((await buyer.post("/api/v1/orders", limitOrder(`b-${String(i)}`, "buy", price, "3"))).status).toBe(201);
        expect((await seller.post("/api/v1/orders", limitOrder(`s-${String(i)}`, "sell", price, String(1 + (i % 4))))).status).toBe(201);
      }
      // A new trading day: the idempotency window follows it across the restart.
      await first.shard.submit({ type: "EndOfDay" });
      before = await views(first, buyer);
      expect(Object.keys((before["/api/v1/fills?limit=500"] as { items: unknown[] }).items).length).toBeGreaterThan(10);
      stoppedAt = first.shard.seq;
    } finally {
      await first.close();
    }
    // Periodic snapshots (kept: 2) and the one the clean stop took.
    const files = readdirSync(snapshotsDir).filter((name) => name.endsWith(".bin")).sort();
    expect(files.length).toBe(2);
    expect(files.at(-1)).toBe(`snapshot-${String(stoppedAt).padStart(20, "0")}.bin`);
    const periodic = { name: files[0] as string, bytes: readFileSync(join(snapshotsDir, files[0] as string)) };

    const second = await startPlatform(config);
    let dayStart: number;
    try {
      expect(second.readModels).toEqual({ snapshotSeq: stoppedAt, replayedCommands: 0 });
      expect(await views(second, new ApiClient(second.url, token))).toEqual(before);
      dayStart = second.gateway.context.orderService.dayStartUs;
      expect(dayStart).toBeGreaterThan(0);
      // After the end of day, a client order id of the day before is free again.
      const again = await new ApiClient(second.url, token).post("/api/v1/orders", limitOrder("b-0", "buy", "225.00", "1"));
      expect(again.status).toBe(201);
    } finally {
      await second.close();
    }

    // From the first run's periodic snapshot instead, the longer tail gives the same answers.
    rmSync(snapshotsDir, { recursive: true });
    mkdirSync(snapshotsDir);
    writeFileSync(join(snapshotsDir, periodic.name), periodic.bytes);
    const third = await startPlatform(config);
    let afterTail: Record<string, unknown>;
    try {
      expect(third.readModels.snapshotSeq).toBe(Number(periodic.name.slice(9, 29)));
      expect(third.readModels.snapshotSeq).toBeLessThan(stoppedAt);
      expect(third.readModels.snapshotSeq + third.readModels.replayedCommands).toBe(third.shard.seq);
      expect(third.gateway.context.orderService.dayStartUs).toBe(dayStart);
      afterTail = await views(third, new ApiClient(third.url, token));
    } finally {
      await third.close();
    }

    // And with none at all, a rebuild from the start of the journal.
    rmSync(snapshotsDir, { recursive: true });
    const fourth = await startPlatform(config);
    try {
      expect(fourth.readModels).toEqual({ snapshotSeq: 0, replayedCommands: fourth.shard.seq });
      expect(fourth.gateway.context.orderService.dayStartUs).toBe(dayStart);
      expect(await views(fourth, new ApiClient(fourth.url, token))).toEqual(afterTail);
    } finally {
      await fourth.close();
    }
  });

  it("ignores, with a warning, a snapshot past the journal or past what the ledger settled", async () => {
    const store = await openSnapshotStore({ dir: snapshotsDir, snapshotsKept: 2 });
    const saved = await store.loadLatest();
    expect(saved).not.toBeNull();
    const seq = saved?.seq ?? 0;
    const ok = warnings();
    expect((await loadReadModels(store, { logSeq: seq, ledgerOffset: Number.MAX_SAFE_INTEGER, logger: ok.logger }))?.seq).toBe(seq);
    expect(ok.seen).toEqual([]);
    const ahead = warnings();
    expect(await loadReadModels(store, { logSeq: seq - 1, ledgerOffset: Number.MAX_SAFE_INTEGER, logger: ahead.logger })).toBeNull();
    expect(ahead.seen).toEqual(["read-model snapshot is ahead of the journal; rebuilding the read models from the start of the journal"]);
    const unsettled = warnings();
    expect(await loadReadModels(store, { logSeq: seq, ledgerOffset: 1, logger: unsettled.logger })).toBeNull();
    expect(unsettled.seen).toEqual(["the ledger has not settled everything the read-model snapshot covers; rebuilding the read models from the start of the journal"]);
    // A snapshot whose read models do not decode.
    const parts = decodeReadModels(saved?.state ?? new Uint8Array());
    await store.save(seq + 1, encodeReadModels({ ...parts, orders: new Uint8Array([1, 2, 3]) }));
    const broken = warnings();
    expect(await loadReadModels(store, { logSeq: seq + 1, ledgerOffset: Number.MAX_SAFE_INTEGER, logger: broken.logger })).toBeNull();
    expect(broken.seen).toEqual(["read-model snapshot unusable; rebuilding the read models from the start of the journal"]);
  });

  it("refuses bytes that are not a read-model snapshot of this version, naming why", () => {
    const parts = { shard: new Uint8Array([1, 2]), orders: new Uint8Array([3]), market: new Uint8Array([4, 5, 6]), dayStartUs: 86_400_000_000 };
    const bytes = encodeReadModels(parts);
    expect(decodeReadModels(bytes)).toEqual(parts);
    expect(() => decodeReadModels(new TextEncoder().encode("not a snapshot at all, really not"))).toThrow("not a read-model snapshot");
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(8, readModelSnapshotVersion + 1, true);
    expect(() => decodeReadModels(future)).toThrow(`read-model snapshot version ${String(readModelSnapshotVersion + 1)} is not supported (this release reads ${String(readModelSnapshotVersion)})`);
    expect(() => decodeReadModels(bytes.subarray(0, bytes.length - 1))).toThrow("read-model snapshot is truncated or has trailing bytes");
    const badDay = bytes.slice();
    new DataView(badDay.buffer).setFloat64(12, 0.5, true);
    expect(() => decodeReadModels(badDay)).toThrow("read-model snapshot has an invalid day start");
  });
});
