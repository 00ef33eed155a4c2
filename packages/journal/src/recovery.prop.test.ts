// Property tests for recovery: wherever a crash cuts the last segment, and wherever a
// single byte is damaged, recovery either keeps exactly the intact prefix or refuses
// to start at the damaged record; it never returns a wrong record.

import fc from "fast-check";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JournalCorruptError } from "./errors.ts";
import { openFileJournal } from "./file-journal.ts";
import { encodeFrame, frameBytes } from "./framing.ts";
import { CapturingLogger, makeTempDir, payloadFor, payloadMatches, removeDir, replayAll } from "./test-support.ts";

let root: string;
let runs = 0;

beforeAll(async () => {
  root = await makeTempDir();
});

afterAll(async () => {
  await removeDir(root);
});

const segmentName = "00000000000000000001.seg";

/** A segment holding records 1..lengths.length with the given payload lengths, and each frame's offset. */
function buildSegment(lengths: number[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  const bytes = new Uint8Array(lengths.reduce((sum, length) => sum + frameBytes(length), 0));
  let offset = 0;
  lengths.forEach((length, index) => {
    offsets.push(offset);
    offset = encodeFrame(bytes, offset, index + 1, payloadFor(index + 1, length));
  });
  return { bytes, offsets };
}

async function freshDir(bytes: Uint8Array): Promise<string> {
  const dir = join(root, `run-${String(runs++)}`);
  await mkdir(dir);
  await writeFile(join(dir, segmentName), bytes);
  return dir;
}

const lengthsArbitrary = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 25 });

describe("recovery properties", () => {
  it("keeps exactly the records wholly before any cut point, and appends after them", async () => {
    await fc.assert(
      fc.asyncProperty(lengthsArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), async (lengths, fraction) => {
        const { bytes, offsets } = buildSegment(lengths);
        const cut = Math.floor(fraction * bytes.length);
        const dir = await freshDir(bytes.subarray(0, cut));
        const expectedLast = offsets.filter((offset, index) => offset + frameBytes(lengths[index] ?? 0) <= cut).length;
        const journal = await openFileJournal({ dir, logger: new CapturingLogger() });
        try {
          expect(journal.lastSeq).toBe(expectedLast);
          const records = await replayAll(journal);
          expect(records.map((r) => r.seq)).toEqual(Array.from({ length: expectedLast }, (_, i) => i + 1));
          expect(records.every(({ seq, record }) => payloadMatches(seq, record) && record.length === lengths[seq - 1])).toBe(true);
          expect(journal.append(payloadFor(expectedLast + 1))).toBe(expectedLast + 1);
          await journal.waitDurable(expectedLast + 1);
        } finally {
          await journal.close();
          await removeDir(dir);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("truncates only a damaged last record, and refuses to start for damage anywhere before it", async () => {
    await fc.assert(
      fc.asyncProperty(lengthsArbitrary, fc.nat(), fc.integer({ min: 1, max: 255 }), async (lengths, position, mask) => {
        const { bytes, offsets } = buildSegment(lengths);
        const index = position % bytes.length;
        bytes[index] = (bytes[index] ?? 0) ^ mask;
        const damagedRecord = offsets.filter((offset) => offset <= index).length - 1;
        const dir = await freshDir(bytes);
        try {
          const outcome = await openFileJournal({ dir, logger: new CapturingLogger() }).then(
            async (journal) => {
              const lastSeq = journal.lastSeq;
              const records = await replayAll(journal);
              await journal.close();
              return { lastSeq, records };
            },
            (error: unknown) => error,
          );
          if (damagedRecord === lengths.length - 1) {
            expect(outcome).toMatchObject({ lastSeq: lengths.length - 1 });
          } else {
            expect(outcome).toBeInstanceOf(JournalCorruptError);
            expect(outcome).toMatchObject({ offset: offsets[damagedRecord] });
          }
        } finally {
          await removeDir(dir);
        }
      }),
      { numRuns: 80 },
    );
  });

  it("leaves the file readable and unchanged when nothing is damaged", async () => {
    const { bytes } = buildSegment([5, 17, 300]);
    const dir = await freshDir(bytes);
    const journal = await openFileJournal({ dir, logger: new CapturingLogger() });
    await journal.close();
    expect(new Uint8Array(await readFile(join(dir, segmentName)))).toEqual(bytes);
    await removeDir(dir);
  });
});
