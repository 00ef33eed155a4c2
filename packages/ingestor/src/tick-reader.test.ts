import { describe, expect, it } from "vitest";
import { encodeTick } from "./bus.ts";
import { DeadLetterStore } from "./dead-letters.ts";
import { InstrumentTable } from "./normalizer.ts";
import { testInstruments } from "./testing.ts";
import { TickReader, upstreamSourceCharsMax, upstreamSourcesMax } from "./tick-reader.ts";
import type { DeadLetterReason, FeedAlert, FeedInstrument, NormalizedTick } from "./types.ts";

const baseUs = 1_714_555_800_000_000;

/** The same symbols under other ids: ids are local to each process. */
const localInstruments: readonly FeedInstrument[] = testInstruments.map((instrument) => ({ spec: { ...instrument.spec, instrumentId: instrument.spec.instrumentId + 10 } }));

function setup(): { reader: TickReader; deadLetters: DeadLetterStore; alerts: FeedAlert[] } {
  const deadLetters = new DeadLetterStore({ kept: 100 });
  const alerts: FeedAlert[] = [];
  const reader = new TickReader({ source: "nats:marketdata.>", instruments: new InstrumentTable(localInstruments), deadLetters, clockUs: () => baseUs, onAlert: (alert) => alerts.push(alert) });
  return { reader, deadLetters, alerts };
}

const trade: NormalizedTick = { kind: "trade", instrumentId: 1, symbol: "SAP", source: "simulated", seq: 1, tsUs: baseUs, priceTicks: 23_015, qtyLots: 10, bidTicks: 0, bidLots: 0, askTicks: 0, askLots: 0, side: "buy" };
const quote: NormalizedTick = { kind: "quote", instrumentId: 3, symbol: "ASML", source: "simulated", seq: 1, tsUs: baseUs, priceTicks: 0, qtyLots: 0, bidTicks: 2_600, bidLots: 5, askTicks: 2_601, askLots: 7, side: null };

/** As it comes off the wire. */
const wire = (tick: object): unknown => JSON.parse(JSON.stringify(tick));

describe("the tick reader", () => {
  it("reads published ticks back, mapping the instrument by symbol to this process's id", () => {
    const { reader, deadLetters } = setup();
    expect(reader.normalize(JSON.parse(encodeTick(trade)))).toEqual({ ...trade, instrumentId: 11 });
    expect(reader.normalize(JSON.parse(encodeTick(quote)))).toEqual({ ...quote, instrumentId: 13 });
    // Unknown fields are ignored (a newer publisher may add some); symbols in any case.
    expect(reader.normalize({ ...trade, seq: 2, symbol: "sap", venue: "XETR" })).toMatchObject({ instrumentId: 11, symbol: "SAP", seq: 2 });
    expect(deadLetters.size).toBe(0);
    expect(reader.counts).toEqual({ accepted: 3, deadLettered: 0, gaps: 0 });
  });

  const bad: Array<[string, unknown, DeadLetterReason]> = [
    ["not an object", "{broken", "malformed"],
    ["an array", [trade], "malformed"],
    ["null", null, "malformed"],
    ["an unknown kind", { ...trade, kind: "bar" }, "unknown_kind"],
    ["no instrument id", { ...trade, instrumentId: undefined }, "malformed"],
    ["a zero instrument id", { ...trade, instrumentId: 0 }, "malformed"],
    ["a fractional instrument id", { ...trade, instrumentId: 1.5 }, "malformed"],
    ["an unknown symbol", { ...trade, symbol: "TSLA" }, "unknown_instrument"],
    ["a symbol that is not a string", { ...trade, symbol: 1 }, "unknown_instrument"],
    ["no source", { ...trade, source: undefined }, "invalid_source"],
    ["an empty source", { ...trade, source: "" }, "invalid_source"],
    ["a source past the limit", { ...trade, source: "s".repeat(upstreamSourceCharsMax + 1) }, "invalid_source"],
    ["a negative sequence", { ...trade, seq: -1 }, "invalid_sequence"],
    ["a sequence as text", { ...trade, seq: "1" }, "invalid_sequence"],
    ["a time as text", { ...trade, tsUs: String(baseUs) }, "invalid_timestamp"],
    ["a time past 2100", { ...trade, tsUs: 4_102_444_800_000_000 }, "invalid_timestamp"],
    ["a negative time", { ...trade, tsUs: -1 }, "invalid_timestamp"],
    ["a fractional price", { ...trade, priceTicks: 230.15 }, "invalid_price"],
    ["a price beyond the safe integers", { ...trade, priceTicks: 2 ** 53 }, "invalid_price"],
    ["a trade without a price", { ...trade, priceTicks: 0 }, "invalid_price"],
    ["a price as text", { ...trade, priceTicks: "23015" }, "invalid_price"],
    ["a negative quantity", { ...trade, qtyLots: -10 }, "invalid_quantity"],
    ["a trade without a quantity", { ...trade, qtyLots: 0 }, "invalid_quantity"],
    ["a trade with a bid", { ...trade, bidTicks: 23_000 }, "malformed"],
    ["an unknown side", { ...trade, side: "short" }, "malformed"],
    ["a missing side", { ...trade, side: undefined }, "malformed"],
    ["a quote without a bid", { ...quote, bidTicks: 0 }, "invalid_price"],
    ["a crossed quote", { ...quote, bidTicks: 2_601 }, "crossed_quote"],
    ["a quote with a trade price", { ...quote, priceTicks: 2_600 }, "malformed"],
    ["a quote with a side", { ...quote, side: "buy" }, "malformed"],
    ["a quote with a fractional size", { ...quote, askLots: 0.5 }, "invalid_quantity"],
  ];
  it.each(bad)("dead-letters %s (never throws)", (_name, raw, reason) => {
    const { reader, deadLetters } = setup();
    expect(reader.normalize(typeof raw === "object" && raw !== null && !Array.isArray(raw) ? wire(raw) : raw)).toBeNull();
    expect(deadLetters.newest(1)[0]).toMatchObject({ source: "nats:marketdata.>", reason });
  });

  it("dead-letters a hostile object instead of throwing", () => {
    const { reader, deadLetters } = setup();
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error("boom");
        },
      },
    );
    expect(reader.normalize(hostile)).toBeNull();
    expect(deadLetters.newest(1)[0]).toMatchObject({ reason: "malformed", raw: "[unprintable record]" });
  });

  it("keeps order per upstream source and instrument: a repeat is out of order, a skipped sequence a gap", () => {
    const { reader, deadLetters, alerts } = setup();
    expect(reader.normalize({ ...trade, seq: 5 })).not.toBeNull();
    // Another upstream source's numbers are its own.
    expect(reader.normalize({ ...trade, seq: 1, source: "vendor-ws" })).not.toBeNull();
    // Another instrument's too.
    expect(reader.normalize({ ...trade, symbol: "SIE", instrumentId: 2, seq: 1 })).not.toBeNull();
    expect(reader.normalize({ ...trade, seq: 5 })).toBeNull();
    expect(reader.normalize({ ...trade, seq: 6, tsUs: baseUs - 1 })).toBeNull();
    expect(deadLetters.byReason()["nats:marketdata.>"]?.out_of_order).toBe(2);
    expect(reader.normalize({ ...trade, seq: 9 })).not.toBeNull();
    expect(alerts).toEqual([{ kind: "gap", source: "nats:marketdata.>", instrumentId: 11, symbol: "SAP", expectedSeq: 6, receivedSeq: 9 }]);
    // Without sequence numbers, only time orders.
    expect(reader.normalize({ ...quote, seq: 0, tsUs: baseUs + 1 })).not.toBeNull();
    expect(reader.normalize({ ...quote, seq: 0, tsUs: baseUs + 1 })).not.toBeNull();
    expect(reader.normalize({ ...quote, seq: 0, tsUs: baseUs })).toBeNull();
  });

  it(`tracks at most ${String(upstreamSourcesMax)} upstream sources`, () => {
    const { reader, deadLetters } = setup();
    for (let i = 0; i < upstreamSourcesMax; i += 1) expect(reader.normalize({ ...trade, source: `feed-${String(i)}` })).not.toBeNull();
    expect(reader.normalize({ ...trade, source: `feed-${String(upstreamSourcesMax)}` })).toBeNull();
    expect(deadLetters.newest(1)[0]?.reason).toBe("invalid_source");
    // The ones already known still flow.
    expect(reader.normalize({ ...trade, source: "feed-0", seq: 2 })).not.toBeNull();
  });
});
