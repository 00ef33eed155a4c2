import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeadLetterStore } from "./dead-letters.ts";
import { InstrumentTable, Normalizer } from "./normalizer.ts";
import { isoToUs, stepsOf, gridOf, notANumber, offGrid, outOfRange } from "./parse.ts";
import { testInstruments } from "./testing.ts";
import type { DeadLetterReason, FeedAlert } from "./types.ts";

const baseUs = 1_714_555_800_000_000; // 2024-05-01T09:30:00Z

function setup(): { normalizer: Normalizer; deadLetters: DeadLetterStore; alerts: FeedAlert[]; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (msg: string, f?: Record<string, unknown>) => warnings.push(`${msg} ${String(f?.reason)}`), error: () => undefined };
  const deadLetters = new DeadLetterStore({ kept: 100, logger });
  const alerts: FeedAlert[] = [];
  const normalizer = new Normalizer({ source: "test", instruments: new InstrumentTable(testInstruments), deadLetters, clockUs: () => baseUs, onAlert: (alert) => alerts.push(alert) });
  return { normalizer, deadLetters, alerts, warnings };
}

const trade = { type: "trade", symbol: "SAP", seq: 1, tsUs: baseUs, price: "230.15", size: "10", side: "buy" };
const quote = { type: "quote", symbol: "SAP", seq: 1, tsUs: baseUs, bid: "230.10", ask: "230.20", bidSize: "100", askSize: "50" };

describe("grid and time parsers", () => {
  const cent = gridOf("0.01");
  const nickel = gridOf("0.05");
  it.each([
    ["230.15", cent, 23015],
    [230.15, cent, 23015],
    ["230.150000", cent, 23015],
    ["230", cent, 23000],
    [0.29, cent, 29],
    ["230.151", cent, offGrid],
    [230.151, cent, offGrid],
    ["130.05", nickel, 2601],
    ["130.03", nickel, offGrid],
    ["-1", cent, outOfRange],
    [-1, cent, outOfRange],
    ["1e3", cent, notANumber],
    ["", cent, notANumber],
    ["1.", cent, notANumber],
    [".5", cent, notANumber],
    [Number.NaN, cent, notANumber],
    [Infinity, cent, notANumber],
    ["99999999999999999999", cent, outOfRange],
    [null, cent, notANumber],
  ] as const)("stepsOf(%s)", (value, grid, expected) => {
    expect(stepsOf(value, grid)).toBe(expected);
  });

  it.each([
    ["2024-05-01T09:30:00Z", baseUs],
    ["2024-05-01T09:30:00.123456Z", baseUs + 123_456],
    ["2024-05-01T09:30:00.1234567Z", baseUs + 123_456],
    ["2024-05-01T11:30:00.5+02:00", baseUs + 500_000],
    ["2024-05-01 04:30:00-05:00", baseUs],
    ["2024-02-29T00:00:00Z", Date.parse("2024-02-29T00:00:00Z") * 1000],
    ["2023-02-29T00:00:00Z", notANumber],
    ["2024-13-01T00:00:00Z", notANumber],
    ["2024-05-01T09:30:00", notANumber],
    ["yesterday", notANumber],
  ] as const)("isoToUs(%s)", (text, expected) => {
    expect(isoToUs(text)).toBe(expected);
  });

  it("agrees with Date.parse on random times (property)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1971-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }), (date) => {
        expect(isoToUs(date.toISOString())).toBe(date.getTime() * 1000);
      }),
    );
  });
});

describe("normalizer", () => {
  it("normalizes a trade and a quote onto the grids, by symbol, ISIN or vendor code", () => {
    const { normalizer } = setup();
    expect(normalizer.normalize(trade)).toEqual({ kind: "trade", instrumentId: 1, symbol: "SAP", source: "test", seq: 1, tsUs: baseUs, priceTicks: 23015, qtyLots: 10, bidTicks: 0, bidLots: 0, askTicks: 0, askLots: 0, side: "buy" });
    expect(normalizer.normalize({ ...quote, symbol: undefined, isin: "DE0007164600", seq: 2 })).toMatchObject({ kind: "quote", instrumentId: 1, bidTicks: 23010, askTicks: 23020, bidLots: 100, askLots: 50 });
    expect(normalizer.normalize({ ...trade, symbol: undefined, code: "asml.as", seq: 1, price: 130.05, size: 3 })).toMatchObject({ instrumentId: 3, priceTicks: 2601, qtyLots: 3 });
    expect(normalizer.normalize({ ...trade, symbol: "sie", seq: undefined, tsUs: undefined, time: "2024-05-01T09:30:01.5Z" })).toMatchObject({ instrumentId: 2, seq: 0, tsUs: baseUs + 1_500_000, side: "buy" });
    expect(normalizer.normalize({ ...trade, symbol: "SIE", seq: undefined, tsUs: undefined, tsMs: (baseUs + 2_000_000) / 1000, side: "x" })).toMatchObject({ tsUs: baseUs + 2_000_000, side: null });
  });

  const bad: ReadonlyArray<[string, unknown, DeadLetterReason]> = [
    ["text that is not JSON", "{not json", "malformed"],
    ["an array", [trade], "malformed"],
    ["null", null, "malformed"],
    ["a number", 42, "malformed"],
    ["no type", { ...trade, type: undefined }, "unknown_kind"],
    ["an unknown type", { ...trade, type: "order" }, "unknown_kind"],
    ["an unknown symbol", { ...trade, symbol: "NOPE" }, "unknown_instrument"],
    ["no instrument", { ...trade, symbol: undefined }, "unknown_instrument"],
    ["no time", { ...trade, tsUs: undefined }, "invalid_timestamp"],
    ["a malformed time", { ...trade, tsUs: undefined, time: "2024-05-01" }, "invalid_timestamp"],
    ["a negative time", { ...trade, tsUs: -5 }, "invalid_timestamp"],
    ["a time past 2100", { ...trade, tsUs: 4_200_000_000_000_000 }, "invalid_timestamp"],
    ["a fractional time", { ...trade, tsUs: 1.5 }, "invalid_timestamp"],
    ["a negative sequence number", { ...trade, seq: -1 }, "invalid_sequence"],
    ["a text sequence number", { ...trade, seq: "abc" }, "invalid_sequence"],
    ["no price", { ...trade, price: undefined }, "invalid_price"],
    ["a zero price", { ...trade, price: "0" }, "invalid_price"],
    ["a negative price", { ...trade, price: "-230.15" }, "invalid_price"],
    ["a price in words", { ...trade, price: "lots" }, "invalid_price"],
    ["a price off the tick", { ...trade, price: "230.155" }, "price_off_tick"],
    ["a float price off the tick", { ...trade, price: 230.155 }, "price_off_tick"],
    ["no size", { ...trade, size: undefined }, "invalid_quantity"],
    ["a zero size", { ...trade, size: 0 }, "invalid_quantity"],
    ["a fractional size", { ...trade, size: "1.5" }, "quantity_off_lot"],
    ["a quote without ask", { ...quote, ask: undefined }, "invalid_price"],
    ["a quote off the tick", { ...quote, bid: "230.101" }, "price_off_tick"],
    ["a crossed quote", { ...quote, bid: "230.30" }, "crossed_quote"],
    ["a locked quote", { ...quote, bid: "230.20" }, "crossed_quote"],
    ["a negative quote size", { ...quote, bidSize: "-1" }, "invalid_quantity"],
  ];

  it.each(bad)("dead-letters %s", (_name, raw, reason) => {
    const { normalizer, deadLetters } = setup();
    expect(normalizer.normalize(raw)).toBeNull();
    expect(deadLetters.newest(1)[0]).toMatchObject({ source: "test", reason, atUs: baseUs });
    expect(normalizer.counts).toEqual({ accepted: 0, deadLettered: 1, gaps: 0 });
  });

  it("logs each kind once and counts every occurrence", () => {
    const { normalizer, deadLetters, warnings } = setup();
    for (let i = 0; i < 5; i += 1) normalizer.normalize({ ...trade, price: "0" });
    for (let i = 0; i < 3; i += 1) normalizer.normalize("nope");
    expect(warnings).toHaveLength(2);
    expect(deadLetters.byReason().test).toMatchObject({ invalid_price: 5, malformed: 3 });
    expect(deadLetters.size).toBe(8);
  });

  it("refuses out-of-order records by sequence number and by time, and reports gaps", () => {
    const { normalizer, deadLetters, alerts } = setup();
    expect(normalizer.normalize({ ...trade, seq: 5 })).not.toBeNull();
    expect(normalizer.normalize({ ...trade, seq: 5 })).toBeNull(); // duplicate
    expect(normalizer.normalize({ ...trade, seq: 4 })).toBeNull(); // late
    expect(normalizer.normalize({ ...trade, seq: 9, tsUs: baseUs + 1 })).not.toBeNull(); // gap 6..8
    expect(normalizer.normalize({ ...trade, seq: 10, tsUs: baseUs })).toBeNull(); // earlier time
    expect(normalizer.normalize({ ...trade, symbol: "SIE", seq: 1 })).not.toBeNull(); // per instrument
    expect(deadLetters.newest(10).map((d) => d.reason)).toEqual(["out_of_order", "out_of_order", "out_of_order"]);
    expect(alerts).toEqual([{ kind: "gap", source: "test", instrumentId: 1, symbol: "SAP", expectedSeq: 6, receivedSeq: 9 }]);
    expect(normalizer.counts).toEqual({ accepted: 3, deadLettered: 3, gaps: 1 });
  });

  it("keeps the dead-letter store bounded", () => {
    const deadLetters = new DeadLetterStore({ kept: 3 });
    for (let i = 0; i < 10; i += 1) deadLetters.add("s", "malformed", `r${String(i)}`, i);
    expect(deadLetters.newest(10).map((d) => d.raw)).toEqual(["r9", "r8", "r7"]);
    expect(deadLetters.size).toBe(10);
    deadLetters.add("s", "malformed", "x".repeat(5_000), 11);
    expect(deadLetters.newest(1)[0]?.raw).toHaveLength(1_024);
  });

  it("never throws on any input and counts each record once (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom("trade", "quote", "x"), symbol: fc.constantFrom("SAP", "sie", "DE0007164600", "?"), seq: fc.oneof(fc.nat(), fc.string()), tsUs: fc.oneof(fc.nat(), fc.double()), price: fc.oneof(fc.double(), fc.string(), fc.nat()), size: fc.oneof(fc.nat(), fc.string()), bid: fc.double(), ask: fc.string() }, { requiredKeys: [] }))), (records) => {
        const { normalizer } = setup();
        for (const record of records) normalizer.normalize(record);
        expect(normalizer.counts.accepted + normalizer.counts.deadLettered).toBe(records.length);
      }),
      { numRuns: 300 },
    );
  });

  it("preserves good input exactly (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ instrument: fc.constantFrom(0, 1, 2), price: fc.integer({ min: 1, max: 10_000_000 }), size: fc.integer({ min: 1, max: 1_000_000 }), quote: fc.boolean(), spread: fc.integer({ min: 1, max: 100 }), dtUs: fc.nat({ max: 1_000_000 }) }), { maxLength: 50 }), (items) => {
        const { normalizer, deadLetters } = setup();
        const seqs = [0, 0, 0];
        let tsUs = baseUs;
        for (const item of items) {
          const instrument = testInstruments[item.instrument];
          if (instrument === undefined) throw new Error("instrument");
          const spec = instrument.spec;
          tsUs += item.dtUs;
          const seq = (seqs[item.instrument] = (seqs[item.instrument] ?? 0) + 1);
          const text = (ticks: number): string => {
            const units = ticks * (spec.tickSize === "0.05" ? 5 : 1);
            return `${String(Math.floor(units / 100))}.${String(units % 100).padStart(2, "0")}`;
          };
          const raw = item.quote
            ? { type: "quote", symbol: spec.symbol, seq, tsUs, bid: text(item.price), ask: text(item.price + item.spread), bidSize: String(item.size), askSize: String(item.size) }
            : { type: "trade", isin: spec.isin, seq, tsUs, price: text(item.price), size: String(item.size) };
          const tick = normalizer.normalize(raw);
          expect(tick).toMatchObject(item.quote ? { kind: "quote", instrumentId: spec.instrumentId, seq, tsUs, bidTicks: item.price, askTicks: item.price + item.spread, bidLots: item.size } : { kind: "trade", instrumentId: spec.instrumentId, seq, tsUs, priceTicks: item.price, qtyLots: item.size });
        }
        expect(deadLetters.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
