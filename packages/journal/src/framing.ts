// Record framing for journal segments. This file is the single definition of the
// on-disk record format; the writer, recovery and replay all go through it.
//
// A segment file is a plain concatenation of frames, with no file header:
//
//   offset  size  field
//   0       4     payloadLength   u32 little-endian, 1..recordBytesMax
//   4       4     crc32c          u32 little-endian, CRC-32C of bytes [0,4) ++ [8, 16 + payloadLength)
//   8       8     seq             u64 little-endian, the record's sequence number (1-based)
//   16      n     payload         the caller's opaque bytes
//
// Why the sequence number is stored rather than implied: the checksum must cover the
// seq so that a record copied or misplaced to another position is detected, and
// storing it also lets recovery recognise a valid record *anywhere* after a damaged
// one, however many records the damage swallowed. That is what separates a torn tail
// (truncate) from corruption in the middle (refuse to start). Eight bytes per record
// is the price. The checksum also covers the length field, so a damaged length is
// caught even when the range it points at happens to be in bounds.
//
// Invariants: within a segment, seqs are consecutive and the first equals the number
// in the segment's file name; a frame never straddles two segments.

import { crc32cFinish, crc32cStart, crc32cUpdate } from "./crc32c.ts";

/** Bytes of framing before each payload. */
export const recordHeaderBytes = 16;
/** Largest payload one record may carry (1 MiB); commands are far smaller, so this only catches bugs. */
export const recordBytesMax = 1_048_576;
/** The largest frame a segment must be able to hold. */
export const frameBytesMax = recordHeaderBytes + recordBytesMax;

const twoPow32 = 4_294_967_296;
/** Sequence numbers are JavaScript safe integers, so the high word of the u64 stays below 2^21. */
const seqHighWordLimit = 2_097_152;

/** The outcome of checking one frame; every way a frame can be bad has its own name. */
export type FrameStatus =
  | "ok"
  | "header_short"
  | "length_invalid"
  | "payload_short"
  | "checksum_mismatch"
  | "seq_mismatch";

export function frameBytes(payloadLength: number): number {
  return recordHeaderBytes + payloadLength;
}

/** True when `length` is an allowed payload length. */
export function isRecordLengthValid(length: number): boolean {
  return Number.isInteger(length) && length >= 1 && length <= recordBytesMax;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8) | ((bytes[offset + 2] ?? 0) << 16) | ((bytes[offset + 3] ?? 0) << 24)) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/** Reads the payload length of the frame at `offset` (the caller ensures 4 bytes exist). */
export function readFrameLength(bytes: Uint8Array, offset: number): number {
  return readU32(bytes, offset);
}

/** Reads the stored seq of the frame at `offset`, or -1 when it is not a safe integer. */
export function readFrameSeq(bytes: Uint8Array, offset: number): number {
  const high = readU32(bytes, offset + 12);
  if (high >= seqHighWordLimit) return -1;
  return high * twoPow32 + readU32(bytes, offset + 8);
}

function frameChecksum(bytes: Uint8Array, offset: number, payloadLength: number): number {
  const state = crc32cUpdate(crc32cStart(0), bytes, offset, offset + 4);
  return crc32cFinish(crc32cUpdate(state, bytes, offset + 8, offset + recordHeaderBytes + payloadLength));
}

/**
 * Writes the frame for `payload` with sequence number `seq` into `target` at `offset`.
 * The caller guarantees the room (`frameBytes(payload.length)`) and a valid length.
 * Returns the offset just past the frame.
 */
export function encodeFrame(target: Uint8Array, offset: number, seq: number, payload: Uint8Array): number {
  const length = payload.length;
  writeU32(target, offset, length);
  writeU32(target, offset + 8, seq >>> 0);
  writeU32(target, offset + 12, Math.floor(seq / twoPow32));
  target.set(payload, offset + recordHeaderBytes);
  writeU32(target, offset + 4, frameChecksum(target, offset, length));
  return offset + recordHeaderBytes + length;
}

/**
 * Checks the frame at `offset` in `bytes[0, end)`. With `expectedSeq` > 0 the stored
 * seq must equal it; with 0 any safe-integer seq is accepted (used when hunting for
 * valid records after a damaged one).
 */
export function checkFrame(bytes: Uint8Array, offset: number, end: number, expectedSeq: number): FrameStatus {
  if (end - offset < recordHeaderBytes) return "header_short";
  const length = readU32(bytes, offset);
  if (length < 1 || length > recordBytesMax) return "length_invalid";
  if (end - offset - recordHeaderBytes < length) return "payload_short";
  if (frameChecksum(bytes, offset, length) !== readU32(bytes, offset + 4)) return "checksum_mismatch";
  const seq = readFrameSeq(bytes, offset);
  if (seq < 1 || (expectedSeq > 0 && seq !== expectedSeq)) return "seq_mismatch";
  return "ok";
}

/**
 * Looks for any checksum-valid frame starting in `bytes(from, end)`, byte by byte.
 * Cheap tests (length in range, frame fits, seq a positive safe integer) reject almost
 * every offset before the checksum is computed, so the scan stays linear in practice.
 * Returns the offset found, or -1.
 */
export function findValidFrame(bytes: Uint8Array, from: number, end: number): number {
  for (let offset = from; offset + recordHeaderBytes < end; offset++) {
    const length = readU32(bytes, offset);
    if (length < 1 || length > recordBytesMax || offset + recordHeaderBytes + length > end) continue;
    if (readFrameSeq(bytes, offset) < 1) continue;
    if (checkFrame(bytes, offset, end, 0) === "ok") return offset;
  }
  return -1;
}
