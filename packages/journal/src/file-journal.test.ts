// File journal behaviour: numbering, group commit, the durability contract (checked by
// holding fdatasync back), crash-only failure, close, and every limit at and past it.

import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JournalBacklogFullError, JournalClosedError, JournalFailedError } from "./errors.ts";
import {
  backlogBytesMaxCeiling,
  backlogBytesMaxFloor,
  groupCommitBytesMax,
  groupCommitRecordsMax,
  openFileJournal,
  segmentBytesMaxCeiling,
  segmentBytesMaxFloor,
  type FileJournal,
  type FileJournalOptions,
} from "./file-journal.ts";
import { frameBytes, frameBytesMax, recordBytesMax, recordHeaderBytes } from "./framing.ts";
import {
  CapturingLogger,
  ControlledIo,
  ioError,
  makeTempDir,
  payloadFor,
  payloadMatches,
  removeDir,
  replayAll,
  segmentFiles,
} from "./test-support.ts";

let dir: string;
let logger: CapturingLogger;
const opened: FileJournal[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
  logger = new CapturingLogger();
});

afterEach(async () => {
  // Journals a test left open (or failed) are closed so no descriptor outlives it.
  for (const journal of opened.splice(0)) await journal.close().catch(() => undefined);
  await removeDir(dir);
});

async function open(options: Partial<FileJournalOptions> = {}): Promise<FileJournal> {
  const journal = await openFileJournal({ dir, logger, ...options });
  opened.push(journal);
  return journal;
}

function appendSeqs(journal: FileJournal, count: number): number {
  let last = 0;
  for (let i = 0; i < count; i++) last = journal.append(payloadFor(journal.lastSeq + 1));
  return last;
}

describe("file journal: append, durability, replay", () => {
  it("creates the directory and a first segment, starting empty", async () => {
    const nested = join(dir, "nested", "journal");
    const journal = await open({ dir: nested });
    expect(journal.lastSeq).toBe(0);
    expect(journal.durableSeq).toBe(0);
    expect(await segmentFiles(nested)).toEqual(["00000000000000000001.seg"]);
  });

  it("numbers records 1, 2, 3… and replays them byte for byte once durable", async () => {
    const journal = await open();
    const seqs = Array.from({ length: 500 }, (_, i) => journal.append(payloadFor(i + 1)));
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(journal.lastSeq).toBe(500);
    await journal.waitDurable(500);
    expect(journal.durableSeq).toBe(500);
    const records = await replayAll(journal);
    expect(records.map((r) => r.seq)).toEqual(seqs);
    for (const { seq, record } of records) expect(payloadMatches(seq, record)).toBe(true);
  });

  it("copies the record on append, so the caller may reuse its buffer", async () => {
    const journal = await open();
    const buffer = new Uint8Array([1, 2, 3]);
    journal.append(buffer);
    buffer.fill(9);
    journal.append(buffer);
    await journal.waitDurable(2);
    const records = await replayAll(journal);
    expect(records.map((r) => [...r.record])).toEqual([
      [1, 2, 3],
      [9, 9, 9],
    ]);
  });

  it("writes everything appended in one tick as one batch with one fdatasync", async () => {
    const journal = await open();
    appendSeqs(journal, 1000);
    await journal.waitDurable(1000);
    expect(journal.stats.batches).toBe(1);
    expect(journal.stats.fsyncs).toBe(1);
    expect(journal.stats.records).toBe(1000);
    expect(journal.stats.bytes).toBe(Array.from({ length: 1000 }, (_, i) => frameBytes(payloadFor(i + 1).length)).reduce((a, b) => a + b));
  });

  it("reports nothing durable before the batch's fdatasync has completed", async () => {
    const io = new ControlledIo();
    io.holdSyncs = true;
    const journal = await open({ io });
    const seen: number[] = [];
    journal.onDurable((seq) => seen.push(seq));
    appendSeqs(journal, 10);
    let resolved = false;
    const waiting = journal.waitDurable(10).then(() => {
      resolved = true;
    });
    await vi.waitFor(() => expect(io.held.length).toBe(1));
    // The bytes are written but not yet synced: nothing may be acknowledged.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(io.writeCalls).toBe(1);
    expect(journal.durableSeq).toBe(0);
    expect(resolved).toBe(false);
    expect(seen).toEqual([]);
    io.releaseHeld();
    await waiting;
    expect(journal.durableSeq).toBe(10);
    expect(seen).toEqual([10]);
    expect(journal.stats.fsyncs).toBe(1);
  });

  it("pipelines: appends during an in-flight sync form the next batch, never two syncs at once", async () => {
    const io = new ControlledIo();
    io.holdSyncs = true;
    const journal = await open({ io });
    appendSeqs(journal, 5);
    await vi.waitFor(() => expect(io.held.length).toBe(1));
    appendSeqs(journal, 7);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(io.dataSyncCalls).toBe(1);
    io.releaseHeld();
    await vi.waitFor(() => expect(io.held.length).toBe(1));
    expect(journal.durableSeq).toBe(5);
    io.holdSyncs = false;
    io.releaseHeld();
    await journal.waitDurable(12);
    expect(journal.stats.batches).toBe(2);
    expect(io.dataSyncsInFlightMax).toBe(1);
  });

  it("calls onDurable listeners in order with strictly increasing seqs, and unsubscribes", async () => {
    const journal = await open();
    const first: number[] = [];
    const second: number[] = [];
    journal.onDurable((seq) => first.push(seq));
    const unsubscribe = journal.onDurable((seq) => second.push(seq));
    for (let round = 1; round <= 5; round++) {
      appendSeqs(journal, round * 3);
      await journal.waitDurable(journal.lastSeq);
      if (round === 2) unsubscribe();
    }
    expect(first.length).toBeGreaterThanOrEqual(5);
    expect(first.every((seq, i) => i === 0 || seq > (first[i - 1] ?? 0))).toBe(true);
    expect(first.at(-1)).toBe(journal.lastSeq);
    expect(second).toEqual(first.slice(0, second.length));
    expect(second.at(-1)).toBe(3 + 6);
  });

  it("lets an onDurable listener append, and makes those records durable too", async () => {
    const journal = await open();
    journal.onDurable((seq) => {
      if (seq < 5) journal.append(payloadFor(seq + 1));
    });
    journal.append(payloadFor(1));
    await new Promise<void>((resolve) => {
      journal.onDurable((seq) => {
        if (seq === 5) resolve();
      });
    });
    expect(journal.durableSeq).toBe(5);
    expect(journal.stats.batches).toBe(5);
  });

  it("keeps notifying other listeners when one throws, and logs it", async () => {
    const journal = await open();
    const seen: number[] = [];
    journal.onDurable(() => {
      throw new Error("listener bug");
    });
    journal.onDurable((seq) => seen.push(seq));
    appendSeqs(journal, 3);
    await journal.waitDurable(3);
    expect(seen).toEqual([3]);
    expect(logger.at("error").some((entry) => entry.msg.includes("listener threw"))).toBe(true);
  });

  it("resolves waits in any registration order, and at once for seqs already durable", async () => {
    const journal = await open();
    appendSeqs(journal, 30);
    const order: number[] = [];
    await Promise.all([30, 10, 20, 0].map((seq) => journal.waitDurable(seq).then(() => order.push(seq))));
    expect(order.sort((a, b) => a - b)).toEqual([0, 10, 20, 30]);
    await expect(journal.waitDurable(30)).resolves.toBeUndefined();
  });

  it("rejects a wait for a seq not yet appended or not an integer", async () => {
    const journal = await open();
    appendSeqs(journal, 2);
    await expect(journal.waitDurable(3)).rejects.toBeInstanceOf(RangeError);
    await expect(journal.waitDurable(-1)).rejects.toBeInstanceOf(RangeError);
    await expect(journal.waitDurable(1.5)).rejects.toBeInstanceOf(RangeError);
  });

  it("replays from any seq, only what is durable, across segments", async () => {
    const journal = await open({ segmentBytesMax: segmentBytesMaxFloor });
    const big = recordBytesMax / 4;
    for (let seq = 1; seq <= 12; seq++) journal.append(payloadFor(seq, big));
    await journal.waitDurable(12);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    const fromSeven = await replayAll(journal, 7);
    expect(fromSeven.map((r) => r.seq)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(fromSeven.every(({ seq, record }) => record.length === big && record[0] === (seq & 0xff))).toBe(true);
    expect(await journal.replay(100, () => undefined)).toBe(99);
    await expect(journal.replay(0, () => undefined)).rejects.toBeInstanceOf(RangeError);
  });

  it("replays only records that are durable", async () => {
    const io = new ControlledIo();
    const journal = await open({ io });
    appendSeqs(journal, 4);
    await journal.waitDurable(4);
    io.holdSyncs = true;
    appendSeqs(journal, 3);
    await vi.waitFor(() => expect(io.held.length).toBe(1));
    const records = await replayAll(journal);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(await journal.replay(5, () => undefined)).toBe(4);
    io.holdSyncs = false;
    io.releaseHeld();
    await journal.waitDurable(7);
    expect((await replayAll(journal, 5)).map((r) => r.seq)).toEqual([5, 6, 7]);
  });

  it("continues the sequence across close and reopen", async () => {
    const first = await open();
    appendSeqs(first, 100);
    await first.close();
    const second = await open();
    expect(second.lastSeq).toBe(100);
    expect(second.durableSeq).toBe(100);
    expect(second.append(payloadFor(101))).toBe(101);
    await second.close();
    const third = await open();
    const records = await replayAll(third);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    expect(records.every(({ seq, record }) => payloadMatches(seq, record))).toBe(true);
  });
});

describe("file journal: one writer per directory", () => {
  it("refuses a second open of the same directory until the first is closed", async () => {
    const first = await open();
    await expect(open({ dir: join(dir, ".", "") })).rejects.toThrow(/already open/);
    await first.close();
    const second = await open();
    expect(second.lastSeq).toBe(0);
  });
});

describe("file journal: close", () => {
  it("flushes records still buffered, then refuses appends and waits", async () => {
    const journal = await open();
    appendSeqs(journal, 50);
    const pending = journal.waitDurable(50);
    await journal.close();
    await expect(pending).resolves.toBeUndefined();
    expect(journal.durableSeq).toBe(50);
    expect(() => journal.append(payloadFor(51))).toThrow(JournalClosedError);
    await expect(journal.waitDurable(50)).rejects.toBeInstanceOf(JournalClosedError);
    await expect(journal.replay(1, () => undefined)).rejects.toBeInstanceOf(JournalClosedError);
    await expect(journal.close()).resolves.toBeUndefined();
    const reopened = await open();
    expect(reopened.lastSeq).toBe(50);
  });
});

describe("file journal: I/O failure is crash-only", () => {
  it("fails the log when fdatasync fails: waits reject, appends throw, nothing is reported durable", async () => {
    const io = new ControlledIo();
    const journal = await open({ io });
    appendSeqs(journal, 3);
    await journal.waitDurable(3);
    const seen: number[] = [];
    journal.onDurable((seq) => seen.push(seq));
    io.failSyncsWith = ioError("EIO");
    appendSeqs(journal, 4);
    const pending = journal.waitDurable(7);
    await expect(pending).rejects.toBeInstanceOf(JournalFailedError);
    await expect(pending).rejects.toMatchObject({ cause: { code: "EIO" } });
    expect(journal.durableSeq).toBe(3);
    expect(seen).toEqual([]);
    expect(() => journal.append(payloadFor(8))).toThrow(JournalFailedError);
    await expect(journal.waitDurable(3)).rejects.toBeInstanceOf(JournalFailedError);
    await expect(journal.replay(1, () => undefined)).rejects.toBeInstanceOf(JournalFailedError);
    await expect(journal.close()).rejects.toBeInstanceOf(JournalFailedError);
    expect(logger.at("error").some((entry) => entry.msg === "journal failed" && entry.fields["operation"] === "fdatasync")).toBe(true);
  });

  it("fails the log when the directory fsync of a new segment fails, before acknowledging its records", async () => {
    const io = new ControlledIo();
    io.failDirectorySyncsWith = ioError("EIO");
    const journal = await open({ io, segmentBytesMax: segmentBytesMaxFloor });
    journal.append(new Uint8Array(recordBytesMax));
    await journal.waitDurable(1);
    journal.append(new Uint8Array(1));
    await expect(journal.waitDurable(2)).rejects.toMatchObject({ name: "JournalFailedError", cause: { code: "EIO" } });
    expect(journal.durableSeq).toBe(1);
  });

  it("fails the log when the write fails", async () => {
    const io = new ControlledIo();
    io.failWritesWith = ioError("ENOSPC");
    const journal = await open({ io });
    appendSeqs(journal, 2);
    await expect(journal.waitDurable(2)).rejects.toMatchObject({ name: "JournalFailedError", cause: { code: "ENOSPC" } });
    expect(journal.durableSeq).toBe(0);
    expect(io.dataSyncCalls).toBe(0);
  });

  it("keeps every acknowledged record readable after the failure, on reopen", async () => {
    const io = new ControlledIo();
    const journal = await open({ io });
    appendSeqs(journal, 20);
    await journal.waitDurable(20);
    io.failSyncsWith = ioError("EIO");
    appendSeqs(journal, 5);
    await expect(journal.waitDurable(25)).rejects.toBeInstanceOf(JournalFailedError);
    const reopened = await open();
    // The 5 unacknowledged records reached the page cache, so they may survive; the
    // 20 acknowledged ones must.
    expect(reopened.lastSeq).toBeGreaterThanOrEqual(20);
    const records = await replayAll(reopened);
    expect(records.every(({ seq, record }) => payloadMatches(seq, record))).toBe(true);
  });
});

describe("file journal: limits", () => {
  it("accepts a record of recordBytesMax bytes and refuses one byte more, or an empty one", async () => {
    const journal = await open();
    expect(journal.append(new Uint8Array(recordBytesMax))).toBe(1);
    expect(() => journal.append(new Uint8Array(recordBytesMax + 1))).toThrow(RangeError);
    expect(() => journal.append(new Uint8Array(0))).toThrow(RangeError);
    expect(journal.lastSeq).toBe(1);
    await journal.waitDurable(1);
    const records = await replayAll(journal);
    expect(records[0]?.record.length).toBe(recordBytesMax);
  });

  it("fills a segment exactly to segmentBytesMax, and rolls over before exceeding it", async () => {
    const segmentBytesMax = segmentBytesMaxFloor;
    const journal = await open({ segmentBytesMax });
    const smallFrame = frameBytes(1);
    journal.append(new Uint8Array(segmentBytesMax - smallFrame - recordHeaderBytes));
    journal.append(new Uint8Array(1));
    await journal.waitDurable(2);
    expect(await segmentFiles(dir)).toEqual(["00000000000000000001.seg"]);
    expect((await stat(join(dir, "00000000000000000001.seg"))).size).toBe(segmentBytesMax);
    journal.append(new Uint8Array(1));
    await journal.waitDurable(3);
    expect(await segmentFiles(dir)).toEqual(["00000000000000000001.seg", "00000000000000000003.seg"]);
    expect(journal.stats.segmentsCreated).toBe(1);
    expect(journal.stats.directoryFsyncs).toBe(1);
  });

  it("rolls over when a record would overshoot segmentBytesMax by one byte", async () => {
    const segmentBytesMax = segmentBytesMaxFloor;
    const journal = await open({ segmentBytesMax });
    journal.append(new Uint8Array(segmentBytesMax - frameBytes(1) - recordHeaderBytes + 1));
    journal.append(new Uint8Array(1));
    await journal.waitDurable(2);
    expect(await segmentFiles(dir)).toEqual(["00000000000000000001.seg", "00000000000000000002.seg"]);
    expect((await stat(join(dir, "00000000000000000001.seg"))).size).toBe(segmentBytesMax - frameBytes(1) + 1);
    const records = await replayAll(journal);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
  });

  it("accepts segmentBytesMax from its floor to its ceiling, and nothing outside", async () => {
    expect(segmentBytesMaxFloor).toBe(frameBytesMax);
    await (await open({ segmentBytesMax: segmentBytesMaxFloor })).close();
    await (await open({ segmentBytesMax: segmentBytesMaxCeiling })).close();
    await expect(open({ segmentBytesMax: segmentBytesMaxFloor - 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(open({ segmentBytesMax: segmentBytesMaxCeiling + 1 })).rejects.toBeInstanceOf(RangeError);
  });

  it("puts groupCommitRecordsMax records in one batch and cuts a new batch for one more", async () => {
    const atLimit = await open();
    for (let i = 0; i < groupCommitRecordsMax; i++) atLimit.append(new Uint8Array(1));
    await atLimit.waitDurable(groupCommitRecordsMax);
    expect(atLimit.stats.batches).toBe(1);
    for (let i = 0; i < groupCommitRecordsMax + 1; i++) atLimit.append(new Uint8Array(1));
    await atLimit.waitDurable(2 * groupCommitRecordsMax + 1);
    expect(atLimit.stats.batches).toBe(3);
  });

  it("puts groupCommitBytesMax bytes in one batch and cuts a new batch for one byte more", async () => {
    const journal = await open();
    const framesPerBatch = 8;
    const payloadBytes = groupCommitBytesMax / framesPerBatch - recordHeaderBytes;
    for (let i = 0; i < framesPerBatch; i++) journal.append(new Uint8Array(payloadBytes));
    await journal.waitDurable(framesPerBatch);
    expect(journal.stats.batches).toBe(1);
    expect(journal.stats.bytes).toBe(groupCommitBytesMax);
    for (let i = 0; i < framesPerBatch - 1; i++) journal.append(new Uint8Array(payloadBytes));
    journal.append(new Uint8Array(payloadBytes + 1));
    await journal.waitDurable(2 * framesPerBatch);
    expect(journal.stats.batches).toBe(3);
  });

  it("accepts appends up to backlogBytesMax not yet durable, refuses one byte more, and recovers", async () => {
    const journal = await open({ backlogBytesMax: backlogBytesMaxFloor });
    journal.append(new Uint8Array(recordBytesMax));
    expect(() => journal.append(new Uint8Array(1))).toThrow(JournalBacklogFullError);
    expect(journal.lastSeq).toBe(1);
    await journal.waitDurable(1);
    expect(journal.append(new Uint8Array(1))).toBe(2);
    await journal.waitDurable(2);
  });

  it("accepts backlogBytesMax from its floor to its ceiling, and nothing outside", async () => {
    await (await open({ backlogBytesMax: backlogBytesMaxFloor })).close();
    await (await open({ backlogBytesMax: backlogBytesMaxCeiling })).close();
    await expect(open({ backlogBytesMax: backlogBytesMaxFloor - 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(open({ backlogBytesMax: backlogBytesMaxCeiling + 1 })).rejects.toBeInstanceOf(RangeError);
  });
});
