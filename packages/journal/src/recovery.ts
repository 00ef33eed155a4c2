// Recovery on open: verifies every segment and decides between the two kinds of
// damage a journal can show after a crash.
//
// - A torn tail: the last segment ends in a frame that is short, has an impossible
//   length, or fails its checksum, and no valid frame follows it anywhere in the file.
//   Those bytes were never acknowledged (a batch is acknowledged only after its
//   fdatasync), so they are truncated, loudly logged with file, offset and bytes
//   dropped.
// - Anything else is corruption: a bad frame with a valid one after it, a bad frame
//   in any segment but the last, a frame carrying the wrong seq, or a gap in the
//   seqs between segments. Starting would silently lose or reorder acknowledged
//   commands, so recovery throws JournalCorruptError naming the file and offset.
//
// After recovery every segment holds consecutive, checksum-valid frames from seq 1
// to the returned lastSeq, and the last segment ends exactly after its last frame.

import { promises as fsp } from "node:fs";
import { join } from "node:path";
import type { JournalLogger } from "./command-log.ts";
import { JournalCorruptError } from "./errors.ts";
import { ensureDirectory, fsyncDirectory, parseSegmentFileName, readFileBytes, segmentFileName } from "./files.ts";
import { checkFrame, findValidFrame, readFrameLength, recordHeaderBytes } from "./framing.ts";

/** One segment file; `bytes` counts only complete, durable frames. */
export interface SegmentState {
  readonly firstSeq: number;
  readonly path: string;
  bytes: number;
}

export interface RecoveredJournal {
  readonly segments: SegmentState[];
  readonly lastSeq: number;
}

/** Verifies (and if needed repairs the tail of) the journal in `dir`, creating it when missing. */
export async function recoverJournal(options: { dir: string; logger: JournalLogger }): Promise<RecoveredJournal> {
  const { dir, logger } = options;
  await ensureDirectory(dir);
  const firstSeqs: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    const firstSeq = parseSegmentFileName(name);
    if (firstSeq !== null) firstSeqs.push(firstSeq);
    else if (name.endsWith(".seg")) logger.warn("journal ignores a file that is not named like a segment", { file: join(dir, name) });
  }
  firstSeqs.sort((a, b) => a - b);

  if (firstSeqs.length === 0) {
    const path = join(dir, segmentFileName(1));
    await (await fsp.open(path, "wx")).close();
    await fsyncDirectory(dir);
    logger.info("journal created", { dir, file: path });
    return { segments: [{ firstSeq: 1, path, bytes: 0 }], lastSeq: 0 };
  }

  const segments: SegmentState[] = [];
  let nextSeq = 1;
  for (const [index, firstSeq] of firstSeqs.entries()) {
    const path = join(dir, segmentFileName(firstSeq));
    if (firstSeq !== nextSeq) {
      const reason =
        index === 0
          ? `the first segment starts at seq ${String(firstSeq)}, expected 1`
          : `sequence gap: the previous segment ends at seq ${String(nextSeq - 1)} but this one starts at seq ${String(firstSeq)}`;
      throw new JournalCorruptError({ file: path, offset: 0, reason });
    }
    const isLast = index === firstSeqs.length - 1;
    const verified = await verifySegment({ path, firstSeq, isLast, logger });
    segments.push({ firstSeq, path, bytes: verified.bytes });
    nextSeq = verified.nextSeq;
  }
  return { segments, lastSeq: nextSeq - 1 };
}

async function verifySegment(options: {
  path: string;
  firstSeq: number;
  isLast: boolean;
  logger: JournalLogger;
}): Promise<{ bytes: number; nextSeq: number }> {
  const { path, isLast } = options;
  const bytes = await readFileBytes(path);
  const size = bytes.length;
  let offset = 0;
  let seq = options.firstSeq;
  while (offset < size) {
    const status = checkFrame(bytes, offset, size, seq);
    if (status !== "ok") {
      if (!isLast) {
        throw new JournalCorruptError({ file: path, offset, reason: `${status} at seq ${String(seq)} in a segment that is not the last` });
      }
      if (status === "seq_mismatch") {
        throw new JournalCorruptError({ file: path, offset, reason: `a valid record sits where seq ${String(seq)} belongs but carries another seq` });
      }
      const validAt = findValidFrame(bytes, offset + 1, size);
      if (validAt >= 0) {
        throw new JournalCorruptError({
          file: path,
          offset,
          reason: `${status} at seq ${String(seq)}, followed by a valid record at byte offset ${String(validAt)}`,
        });
      }
      await truncateTail({ path, offset });
      options.logger.warn("journal torn tail truncated", {
        file: path,
        offset,
        bytesDropped: size - offset,
        reason: status,
        lastGoodSeq: seq - 1,
      });
      return { bytes: offset, nextSeq: seq };
    }
    offset += recordHeaderBytes + readFrameLength(bytes, offset);
    seq++;
  }
  return { bytes: offset, nextSeq: seq };
}

async function truncateTail(options: { path: string; offset: number }): Promise<void> {
  const handle = await fsp.open(options.path, "r+");
  try {
    await handle.truncate(options.offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
