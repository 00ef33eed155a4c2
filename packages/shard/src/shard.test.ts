import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine, encodeSnapshot, fixtures, snapshotOf } from "@tradestream/engine";
import { createMemoryLog, openFileJournal, openSnapshotStore } from "@tradestream/journal";
import { ManualClock } from "./clock.ts";
import { replayFromZero, Shard, type CommandInput } from "./shard.ts";
import { seededCommands } from "./test-stream.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tradestream-shard-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const { type: _type, tsUs: _tsUs, ...instrumentSpec } = fixtures.instrument();
const createInstrument: CommandInput = { type: "CreateInstrument", ...instrumentSpec };

/** A shard on a new journal (no automatic snapshots) with the instrument and `count` seeded commands applied and durable. */
async function tradedShard(seed: number, count: number): Promise<{ dir: string; snapshots: Awaited<ReturnType<typeof openSnapshotStore>>; live: Shard }> {
  const dir = tempDir();
  const log = await openFileJournal({ dir: join(dir, "journal") });
  const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots") });
  const live = await Shard.open({ log, clock: new ManualClock() });
  await live.submit(createInstrument);
  let last: Promise<unknown> = Promise.resolve();
  for (const command of seededCommands(seed, count)) last = live.submit(command);
  await last;
  return { dir, snapshots, live };
}

describe("shard", () => {
  it("stamps commands with a non-decreasing time and releases events only once durable", async () => {
    const log = createMemoryLog();
    const clock = new ManualClock(5_000_000);
    const shard = await Shard.open({ log, clock });
    const released: number[] = [];
    shard.subscribe((applied) => released.push(applied.seq));
    const first = shard.submit(createInstrument);
    // Applied at once, but nothing is released before the log reports it durable.
    expect(shard.seq).toBe(1);
    expect(released).toEqual([]);
    const applied = await first;
    expect(released).toEqual([1]);
    expect(applied.command.tsUs).toBe(5_000_000);
    expect(applied.events[0]).toMatchObject({ type: "InstrumentCreated", tsUs: 5_000_000, seq: 1 });
    clock.advance(-1_000); // a clock step backwards must not move command time backwards
    const second = await shard.submit({ type: "CreateAccount", accountId: 1, firmId: 1, stpMode: "none", openOrdersMax: 10, ordersPerSecondMax: 10 });
    expect(second.command.tsUs).toBe(5_000_000);
  });

  it("rejects a command that cannot be encoded without journaling or applying it", async () => {
    const log = createMemoryLog();
    const shard = await Shard.open({ log });
    expect(() => shard.submit({ ...createInstrument, referencePriceTicks: 1.5 })).toThrow(/safe integer/);
    expect(log.lastSeq).toBe(0);
    expect(shard.seq).toBe(0);
  });

  it("restarts from snapshot + journal tail to the same state and event hashes as the live run and a replay from zero", async () => {
    const dir = tempDir();
    const ready: Array<{ snapshotSeq?: number }> = [];
    const logger = { info: (_message: string, fields?: unknown) => ready.push(fields as { snapshotSeq?: number }), warn: () => undefined, error: () => undefined };
    const open = async () => {
      const log = await openFileJournal({ dir: join(dir, "journal") });
      const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots") });
      return { log, shard: await Shard.open({ log, snapshots, snapshotEvery: 700, clock: new ManualClock(), logger }) };
    };
    const live = await open();
    await live.shard.submit(createInstrument);
    let last: Promise<unknown> = Promise.resolve();
    for (const command of seededCommands(7, 3_000)) last = live.shard.submit(command);
    await last;
    const liveState = live.shard.stateHash();
    const liveEvents = live.shard.eventHash;
    const liveSeq = live.shard.seq;
    await live.shard.close();

    const restarted = await open();
    // It started from the newest snapshot (a multiple of 700), not from the beginning.
    expect(ready.at(-1)?.snapshotSeq).toBe(Math.floor(liveSeq / 700) * 700);
    expect(restarted.shard.seq).toBe(liveSeq);
    expect(restarted.shard.stateHash()).toBe(liveState);
    expect(restarted.shard.eventHash).toBe(liveEvents);
    const clean = await replayFromZero(restarted.log);
    expect(clean.seq).toBe(liveSeq);
    expect(clean.stateHash).toBe(liveState);
    expect(clean.eventHash).toBe(liveEvents);
    // The stream really traded, so the hashes cover a non-trivial state.
    expect(clean.engine.nextTradeId).toBeGreaterThan(100);
    // And commands keep flowing after the restart.
    const after = await restarted.shard.submit({ type: "CancelOrder", accountId: 1, orderId: 1 });
    expect(after.seq).toBe(liveSeq + 1);
    await restarted.shard.close();
  });

  it("writes a snapshot in slices while commands go on, with the bytes of the state at its command", async () => {
    const dir = tempDir();
    const log = await openFileJournal({ dir: join(dir, "journal") });
    const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots") });
    const taken: Array<{ seq: number; atCapture: Uint8Array; bytes: Promise<Uint8Array | null> }> = [];
    const seqWhenWritten: number[] = [];
    let shard: Shard | null = null;
    const onSnapshot = (seq: number, bytes: Promise<Uint8Array | null>): void => {
      // What a snapshot taken at once gives at this command.
      taken.push({ seq, atCapture: encodeSnapshot((shard as Shard).engine), bytes });
      void bytes.then(() => seqWhenWritten.push((shard as Shard).seq));
    };
    const written: Array<{ seq: number; captureMs: number; longestSliceMs: number; slices: number }> = [];
    const logger = {
      info: (message: string, fields?: unknown) => {
        if (message === "engine snapshot written") written.push(fields as (typeof written)[number]);
      },
      warn: () => undefined,
      error: () => undefined,
    };
    // One id per step, zero-millisecond slices: each step on its own turn of the event loop.
    shard = await Shard.open({ log, snapshots, snapshotEvery: 500, clock: new ManualClock(), onSnapshot, logger, snapshotSlices: { idsPerStep: 1, sliceMs: 0 } });
    await shard.submit(createInstrument);
    let batch: Array<Promise<unknown>> = [];
    let n = 0;
    for (const command of seededCommands(5, 2_000)) {
      // UUID-like ids, as many clients send: kept one by one, so they are most of a snapshot.
      const input = command.type === "PlaceOrder" ? { ...command, clientOrderId: `${(Math.imul((n += 1), 0x9e3779b1) >>> 0).toString(16)}-7c1d-${n.toString(16)}` } : command;
      batch.push(shard.submit(input));
      if (batch.length === 25) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    await shard.close();
    expect(taken.map((t) => t.seq)).toEqual([500, 1000, 1500, 2000]);
    for (const { seq, atCapture, bytes } of taken) {
      const written = await bytes;
      expect(written).not.toBeNull();
      const state = JSON.parse(new TextDecoder().decode(written ?? new Uint8Array())) as { seq: number; engine: unknown };
      expect(state.seq).toBe(seq);
      expect(JSON.stringify(state.engine)).toBe(new TextDecoder().decode(atCapture));
    }
    // The commands did go on while the earlier snapshots were written.
    expect(seqWhenWritten.slice(0, 3).every((seq, i) => seq > (taken[i]?.seq ?? Infinity))).toBe(true);
    // The stored newest snapshot is the last one taken.
    const latest = await snapshots.loadLatest();
    expect(latest?.seq).toBe(2000);
    // Each is logged with the pauses it cost: the capture and the longest of its many slices.
    expect(written.map((w) => w.seq)).toEqual([500, 1000, 1500, 2000]);
    for (const w of written) {
      expect(w.slices).toBeGreaterThan(100);
      expect(w.captureMs).toBeGreaterThanOrEqual(0);
      expect(w.longestSliceMs).toBeGreaterThan(0);
    }
  });

  it.each([
    ["a 64-digit SHA-256 chain value", "ab".repeat(32)],
    ["a 16-digit value of the unprefixed running hash", "0123456789abcdef"],
  ])("ignores a snapshot with an earlier scheme's event hash (%s) and replays from the start to the replay-from-zero hashes", async (_scheme, earlierHash) => {
    const { dir, snapshots, live } = await tradedShard(11, 500);
    const liveEvents = live.eventHash;
    const liveState = live.stateHash();
    // A snapshot as an earlier release wrote it, and (to be sure it is not used) an empty engine.
    const legacy = { seq: live.seq, eventHash: earlierHash, lastTsUs: 0, engine: new TextDecoder().decode(encodeSnapshot(new Engine())) };
    await snapshots.save(live.seq, new TextEncoder().encode(JSON.stringify(legacy)));
    await live.close();

    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined };
    const reopenedLog = await openFileJournal({ dir: join(dir, "journal") });
    const restarted = await Shard.open({ log: reopenedLog, snapshots: await openSnapshotStore({ dir: join(dir, "snapshots") }), clock: new ManualClock(), logger });
    expect(warnings.some((w) => w.includes("earlier scheme"))).toBe(true);
    expect(restarted.eventHash).toBe(liveEvents);
    expect(restarted.stateHash()).toBe(liveState);
    expect((await replayFromZero(reopenedLog)).eventHash).toBe(liveEvents);
    await restarted.close();
  });

  it("replays past a snapshot whose engine is one JSON string, as earlier releases wrote it, without restoring it", async () => {
    const { dir, snapshots, live } = await tradedShard(17, 600);
    const liveEvents = live.eventHash;
    const liveState = live.stateHash();
    // Even with a current engine inside, the string form means an earlier release: it is not restored.
    const legacy = { seq: live.seq, eventHash: liveEvents, lastTsUs: 0, engine: new TextDecoder().decode(encodeSnapshot(live.engine)) };
    await snapshots.save(live.seq, new TextEncoder().encode(JSON.stringify(legacy)));
    await live.close();
    const infos: unknown[] = [];
    const warnings: string[] = [];
    const logger = { info: (_message: string, fields?: unknown) => infos.push(fields), warn: (message: string) => warnings.push(message), error: () => undefined };
    const restarted = await Shard.open({ log: await openFileJournal({ dir: join(dir, "journal") }), snapshots: await openSnapshotStore({ dir: join(dir, "snapshots") }), clock: new ManualClock(), logger });
    expect(warnings.some((w) => w.includes("earlier engine snapshot version"))).toBe(true);
    expect(infos).toContainEqual(expect.objectContaining({ snapshotSeq: 0, replayedCommands: legacy.seq }));
    expect(restarted.stateHash()).toBe(liveState);
    expect(restarted.eventHash).toBe(liveEvents);
    await restarted.close();
  });

  it("replays from the start past an engine snapshot of an earlier version (client order ids one by one), to the live hashes", async () => {
    const { dir, snapshots, live } = await tradedShard(13, 800);
    const liveEvents = live.eventHash;
    const liveState = live.stateHash();
    const current = snapshotOf(live.engine);
    const version1 = {
      ...current,
      version: 1,
      accounts: current.accounts.map((row) => ({ ...row, clientOrderIds: [...(live.engine.accounts.get(row.id)?.clientOrderIds ?? [])] })),
    };
    expect(version1.accounts.some((row) => row.clientOrderIds.length > 50)).toBe(true);
    const legacy = { seq: live.seq, eventHash: liveEvents, lastTsUs: 0, engine: JSON.stringify(version1) };
    await snapshots.save(live.seq, new TextEncoder().encode(JSON.stringify(legacy)));
    const seq = live.seq;
    await live.close();

    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (message: string) => warnings.push(message), error: () => undefined };
    const restarted = await Shard.open({ log: await openFileJournal({ dir: join(dir, "journal") }), snapshots: await openSnapshotStore({ dir: join(dir, "snapshots") }), clock: new ManualClock(), logger });
    expect(warnings.some((w) => w.includes("earlier engine snapshot version"))).toBe(true);
    expect(restarted.seq).toBe(seq);
    expect(restarted.stateHash()).toBe(liveState);
    expect(restarted.eventHash).toBe(liveEvents);
    // Every id used today is still refused, and a new one taken.
    const used = version1.accounts.find((row) => row.clientOrderIds.length > 0);
    const usedId = used?.clientOrderIds[0];
    expect(usedId).toBeDefined();
    const again = await restarted.submit({ ...fixtures.limit(used?.id ?? 0, "buy", 9_000, 1), clientOrderId: usedId ?? "" });
    expect(again.events[0]).toMatchObject({ type: "CommandRejected", reason: "duplicate_client_order_id" });
    const fresh = await restarted.submit({ ...fixtures.limit(used?.id ?? 0, "buy", 9_000, 1), clientOrderId: "after-restart-1" });
    expect(fresh.events[0]).toMatchObject({ type: "OrderAccepted" });
    await restarted.close();
  });
});

