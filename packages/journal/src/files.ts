// File-system helpers the journal and the snapshot store share: segment naming,
// whole-file reads and directory fsync. A new file's directory entry is only durable
// once its directory is fsync'd, so every create or rename here is followed by one
// before anything in that file is reported durable.

import fs, { promises as fsp } from "node:fs";
import { dirname } from "node:path";

/** Decimal digits in file names: enough for any u64, so names sort by number. */
export const seqDigits = 20;
const segmentNamePattern = /^(\d{20})\.seg$/;

export function padSeq(seq: number): string {
  return String(seq).padStart(seqDigits, "0");
}

export function segmentFileName(firstSeq: number): string {
  return `${padSeq(firstSeq)}.seg`;
}

/** The first seq a segment file name encodes, or null when the name is not a segment's. */
export function parseSegmentFileName(name: string): number | null {
  const match = segmentNamePattern.exec(name);
  if (match === null) return null;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

/** Makes `dir` durable as a directory entry of its parent, then returns. */
export async function ensureDirectory(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await fsyncDirectory(dirname(dir));
  await fsyncDirectory(dir);
}

/** Opens a file with `flags` and resolves with the raw descriptor the callback fs API uses. */
export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, (error, fd) => (error === null ? resolve(fd) : reject(error)));
  });
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error === null ? resolve() : reject(error)));
  });
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Reads the first `length` bytes of a file (the whole file when omitted) into fresh
 * memory that is never reused, so views into it stay valid. It returns a plain
 * Uint8Array rather than a Buffer: the checksum and framing loops then see a single
 * array type, and `subarray` is the cheap typed-array one.
 */
export async function readFileBytes(path: string, length?: number): Promise<Uint8Array> {
  const handle = await fsp.open(path, "r");
  try {
    const size = length ?? (await handle.stat()).size;
    const buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, filled);
  } finally {
    await handle.close();
  }
}
