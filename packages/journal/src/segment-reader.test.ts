// Streaming segment reader: frames straddling chunk boundaries, early stop, and corruption
// reported at the right file offset.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JournalCorruptError } from "./errors.ts";
import { encodeFrame, frameBytes, recordBytesMax } from "./framing.ts";
import { readSegmentFrames, replayChunkBytes } from "./segment-reader.ts";
import { makeTempDir, payloadFor, payloadMatches, removeDir } from "./test-support.ts";

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await removeDir(dir);
});

/** Writes a segment with the given payload lengths; returns its path, size and frame offsets. */
async function writeSegment(lengths: number[]): Promise<{ path: string; size: number; offsets: number[] }> {
  const bytes = new Uint8Array(lengths.reduce((sum, length) => sum + frameBytes(length), 0));
  const offsets: number[] = [];
  let offset = 0;
  lengths.forEach((length, index) => {
    offsets.push(offset);
    offset = encodeFrame(bytes, offset, index + 1, payloadFor(index + 1, length));
  });
  const path = join(dir, "00000000000000000001.seg");
  await writeFile(path, bytes);
  return { path, size: bytes.length, offsets };
}

async function readAll(path: string, length: number, untilSeq = Number.MAX_SAFE_INTEGER): Promise<{ seq: number; record: Uint8Array }[]> {
  const records: { seq: number; record: Uint8Array }[] = [];
  await readSegmentFrames({
    path,
    length,
    firstSeq: 1,
    untilSeq,
    onFrame: (seq, bytes, start, end) => records.push({ seq, record: bytes.subarray(start, end) }),
  });
  return records;
}

// Sizes chosen so frames straddle several chunk boundaries, including a largest record.
const lengths = [...Array.from({ length: 5 }, () => recordBytesMax), ...Array.from({ length: 20_000 }, (_, i) => 1 + ((i * 37) % 300)), recordBytesMax, 5];

describe("segment reader", () => {
  it("delivers every frame intact across chunk boundaries, as views that stay valid", async () => {
    const { path, size } = await writeSegment(lengths);
    expect(size).toBeGreaterThan(2 * replayChunkBytes);
    const records = await readAll(path, size);
    expect(records.length).toBe(lengths.length);
    records.forEach(({ seq, record }) => {
      expect(record.length).toBe(lengths[seq - 1]);
      expect(payloadMatches(seq, record)).toBe(true);
    });
  });

  it("stops after untilSeq and reads nothing past the durable length", async () => {
    const { path, offsets } = await writeSegment(lengths);
    expect((await readAll(path, offsets[10] ?? 0)).length).toBe(10);
    expect((await readAll(path, offsets[4000] ?? 0, 7)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("throws JournalCorruptError with the file offset of a damaged frame in a later chunk", async () => {
    const { path, size, offsets } = await writeSegment(lengths);
    const victim = offsets.findIndex((offset) => offset > replayChunkBytes + 1000);
    const victimOffset = offsets[victim] ?? 0;
    const bytes = await readFile(path);
    bytes[victimOffset + 16] = (bytes[victimOffset + 16] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const error: unknown = await readAll(path, size).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(JournalCorruptError);
    expect(error).toMatchObject({ file: path, offset: victimOffset });
  });

  it("throws when the file is shorter than its durable length says", async () => {
    const { path, size } = await writeSegment([10, 20, 30]);
    await expect(readAll(path, size + 5)).rejects.toBeInstanceOf(JournalCorruptError);
    await expect(readAll(path, size - 5)).rejects.toBeInstanceOf(JournalCorruptError);
  });
});
