// Snapshot store: newest-valid loading with fallback, retention, limits, crash leftovers.

import { readdir, readFile, rename, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  decodeSnapshot,
  encodeSnapshotHeader,
  openSnapshotStore,
  snapshotBytesMaxCeiling,
  snapshotFileName,
  snapshotHeaderBytes,
  snapshotsKeptDefault,
  snapshotsKeptMax,
  type SnapshotStoreOptions,
} from "./snapshot-store.ts";
import { CapturingLogger, makeTempDir, removeDir } from "./test-support.ts";

let dir: string;
let logger: CapturingLogger;

beforeEach(async () => {
  dir = await makeTempDir();
  logger = new CapturingLogger();
});

afterEach(async () => {
  await removeDir(dir);
});

function open(options: Partial<SnapshotStoreOptions> = {}): ReturnType<typeof openSnapshotStore> {
  return openSnapshotStore({ dir, logger, ...options });
}

function state(seq: number, length = 64): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (seq * 13 + i) & 0xff);
}

async function snapshotNames(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith("snapshot-")).sort();
}

async function flipByte(name: string, offset: number): Promise<void> {
  const bytes = await readFile(join(dir, name));
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  await writeFile(join(dir, name), bytes);
}

describe("snapshot store", () => {
  it("returns null when there is no snapshot, creating the directory", async () => {
    const store = await openSnapshotStore({ dir: join(dir, "a", "b"), logger });
    expect(await store.loadLatest()).toBeNull();
  });

  it("saves and loads the newest snapshot by seq", async () => {
    const store = await open();
    await store.save(100, state(100));
    await store.save(250, state(250));
    await store.save(180, state(180));
    const latest = await store.loadLatest();
    expect(latest?.seq).toBe(250);
    expect(latest?.state).toEqual(state(250));
    expect(await snapshotNames()).toEqual([snapshotFileName(100), snapshotFileName(180), snapshotFileName(250)]);
    expect(snapshotFileName(250)).toBe("snapshot-00000000000000000250.bin");
  });

  it("stores an empty state and seq 0", async () => {
    const store = await open();
    await store.save(0, new Uint8Array(0));
    expect(await store.loadLatest()).toEqual({ seq: 0, state: new Uint8Array(0) });
  });

  it("falls back to an older snapshot when the newest is corrupt, and logs which file", async () => {
    const store = await open();
    await store.save(10, state(10));
    await store.save(20, state(20));
    await flipByte(snapshotFileName(20), snapshotHeaderBytes + 5);
    const latest = await store.loadLatest();
    expect(latest?.seq).toBe(10);
    expect(latest?.state).toEqual(state(10));
    const logged = logger.at("error").find((entry) => entry.fields["file"] === join(dir, snapshotFileName(20)));
    expect(logged?.fields["reason"]).toBe("checksum mismatch");
  });

  it("skips truncated, misnamed and foreign files, returning null when none is valid", async () => {
    const store = await open();
    await store.save(5, state(5));
    await store.save(6, state(6));
    await store.save(7, state(7));
    await truncate(join(dir, snapshotFileName(7)), snapshotHeaderBytes + 3);
    await rename(join(dir, snapshotFileName(6)), join(dir, snapshotFileName(66)));
    await writeFile(join(dir, snapshotFileName(5)), "not a snapshot at all, just text");
    expect(await store.loadLatest()).toBeNull();
    const reasons = logger.at("error").map((entry) => entry.fields["reason"]);
    expect(reasons).toEqual([
      "header seq 6 does not match the file name",
      "header says 64 state bytes, file holds 3",
      "bad magic",
    ]);
  });

  it("keeps the newest snapshotsKept (default 3) and deletes older ones", async () => {
    expect(snapshotsKeptDefault).toBe(3);
    const store = await open();
    for (const seq of [1, 2, 3, 4, 5]) await store.save(seq, state(seq));
    expect(await snapshotNames()).toEqual([3, 4, 5].map(snapshotFileName));
    const keepOne = await open({ snapshotsKept: 1 });
    await keepOne.save(6, state(6));
    expect(await snapshotNames()).toEqual([snapshotFileName(6)]);
  });

  it("accepts snapshotsKept from 1 to snapshotsKeptMax, and nothing outside", async () => {
    await expect(open({ snapshotsKept: 1 })).resolves.toBeDefined();
    await expect(open({ snapshotsKept: snapshotsKeptMax })).resolves.toBeDefined();
    await expect(open({ snapshotsKept: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(open({ snapshotsKept: snapshotsKeptMax + 1 })).rejects.toBeInstanceOf(RangeError);
  });

  it("keeps snapshotsKeptMax snapshots at that limit", async () => {
    const store = await open({ snapshotsKept: snapshotsKeptMax });
    for (let seq = 1; seq <= snapshotsKeptMax + 1; seq++) await store.save(seq, state(seq, 1));
    const names = await snapshotNames();
    expect(names.length).toBe(snapshotsKeptMax);
    expect(names[0]).toBe(snapshotFileName(2));
  });

  it("stores a state of exactly snapshotBytesMax bytes and refuses one byte more", async () => {
    const store = await open({ snapshotBytesMax: 1000 });
    await store.save(1, state(1, 1000));
    await expect(store.save(2, state(2, 1001))).rejects.toBeInstanceOf(RangeError);
    expect((await store.loadLatest())?.seq).toBe(1);
    await expect(open({ snapshotBytesMax: snapshotBytesMaxCeiling })).resolves.toBeDefined();
    await expect(open({ snapshotBytesMax: snapshotBytesMaxCeiling + 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(open({ snapshotBytesMax: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it("rejects a negative or fractional seq", async () => {
    const store = await open();
    await expect(store.save(-1, state(1))).rejects.toBeInstanceOf(RangeError);
    await expect(store.save(1.5, state(1))).rejects.toBeInstanceOf(RangeError);
  });

  it("serialises concurrent saves and leaves no temp file", async () => {
    const store = await open({ snapshotsKept: 10 });
    await Promise.all([1, 2, 3, 4].map((seq) => store.save(seq, state(seq, 4096))));
    expect(await snapshotNames()).toEqual([1, 2, 3, 4].map(snapshotFileName));
    expect((await store.loadLatest())?.seq).toBe(4);
  });

  it("removes a temp file left by a crash mid-save, never loading it", async () => {
    await writeFile(join(dir, `${snapshotFileName(9)}.tmp`), "half written");
    const store = await open();
    expect(await readdir(dir)).toEqual([]);
    expect(await store.loadLatest()).toBeNull();
  });

  it("writes the documented header: magic, version, crc, seq, length", () => {
    const body = state(3, 10);
    const header = encodeSnapshotHeader(0x0102030405, body);
    expect(new TextDecoder().decode(header.subarray(0, 8))).toBe("TSSNAPSH");
    expect([...header.subarray(8, 12)]).toEqual([1, 0, 0, 0]);
    expect([...header.subarray(16, 24)]).toEqual([5, 4, 3, 2, 1, 0, 0, 0]);
    expect([...header.subarray(24, 32)]).toEqual([10, 0, 0, 0, 0, 0, 0, 0]);
    const file = new Uint8Array(snapshotHeaderBytes + body.length);
    file.set(header);
    file.set(body, snapshotHeaderBytes);
    expect(decodeSnapshot(file, 0x0102030405)).toEqual({ seq: 0x0102030405, state: body });
    file[12] = (file[12] ?? 0) ^ 1;
    expect(decodeSnapshot(file, 0x0102030405)).toEqual({ problem: "checksum mismatch" });
  });
  it("checksums a state of several mebibytes a piece per turn, to the header a whole-state checksum gives", async () => {
    // 3 MiB and a few bytes: three whole pieces and a short one.
    const body = state(11, 3 * 1_048_576 + 7);
    const store = await open();
    await store.save(42, body);
    const file = new Uint8Array(await readFile(join(dir, snapshotFileName(42))));
    expect([...file.subarray(0, snapshotHeaderBytes)]).toEqual([...encodeSnapshotHeader(42, body)]);
    const loaded = await store.loadLatest();
    expect(loaded?.seq).toBe(42);
    expect(Buffer.compare(Buffer.from(loaded?.state ?? new Uint8Array()), Buffer.from(body))).toBe(0);
  });
});
