// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum every journal
// record and snapshot carries. It is computed table-driven with slicing-by-8: eight
// 256-entry tables let the loop fold eight input bytes per iteration, which is what
// keeps append and replay cheap for the small (~100 byte) records the engine writes.
// Checksumming is the largest CPU cost of both, hence the word-at-a-time fast path.
//
// Invariants: `crc32c(a ++ b) === crc32c(b, crc32c(a))` (the seed chains), and the
// result is always an unsigned 32-bit integer. The tables are Int32Array so V8 keeps
// every intermediate value a small integer instead of boxing values above 2^31.

const polynomialReflected = 0x82f63b78;
const tableCount = 8;
const tableEntries = 256;

const tables = buildTables();

function buildTables(): Int32Array {
  const result = new Int32Array(tableCount * tableEntries);
  for (let n = 0; n < tableEntries; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ polynomialReflected : c >>> 1;
    result[n] = c;
  }
  // Table k answers "the CRC contribution of a byte followed by k zero bytes".
  for (let n = 0; n < tableEntries; n++) {
    for (let k = 1; k < tableCount; k++) {
      const previous = result[(k - 1) * tableEntries + n] ?? 0;
      result[k * tableEntries + n] = (previous >>> 8) ^ (result[previous & 0xff] ?? 0);
    }
  }
  return result;
}

/** Int32Array loads are platform-endian; the word path below assumes little-endian. */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes the word path's setup costs more than it saves. */
const wordPathBytesMin = 32;

// A one-entry cache of the Int32Array view over the last buffer checksummed. The
// journal checksums thousands of records in the same batch or read buffer in a row,
// so the view is almost always reused rather than allocated. (It keeps that one
// buffer reachable until another is checksummed.) The length check covers buffers
// that grew since the view was made.
let cachedBuffer: ArrayBufferLike | null = null;
let cachedWords: Int32Array = new Int32Array(0);

function wordsOf(buffer: ArrayBufferLike): Int32Array {
  if (buffer !== cachedBuffer || cachedWords.length !== buffer.byteLength >>> 2) {
    cachedBuffer = buffer;
    cachedWords = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return cachedWords;
}

/**
 * Folds `bytes[start, end)` into a raw (not pre- or post-inverted) CRC state. Callers
 * start from `crc32cStart` and finish with `crc32cFinish`; this lets the journal
 * checksum a record that spans two ranges without copying it. Long ranges are read
 * eight bytes at a time as two aligned 32-bit words, which is a third faster than
 * assembling them from single bytes.
 */
export function crc32cUpdate(state: number, bytes: Uint8Array, start: number, end: number): number {
  const t = tables;
  let c = state;
  let i = start;
  if (littleEndian && end - start >= wordPathBytesMin) {
    const base = bytes.byteOffset;
    while (((base + i) & 3) !== 0) {
      c = (t[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
      i++;
    }
    const words = wordsOf(bytes.buffer);
    let word = (base + i) >>> 2;
    const lastWordStart = end - 8;
    while (i <= lastWordStart) {
      const lo = c ^ (words[word] ?? 0);
      const hi = words[word + 1] ?? 0;
      c =
        (t[1792 + (lo & 0xff)] ?? 0) ^
        (t[1536 + ((lo >>> 8) & 0xff)] ?? 0) ^
        (t[1280 + ((lo >>> 16) & 0xff)] ?? 0) ^
        (t[1024 + (lo >>> 24)] ?? 0) ^
        (t[768 + (hi & 0xff)] ?? 0) ^
        (t[512 + ((hi >>> 8) & 0xff)] ?? 0) ^
        (t[256 + ((hi >>> 16) & 0xff)] ?? 0) ^
        (t[hi >>> 24] ?? 0);
      i += 8;
      word += 2;
    }
  } else {
    const lastWordStart = end - 8;
    while (i <= lastWordStart) {
      const lo = c ^ ((bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24));
      const hi = (bytes[i + 4] ?? 0) | ((bytes[i + 5] ?? 0) << 8) | ((bytes[i + 6] ?? 0) << 16) | ((bytes[i + 7] ?? 0) << 24);
      c =
        (t[1792 + (lo & 0xff)] ?? 0) ^
        (t[1536 + ((lo >>> 8) & 0xff)] ?? 0) ^
        (t[1280 + ((lo >>> 16) & 0xff)] ?? 0) ^
        (t[1024 + (lo >>> 24)] ?? 0) ^
        (t[768 + (hi & 0xff)] ?? 0) ^
        (t[512 + ((hi >>> 8) & 0xff)] ?? 0) ^
        (t[256 + ((hi >>> 16) & 0xff)] ?? 0) ^
        (t[hi >>> 24] ?? 0);
      i += 8;
    }
  }
  while (i < end) {
    c = (t[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
    i++;
  }
  return c;
}

/** Turns a finished CRC value (or seed) into the raw state `crc32cUpdate` works on. */
export function crc32cStart(seed: number): number {
  return ~seed;
}

/** Turns a raw state back into the unsigned 32-bit CRC value. */
export function crc32cFinish(state: number): number {
  return ~state >>> 0;
}

/**
 * CRC-32C of `bytes`. Pass the CRC of preceding bytes as `seed` to continue a
 * checksum across several buffers; the default seed 0 starts a fresh one.
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  return crc32cFinish(crc32cUpdate(crc32cStart(seed), bytes, 0, bytes.length));
}
