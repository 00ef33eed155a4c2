// Streaming, verifying reader for one segment file, used by replay. It reads the
// segment in chunks and asks for the next chunk before checking the current one, so
// the disk read and the checksum work overlap instead of taking turns.
//
// Every chunk is fresh memory, never reused, so a record handed out as a view stays
// valid for as long as the caller keeps it. A frame cut by a chunk boundary is copied
// into the headroom reserved in front of the next chunk, which keeps every frame
// contiguous without copying whole chunks.
//
// Invariant: frames are delivered in order, each checksum-valid and carrying the seq
// its position implies; any other byte pattern inside the durable length is
// corruption and throws JournalCorruptError with the file offset.

import type { FileHandle } from "node:fs/promises";
import { promises as fsp } from "node:fs";
import { JournalCorruptError } from "./errors.ts";
import { checkFrame, frameBytesMax, readFrameLength, recordHeaderBytes } from "./framing.ts";

/** Bytes read from disk per chunk (4 MiB): large enough to amortise a read, small enough to overlap. */
export const replayChunkBytes = 4 * 1_048_576;
/** Room in front of each chunk for the incomplete frame carried over from the previous one. */
const headroomBytes = frameBytesMax;

interface Chunk {
  readonly bytes: Uint8Array;
  readonly bytesRead: number;
}

async function readChunk(handle: FileHandle, position: number, length: number): Promise<Chunk> {
  // Unzeroed and unpooled: every byte used is first written by the read or the carry,
  // and a pooled slab would be shared with (and kept alive by) unrelated buffers.
  const slab = Buffer.allocUnsafeSlow(headroomBytes + length);
  const bytes = new Uint8Array(slab.buffer, slab.byteOffset, slab.length);
  let bytesRead = 0;
  while (bytesRead < length) {
    const result = await handle.read(bytes, headroomBytes + bytesRead, length - bytesRead, position + bytesRead);
    if (result.bytesRead === 0) break;
    bytesRead += result.bytesRead;
  }
  return { bytes, bytesRead };
}

export interface SegmentReadOptions {
  readonly path: string;
  /** Bytes of the file that hold durable frames; nothing past it is read. */
  readonly length: number;
  readonly firstSeq: number;
  /** Stop after delivering this seq. */
  readonly untilSeq: number;
  /** Called for every frame in order; the payload is `bytes[start, end)`. */
  readonly onFrame: (seq: number, bytes: Uint8Array, start: number, end: number) => void;
}

/** Reads and verifies the frames of one segment; returns the seq after the last one delivered. */
export async function readSegmentFrames(options: SegmentReadOptions): Promise<number> {
  const { path, length, untilSeq, onFrame } = options;
  const handle = await fsp.open(path, "r");
  let pending: Promise<Chunk> | null = null;
  try {
    let seq = options.firstSeq;
    let position = 0;
    let carry: Uint8Array = new Uint8Array(0);
    pending = readChunk(handle, 0, Math.min(replayChunkBytes, length));
    while (pending !== null && seq <= untilSeq) {
      const chunk: Chunk = await pending;
      pending = null;
      const chunkFileStart = position;
      position += chunk.bytesRead;
      if (chunk.bytesRead === 0) {
        throw new JournalCorruptError({ file: path, offset: position, reason: `segment is shorter than its ${String(length)} durable bytes` });
      }
      if (position < length) pending = readChunk(handle, position, Math.min(replayChunkBytes, length - position));
      const bytes = chunk.bytes;
      const end = headroomBytes + chunk.bytesRead;
      let offset = headroomBytes - carry.length;
      bytes.set(carry, offset);
      while (seq <= untilSeq && offset < end) {
        const status = checkFrame(bytes, offset, end, seq);
        if (status === "header_short" || status === "payload_short") break;
        if (status !== "ok") {
          const fileOffset = chunkFileStart + offset - headroomBytes;
          throw new JournalCorruptError({ file: path, offset: fileOffset, reason: `${status} at seq ${String(seq)} during replay` });
        }
        const payloadEnd = offset + recordHeaderBytes + readFrameLength(bytes, offset);
        onFrame(seq, bytes, offset + recordHeaderBytes, payloadEnd);
        offset = payloadEnd;
        seq++;
      }
      carry = bytes.subarray(offset, end);
      if (pending === null && carry.length > 0 && seq <= untilSeq) {
        throw new JournalCorruptError({ file: path, offset: position - carry.length, reason: `incomplete frame at seq ${String(seq)} inside the durable length` });
      }
    }
    return seq;
  } finally {
    // A read still in flight must finish before its file handle is closed.
    if (pending !== null) await pending.catch(() => undefined);
    await handle.close();
  }
}
