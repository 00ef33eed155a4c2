// Snapshot store: durable copies of the engine state taken after applying command
// `seq`, so restart replays only the journal tail after the newest snapshot.
//
// File `snapshot-<seq, 20 digits>.bin`, little-endian:
//
//   offset  size  field
//   0       8     magic     ASCII "TSSNAPSH"
//   8       4     version   u32, currently 1
//   12      4     crc32c    u32, CRC-32C of bytes [0,12) ++ [16, 32 + length)
//   16      8     seq       u64, the last command applied to the state
//   24      8     length    u64, bytes of state
//   32      n     state     the caller's opaque bytes
//
// A save writes a temp file, fsyncs it, renames it into place and fsyncs the
// directory, so a crash leaves either the old set of snapshots or the new one, never
// a half-written file under a snapshot name. Saves are serialised. Loading walks from
// the newest seq down and returns the first snapshot that verifies; a corrupt one is
// logged and skipped, because an older snapshot plus a longer replay gives the same
// state.

import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { JournalLogger } from "./command-log.ts";
import { crc32cFinish, crc32cStart, crc32cUpdate } from "./crc32c.ts";
import { ensureDirectory, fsyncDirectory, padSeq, readFileBytes } from "./files.ts";
import { stderrJsonLogger } from "./logger.ts";

/** Default number of snapshots kept on disk. */
export const snapshotsKeptDefault = 3;
/** Most snapshots one store may be asked to keep. */
export const snapshotsKeptMax = 100;
/** Default largest state a snapshot may hold (1 GiB). */
export const snapshotBytesMaxDefault = 1_073_741_824;
/** Largest allowed `snapshotBytesMax` (2 GiB): a snapshot is read into one buffer. */
export const snapshotBytesMaxCeiling = 2_147_483_648;
export const snapshotHeaderBytes = 32;
export const snapshotFormatVersion = 1;

const magic = new TextEncoder().encode("TSSNAPSH");
const snapshotNamePattern = /^snapshot-(\d{20})\.bin$/;
const tempSuffix = ".tmp";
const twoPow32 = 4_294_967_296;

export interface SnapshotStore {
  /** Durably stores an engine-state snapshot taken after applying command `seq` (write temp file, fsync, rename, fsync directory). Keeps the newest `snapshotsKept` (default 3). */
  save(seq: number, state: Uint8Array): Promise<void>;
  /** The newest snapshot whose checksum is valid; a corrupt newest snapshot is logged and skipped in favour of an older one; null if none. */
  loadLatest(): Promise<{ seq: number; state: Uint8Array } | null>;
}

export interface SnapshotStoreOptions {
  readonly dir: string;
  readonly snapshotsKept?: number;
  readonly snapshotBytesMax?: number;
  readonly logger?: JournalLogger;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${padSeq(seq)}.bin`;
}

/** Opens the store in `options.dir`, creating the directory and removing temp files a crash left behind. */
export async function openSnapshotStore(options: SnapshotStoreOptions): Promise<SnapshotStore> {
  const snapshotsKept = options.snapshotsKept ?? snapshotsKeptDefault;
  if (!Number.isSafeInteger(snapshotsKept) || snapshotsKept < 1 || snapshotsKept > snapshotsKeptMax) {
    throw new RangeError(`snapshotsKept must be an integer in 1..${String(snapshotsKeptMax)}, got ${String(snapshotsKept)}`);
  }
  const snapshotBytesMax = options.snapshotBytesMax ?? snapshotBytesMaxDefault;
  if (!Number.isSafeInteger(snapshotBytesMax) || snapshotBytesMax < 0 || snapshotBytesMax > snapshotBytesMaxCeiling) {
    throw new RangeError(`snapshotBytesMax must be an integer in 0..${String(snapshotBytesMaxCeiling)}, got ${String(snapshotBytesMax)}`);
  }
  const logger = options.logger ?? stderrJsonLogger;
  await ensureDirectory(options.dir);
  for (const name of await fsp.readdir(options.dir)) {
    if (name.startsWith("snapshot-") && name.endsWith(tempSuffix)) {
      await fsp.rm(join(options.dir, name), { force: true });
      logger.info("snapshot temp file from an interrupted save removed", { file: join(options.dir, name) });
    }
  }
  return new FileSnapshotStore({ dir: options.dir, snapshotsKept, snapshotBytesMax, logger });
}

/** Encodes the 32-byte header for `state`. */
export function encodeSnapshotHeader(seq: number, state: Uint8Array): Uint8Array {
  const { header, crc } = headerWithoutChecksum(seq, state);
  new DataView(header.buffer).setUint32(12, crc32cFinish(crc32cUpdate(crc, state, 0, state.length)), true);
  return header;
}

/** The header of `state` but its checksum, and the checksum's state over the header. */
function headerWithoutChecksum(seq: number, state: Uint8Array): { header: Uint8Array; crc: number } {
  const header = new Uint8Array(snapshotHeaderBytes);
  const view = new DataView(header.buffer);
  header.set(magic, 0);
  view.setUint32(8, snapshotFormatVersion, true);
  view.setUint32(16, seq >>> 0, true);
  view.setUint32(20, Math.floor(seq / twoPow32), true);
  view.setUint32(24, state.length >>> 0, true);
  view.setUint32(28, Math.floor(state.length / twoPow32), true);
  const crc = crc32cUpdate(crc32cStart(0), header, 0, 12);
  return { header, crc: crc32cUpdate(crc, header, 16, snapshotHeaderBytes) };
}

/** Bytes checksummed per turn of the event loop: a snapshot of megabytes would hold the thread it shares with the sequencer (≈ 0.5 ms per MiB). */
const checksumBytesPerTurn = 1 << 20;

/** `encodeSnapshotHeader`, with the state checksummed a mebibyte per turn of the event loop. */
async function snapshotHeaderInTurns(seq: number, state: Uint8Array): Promise<Uint8Array> {
  const { header, crc: start } = headerWithoutChecksum(seq, state);
  let crc = start;
  for (let at = 0; at < state.length; at += checksumBytesPerTurn) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    crc = crc32cUpdate(crc, state, at, Math.min(state.length, at + checksumBytesPerTurn));
  }
  new DataView(header.buffer).setUint32(12, crc32cFinish(crc), true);
  return header;
}

/** Checks a whole snapshot file; returns the state or the reason it is unusable. */
export function decodeSnapshot(bytes: Uint8Array, expectedSeq: number): { seq: number; state: Uint8Array } | { problem: string } {
  if (bytes.length < snapshotHeaderBytes) return { problem: `file is ${String(bytes.length)} bytes, shorter than the header` };
  if (!magic.every((byte, index) => bytes[index] === byte)) return { problem: "bad magic" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, snapshotHeaderBytes);
  const version = view.getUint32(8, true);
  if (version !== snapshotFormatVersion) return { problem: `unsupported version ${String(version)}` };
  const seq = view.getUint32(20, true) * twoPow32 + view.getUint32(16, true);
  const length = view.getUint32(28, true) * twoPow32 + view.getUint32(24, true);
  if (length !== bytes.length - snapshotHeaderBytes) {
    return { problem: `header says ${String(length)} state bytes, file holds ${String(bytes.length - snapshotHeaderBytes)}` };
  }
  let crc = crc32cUpdate(crc32cStart(0), bytes, 0, 12);
  crc = crc32cUpdate(crc, bytes, 16, bytes.length);
  if (crc32cFinish(crc) !== view.getUint32(12, true)) return { problem: "checksum mismatch" };
  if (seq !== expectedSeq) return { problem: `header seq ${String(seq)} does not match the file name` };
  return { seq, state: bytes.subarray(snapshotHeaderBytes) };
}

class FileSnapshotStore implements SnapshotStore {
  private readonly dir: string;
  private readonly snapshotsKept: number;
  private readonly snapshotBytesMax: number;
  private readonly logger: JournalLogger;
  /** Saves run one at a time; this is the tail of that queue and never rejects. */
  private queue: Promise<void> = Promise.resolve();

  constructor(options: { dir: string; snapshotsKept: number; snapshotBytesMax: number; logger: JournalLogger }) {
    this.dir = options.dir;
    this.snapshotsKept = options.snapshotsKept;
    this.snapshotBytesMax = options.snapshotBytesMax;
    this.logger = options.logger;
  }

  save(seq: number, state: Uint8Array): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new RangeError(`snapshot seq must be an integer >= 0, got ${String(seq)}`));
    if (state.length > this.snapshotBytesMax) {
      return Promise.reject(new RangeError(`snapshot state is ${String(state.length)} bytes, more than snapshotBytesMax ${String(this.snapshotBytesMax)}`));
    }
    const result = this.queue.then(() => this.write(seq, state));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async loadLatest(): Promise<{ seq: number; state: Uint8Array } | null> {
    for (const seq of await this.listSeqsNewestFirst()) {
      const file = join(this.dir, snapshotFileName(seq));
      let bytes: Uint8Array;
      try {
        bytes = await readFileBytes(file);
      } catch (error: unknown) {
        // Retention of a concurrent save may have just removed it; an older one will do.
        if (isNotFound(error)) continue;
        throw error;
      }
      const decoded = decodeSnapshot(bytes, seq);
      if ("problem" in decoded) {
        this.logger.error("snapshot corrupt, falling back to an older one", { file, reason: decoded.problem });
        continue;
      }
      return decoded;
    }
    return null;
  }

  private async write(seq: number, state: Uint8Array): Promise<void> {
    const name = snapshotFileName(seq);
    const finalPath = join(this.dir, name);
    const tempPath = `${finalPath}${tempSuffix}`;
    const header = await snapshotHeaderInTurns(seq, state);
    const handle = await fsp.open(tempPath, "w");
    try {
      await writeAll(handle, header, 0);
      await writeAll(handle, state, snapshotHeaderBytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tempPath, finalPath);
    await fsyncDirectory(this.dir);
    this.logger.info("snapshot saved", { file: finalPath, seq, bytes: state.length });
    await this.applyRetention();
  }

  private async applyRetention(): Promise<void> {
    const surplus = (await this.listSeqsNewestFirst()).slice(this.snapshotsKept);
    if (surplus.length === 0) return;
    for (const seq of surplus) {
      await fsp.rm(join(this.dir, snapshotFileName(seq)), { force: true });
    }
    await fsyncDirectory(this.dir);
    this.logger.info("old snapshots removed", { dir: this.dir, seqs: surplus });
  }

  private async listSeqsNewestFirst(): Promise<number[]> {
    const seqs: number[] = [];
    for (const name of await fsp.readdir(this.dir)) {
      const match = snapshotNamePattern.exec(name);
      if (match === null) continue;
      const seq = Number(match[1]);
      if (Number.isSafeInteger(seq)) seqs.push(seq);
    }
    return seqs.sort((a, b) => b - a);
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error("snapshot write made no progress");
    written += bytesWritten;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}
