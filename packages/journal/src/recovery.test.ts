// Recovery on open: a torn tail is truncated and logged; damage anywhere else refuses
// to start with the file and offset named.

import { appendFile, readFile, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JournalCorruptError } from "./errors.ts";
import { openFileJournal, segmentBytesMaxFloor } from "./file-journal.ts";
import { encodeFrame, frameBytes, readFrameLength, recordBytesMax, recordHeaderBytes } from "./framing.ts";
import { CapturingLogger, makeTempDir, payloadFor, payloadMatches, removeDir, replayAll, segmentFiles } from "./test-support.ts";

let dir: string;
let logger: CapturingLogger;

beforeEach(async () => {
  dir = await makeTempDir();
  logger = new CapturingLogger();
});

afterEach(async () => {
  await removeDir(dir);
});

const firstSegment = "00000000000000000001.seg";

/** Writes records 1..count through the journal and closes it. */
async function writeJournal(count: number, segmentBytesMax?: number): Promise<void> {
  const journal = await openFileJournal({ dir, logger, ...(segmentBytesMax === undefined ? {} : { segmentBytesMax }) });
  for (let seq = 1; seq <= count; seq++) journal.append(payloadFor(seq, segmentBytesMax === undefined ? undefined : recordBytesMax / 4));
  await journal.close();
}

/** Byte offset of every frame in a segment file, in order. */
async function frameOffsets(file: string): Promise<number[]> {
  const bytes = new Uint8Array(await readFile(join(dir, file)));
  const offsets: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += recordHeaderBytes + readFrameLength(bytes, offset)) offsets.push(offset);
  return offsets;
}

async function flipByte(file: string, offset: number): Promise<void> {
  const path = join(dir, file);
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x5a;
  await writeFile(path, bytes);
}

async function expectAllRecords(count: number): Promise<void> {
  const journal = await openFileJournal({ dir, logger });
  expect(journal.lastSeq).toBe(count);
  expect(journal.durableSeq).toBe(count);
  const records = await replayAll(journal);
  expect(records.map((r) => r.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  expect(records.every(({ seq, record }) => payloadMatches(seq, record))).toBe(true);
  await journal.close();
}

async function openExpectingCorruption(): Promise<JournalCorruptError> {
  const error: unknown = await openFileJournal({ dir, logger }).then(
    () => null,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(JournalCorruptError);
  if (!(error instanceof JournalCorruptError)) throw new Error("expected JournalCorruptError");
  return error;
}

function truncationWarning(): Record<string, unknown> | undefined {
  return logger.at("warn").find((entry) => entry.msg === "journal torn tail truncated")?.fields;
}

describe("recovery: torn tail", () => {
  it("truncates a record cut short mid-payload, logs it, and continues at the right seq", async () => {
    await writeJournal(10);
    const offsets = await frameOffsets(firstSegment);
    const lastOffset = offsets[9] ?? 0;
    const size = (await stat(join(dir, firstSegment))).size;
    await truncate(join(dir, firstSegment), lastOffset + recordHeaderBytes + 3);

    const journal = await openFileJournal({ dir, logger });
    expect(journal.lastSeq).toBe(9);
    expect(journal.durableSeq).toBe(9);
    expect(truncationWarning()).toMatchObject({
      file: join(dir, firstSegment),
      offset: lastOffset,
      bytesDropped: recordHeaderBytes + 3,
      reason: "payload_short",
      lastGoodSeq: 9,
    });
    expect((await stat(join(dir, firstSegment))).size).toBe(lastOffset);
    expect(size).toBeGreaterThan(lastOffset);
    expect(journal.append(payloadFor(10))).toBe(10);
    await journal.close();
    await expectAllRecords(10);
  });

  it("truncates a header cut short", async () => {
    await writeJournal(5);
    const lastOffset = (await frameOffsets(firstSegment))[4] ?? 0;
    await truncate(join(dir, firstSegment), lastOffset + 5);
    await expectAllRecords(4);
    expect(truncationWarning()).toMatchObject({ offset: lastOffset, bytesDropped: 5, reason: "header_short" });
  });

  it("truncates garbage appended after the last record", async () => {
    await writeJournal(8);
    const size = (await stat(join(dir, firstSegment))).size;
    await appendFile(join(dir, firstSegment), Buffer.from("this is not a journal frame, just garbage bytes"));
    await expectAllRecords(8);
    expect(truncationWarning()).toMatchObject({ offset: size, bytesDropped: 47 });
  });

  it("truncates a zero-filled tail (a crash after the file grew but before the data landed)", async () => {
    await writeJournal(8);
    const size = (await stat(join(dir, firstSegment))).size;
    await appendFile(join(dir, firstSegment), new Uint8Array(4096));
    await expectAllRecords(8);
    expect(truncationWarning()).toMatchObject({ offset: size, bytesDropped: 4096, reason: "length_invalid" });
  });

  it("truncates the last record when one of its bytes is flipped", async () => {
    await writeJournal(6);
    const lastOffset = (await frameOffsets(firstSegment))[5] ?? 0;
    await flipByte(firstSegment, lastOffset + recordHeaderBytes + 1);
    await expectAllRecords(5);
    expect(truncationWarning()).toMatchObject({ offset: lastOffset, reason: "checksum_mismatch", lastGoodSeq: 5 });
  });

  it("truncates a torn first record of the last segment, leaving it empty", async () => {
    await writeJournal(6, segmentBytesMaxFloor);
    const files = await segmentFiles(dir);
    expect(files.length).toBe(2);
    const last = files[1] ?? "";
    await truncate(join(dir, last), 10);
    const journal = await openFileJournal({ dir, logger, segmentBytesMax: segmentBytesMaxFloor });
    expect(journal.lastSeq).toBe(3);
    expect(journal.append(payloadFor(4))).toBe(4);
    await journal.close();
    await expectAllRecords(4);
  });

  it("opens silently when nothing is damaged", async () => {
    await writeJournal(3);
    await expectAllRecords(3);
    expect(logger.at("warn")).toEqual([]);
  });
});

describe("recovery: corruption refuses to start", () => {
  it("rejects a flipped byte in an early record, naming the file and offset", async () => {
    await writeJournal(10);
    const offsets = await frameOffsets(firstSegment);
    const badOffset = offsets[3] ?? 0;
    await flipByte(firstSegment, badOffset + recordHeaderBytes + 2);
    const error = await openExpectingCorruption();
    expect(error.file).toBe(join(dir, firstSegment));
    expect(error.offset).toBe(badOffset);
    expect(error.message).toContain(join(dir, firstSegment));
    expect(error.message).toContain(`byte offset ${String(badOffset)}`);
    expect(error.message).toContain("checksum_mismatch at seq 4");
  });

  it("rejects a damaged length field in the middle, though the frames after it can only be found by scanning", async () => {
    await writeJournal(10);
    const badOffset = (await frameOffsets(firstSegment))[2] ?? 0;
    await flipByte(firstSegment, badOffset + 1);
    const error = await openExpectingCorruption();
    expect(error.offset).toBe(badOffset);
    expect(error.message).toContain("followed by a valid record");
  });

  it("rejects several damaged records in a row followed by valid ones", async () => {
    await writeJournal(10);
    const offsets = await frameOffsets(firstSegment);
    for (const index of [4, 5, 6]) await flipByte(firstSegment, (offsets[index] ?? 0) + 1);
    const error = await openExpectingCorruption();
    expect(error.offset).toBe(offsets[4]);
  });

  it("rejects the second-to-last record damaged with the last intact", async () => {
    await writeJournal(10);
    const offsets = await frameOffsets(firstSegment);
    await flipByte(firstSegment, (offsets[8] ?? 0) + recordHeaderBytes);
    const error = await openExpectingCorruption();
    expect(error.offset).toBe(offsets[8]);
  });

  it("rejects any damage in a segment that is not the last, even to its final record", async () => {
    await writeJournal(6, segmentBytesMaxFloor);
    const offsets = await frameOffsets(firstSegment);
    const lastOffset = offsets.at(-1) ?? 0;
    await flipByte(firstSegment, lastOffset + recordHeaderBytes + 100);
    const error = await openExpectingCorruption();
    expect(error.file).toBe(join(dir, firstSegment));
    expect(error.offset).toBe(lastOffset);
    expect(error.message).toContain("not the last");
  });

  it("rejects a segment that is not the last when it ends in a torn record", async () => {
    await writeJournal(6, segmentBytesMaxFloor);
    const size = (await stat(join(dir, firstSegment))).size;
    await truncate(join(dir, firstSegment), size - 1);
    const error = await openExpectingCorruption();
    expect(error.file).toBe(join(dir, firstSegment));
  });

  it("rejects a gap in the sequence between segments", async () => {
    await writeJournal(9, segmentBytesMaxFloor);
    const files = await segmentFiles(dir);
    expect(files).toEqual(["00000000000000000001.seg", "00000000000000000004.seg", "00000000000000000007.seg"]);
    await rm(join(dir, "00000000000000000004.seg"));
    const error = await openExpectingCorruption();
    expect(error.file).toBe(join(dir, "00000000000000000007.seg"));
    expect(error.message).toContain("sequence gap");
  });

  it("rejects a journal whose first segment is missing", async () => {
    await writeJournal(6, segmentBytesMaxFloor);
    await rm(join(dir, firstSegment));
    const error = await openExpectingCorruption();
    expect(error.message).toContain("expected 1");
  });

  it("rejects a valid record in the wrong place (two records swapped)", async () => {
    await writeJournal(4);
    const path = join(dir, firstSegment);
    const bytes = new Uint8Array(await readFile(path));
    const offsets = await frameOffsets(firstSegment);
    const second = bytes.slice(offsets[1], offsets[2]);
    const third = bytes.slice(offsets[2], offsets[3]);
    const swapped = new Uint8Array(bytes.length);
    swapped.set(bytes.subarray(0, offsets[1]));
    swapped.set(third, offsets[1]);
    swapped.set(second, (offsets[1] ?? 0) + third.length);
    swapped.set(bytes.subarray(offsets[3]), offsets[3]);
    await writeFile(path, swapped);
    const error = await openExpectingCorruption();
    expect(error.offset).toBe(offsets[1]);
  });

  it("rejects a valid record carrying a seq other than the next one, even at the tail", async () => {
    await writeJournal(3);
    const stray = new Uint8Array(frameBytes(5));
    encodeFrame(stray, 0, 99, new Uint8Array(5));
    const size = (await stat(join(dir, firstSegment))).size;
    await appendFile(join(dir, firstSegment), stray);
    const error = await openExpectingCorruption();
    expect(error.offset).toBe(size);
    expect(error.message).toContain("carries another seq");
  });

  it("leaves the files untouched when it refuses to start", async () => {
    await writeJournal(10);
    const offsets = await frameOffsets(firstSegment);
    await flipByte(firstSegment, (offsets[2] ?? 0) + recordHeaderBytes);
    const before = await readFile(join(dir, firstSegment));
    await openExpectingCorruption();
    expect((await readFile(join(dir, firstSegment))).equals(before)).toBe(true);
  });
});

describe("recovery: directory contents", () => {
  it("ignores unrelated files and warns about files that look like misnamed segments", async () => {
    await writeJournal(2);
    await writeFile(join(dir, "notes.txt"), "hello");
    await writeFile(join(dir, "backup.seg"), "x");
    await expectAllRecords(2);
    expect(logger.at("warn").some((entry) => entry.fields["file"] === join(dir, "backup.seg"))).toBe(true);
  });

  it("accepts an empty last segment whose name continues the sequence", async () => {
    await writeJournal(3);
    await writeFile(join(dir, "00000000000000000004.seg"), new Uint8Array(0));
    const journal = await openFileJournal({ dir, logger });
    expect(journal.lastSeq).toBe(3);
    expect(journal.append(payloadFor(4))).toBe(4);
    await journal.close();
    await expectAllRecords(4);
  });

  it("rejects a segment renamed away from its first seq", async () => {
    await writeJournal(3);
    await rename(join(dir, firstSegment), join(dir, "00000000000000000002.seg"));
    const error = await openExpectingCorruption();
    expect(error.message).toContain("expected 1");
  });
});
