// CRC-32C: published vectors, agreement with a bit-at-a-time reference, chaining.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c, crc32cFinish, crc32cStart, crc32cUpdate } from "./crc32c.ts";

/** Bit-at-a-time CRC-32C, the definition the table-driven version must agree with. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("crc32c", () => {
  it("matches the published check value for '123456789'", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  it("matches the RFC 3720 (iSCSI) test vectors", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it("is 0 for no bytes and returns unsigned 32-bit values", () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array([0xff]))).toBeGreaterThanOrEqual(0);
  });

  it("agrees with the bitwise reference for any input and length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32c(bytes)).toBe(crc32cReference(bytes));
      }),
    );
  });

  it("agrees with the reference for views at any byte offset, alternating between buffers", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 300 }), fc.nat(7), fc.nat(7), (source, offsetA, offsetB) => {
        const a = new Uint8Array(source.length + 8);
        a.set(source, offsetA);
        const b = new Uint8Array(source.length + 8);
        b.set(source, offsetB);
        const viewA = new Uint8Array(a.buffer, offsetA, source.length);
        const viewB = new Uint8Array(b.buffer, offsetB, source.length);
        const expected = crc32cReference(source);
        expect(crc32c(viewA)).toBe(expected);
        expect(crc32c(viewB)).toBe(expected);
        expect(crc32c(viewA)).toBe(expected);
      }),
    );
  });

  it("chains: crc32c(a ++ b) === crc32c(b, crc32c(a))", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const joined = new Uint8Array(a.length + b.length);
        joined.set(a);
        joined.set(b, a.length);
        expect(crc32c(b, crc32c(a))).toBe(crc32c(joined));
      }),
    );
  });

  it("checksums a sub-range without copying", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.nat(), (bytes, x, y) => {
        const start = x % bytes.length;
        const end = start + (y % (bytes.length - start + 1));
        const ranged = crc32cFinish(crc32cUpdate(crc32cStart(0), bytes, start, end));
        expect(ranged).toBe(crc32cReference(bytes.subarray(start, end)));
      }),
    );
  });
});
