import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatUnits, fromSteps, parseDecimal, tickValueMinor, toSteps, toStepsExact } from "./decimal.ts";

describe("decimal codecs", () => {
  it.each([
    ["101.25", "0.01", { ok: true, steps: 10125 }],
    ["101.255", "0.01", { ok: false, reason: "off_grid" }],
    ["101.250", "0.01", { ok: true, steps: 10125 }],
    ["0.005", "0.005", { ok: true, steps: 1 }],
    ["100", "5", { ok: true, steps: 20 }],
    ["-1", "0.01", { ok: false, reason: "out_of_range" }],
    ["1e5", "0.01", { ok: false, reason: "not_a_number" }],
    ["", "0.01", { ok: false, reason: "not_a_number" }],
    [" 1", "0.01", { ok: false, reason: "not_a_number" }],
    ["1.", "0.01", { ok: false, reason: "not_a_number" }],
  ] as const)("toSteps(%s, %s)", (text, step, expected) => {
    expect(toSteps(text, step)).toEqual(expected);
  });

  it("rejects values beyond the step limit and accepts the limit itself", () => {
    expect(toSteps("10", "1", 10)).toEqual({ ok: true, steps: 10 });
    expect(toSteps("11", "1", 10)).toEqual({ ok: false, reason: "out_of_range" });
  });

  it("rejects an over-long string", () => {
    expect(parseDecimal("1".repeat(41))).toBeNull();
    expect(parseDecimal("1".repeat(40))).not.toBeNull();
  });

  it("formats exactly", () => {
    expect(fromSteps(10125, "0.01")).toBe("101.25");
    expect(fromSteps(1, "0.005")).toBe("0.005");
    expect(formatUnits(-5n, 2)).toBe("-0.05");
    expect(formatUnits(7n, 0)).toBe("7");
  });

  it("computes the tick value in minor units, or null off the minor grid", () => {
    expect(tickValueMinor("0.01", "1", 2)).toBe(1);
    expect(tickValueMinor("0.005", "10", 2)).toBe(5);
    expect(tickValueMinor("0.005", "1", 2)).toBeNull();
    expect(tickValueMinor("0.5", "100", 0)).toBe(50);
  });

  it("round-trips steps through strings (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom("0.01", "0.005", "1", "0.0001", "25"), (steps, step) => {
        expect(toSteps(fromSteps(steps, step), step)).toEqual({ ok: true, steps });
      }),
    );
  });
});

describe("decimal fast paths", () => {
  const grids = ["0.01", "0.02", "0.005", "1", "5", "0.0001", "0.25", "10", "0.000000001"];
  const texts = fc.oneof(
    fc.stringMatching(/^\d{1,17}(\.\d{1,17})?$/),
    fc.tuple(fc.nat({ max: 1_000_000 }), fc.nat({ max: 9999 })).map(([whole, fraction]) => `${String(whole)}.${String(fraction).padStart(4, "0")}`),
    fc.constantFrom("0", "0.0", "229.50", "229.505", "999999999999999", "9999999999999999", "1e3", "-1", "", "."),
    fc.constantFrom("1.", ".5", "00012.50", "1..2", "12a", " 1", "1 ", "\u0663", "0000000000000001.5", "1.0000000000000001", "123456789012345.1", "1.123456789012345", "+1", "1,5"),
    fc.string({ maxLength: 20 }),
  );

  it("toSteps answers exactly as the bigint reference (property)", () => {
    fc.assert(
      fc.property(texts, fc.constantFrom(...grids), fc.constantFrom(Number.MAX_SAFE_INTEGER, 1_000_000, 100), (text, grid, max) => {
        expect(toSteps(text, grid, max)).toEqual(toStepsExact(text, grid, max));
      }),
      { numRuns: 5_000 },
    );
  });

  it("fromSteps formats exactly as the bigint reference (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.maxSafeInteger()), fc.constantFrom(...grids), (steps, grid) => {
        const parsed = parseDecimal(grid);
        if (parsed === null) throw new Error("grid");
        expect(fromSteps(steps, grid)).toBe(formatUnits(BigInt(steps) * parsed.units, parsed.scale));
      }),
      { numRuns: 5_000 },
    );
  });
});
