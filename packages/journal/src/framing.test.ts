// Record framing: layout, round trip, the record size limit, and that damage of any
// kind is named rather than accepted.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkFrame,
  encodeFrame,
  findValidFrame,
  frameBytes,
  readFrameLength,
  readFrameSeq,
  recordBytesMax,
  recordHeaderBytes,
} from "./framing.ts";

function frame(seq: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(frameBytes(payload.length));
  encodeFrame(bytes, 0, seq, payload);
  return bytes;
}

describe("record framing", () => {
  it("round-trips length, seq and payload", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (payload, seq) => {
        const bytes = frame(seq, payload);
        expect(bytes.length).toBe(recordHeaderBytes + payload.length);
        expect(checkFrame(bytes, 0, bytes.length, seq)).toBe("ok");
        expect(readFrameLength(bytes, 0)).toBe(payload.length);
        expect(readFrameSeq(bytes, 0)).toBe(seq);
        expect(bytes.subarray(recordHeaderBytes)).toEqual(payload);
      }),
    );
  });

  it("writes the documented little-endian layout", () => {
    const bytes = frame(0x0102030405, new Uint8Array([0xaa, 0xbb]));
    expect([...bytes.subarray(0, 4)]).toEqual([2, 0, 0, 0]);
    expect([...bytes.subarray(8, 16)]).toEqual([0x05, 0x04, 0x03, 0x02, 0x01, 0, 0, 0]);
    expect([...bytes.subarray(16)]).toEqual([0xaa, 0xbb]);
  });

  it("accepts a payload of recordBytesMax bytes and rejects one more", () => {
    const atLimit = frame(1, new Uint8Array(recordBytesMax));
    expect(checkFrame(atLimit, 0, atLimit.length, 1)).toBe("ok");
    const pastLimit = new Uint8Array(frameBytes(recordBytesMax + 1));
    new DataView(pastLimit.buffer).setUint32(0, recordBytesMax + 1, true);
    expect(checkFrame(pastLimit, 0, pastLimit.length, 1)).toBe("length_invalid");
  });

  it("names every way a frame can be bad", () => {
    const good = frame(7, new Uint8Array([1, 2, 3, 4]));
    expect(checkFrame(good, 0, recordHeaderBytes - 1, 7)).toBe("header_short");
    expect(checkFrame(good, 0, good.length - 1, 7)).toBe("payload_short");
    expect(checkFrame(new Uint8Array(32), 0, 32, 7)).toBe("length_invalid");
    expect(checkFrame(good, 0, good.length, 8)).toBe("seq_mismatch");
    const flipped = good.slice();
    flipped[recordHeaderBytes + 2] = (flipped[recordHeaderBytes + 2] ?? 0) ^ 0x10;
    expect(checkFrame(flipped, 0, flipped.length, 7)).toBe("checksum_mismatch");
  });

  it("detects a record moved to another seq's place: the checksum covers the seq", () => {
    const original = frame(7, new Uint8Array([9, 9, 9]));
    const relabelled = original.slice();
    relabelled[8] = 8;
    expect(checkFrame(relabelled, 0, relabelled.length, 8)).toBe("checksum_mismatch");
  });

  it("detects any single flipped bit anywhere in a frame", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (payload, position, bit) => {
        const bytes = frame(42, payload);
        const index = position % bytes.length;
        bytes[index] = (bytes[index] ?? 0) ^ (1 << bit);
        expect(checkFrame(bytes, 0, bytes.length, 42)).not.toBe("ok");
      }),
    );
  });

  it("finds a valid frame after garbage and reports none in pure garbage", () => {
    const garbage = new Uint8Array(37).fill(0xee);
    const good = frame(5, new Uint8Array([1, 2, 3]));
    const bytes = new Uint8Array(garbage.length + good.length);
    bytes.set(garbage);
    bytes.set(good, garbage.length);
    expect(findValidFrame(bytes, 0, bytes.length)).toBe(garbage.length);
    expect(findValidFrame(garbage, 0, garbage.length)).toBe(-1);
    expect(findValidFrame(new Uint8Array(4096), 0, 4096)).toBe(-1);
  });
});
