import { describe, expect, it } from "vitest";
import { fnv1a32 } from "./fnv.ts";

describe("fnv1a32", () => {
  it("matches the published FNV-1a 32-bit test vectors (as signed integers)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5 | 0);
    expect(fnv1a32("a")).toBe(0xe40c292c | 0);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968 | 0);
  });
});
