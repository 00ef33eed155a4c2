/**
 * Read-model snapshots with hand-made inputs: round trips (empty and
 * populated, smaller limits, the symbol map as stored), and the errors for
 * bytes that are not a valid snapshot of this version: garbage, another
 * magic, another version, truncation, and bodies with a bad field.
 */
import { Engine, fixtures } from "@tradestream/engine";
import { describe, expect, it } from "vitest";
import { candleIntervals, dayUs } from "./candles.ts";
import { MarketDataProjection } from "./projection.ts";
import { dayStartUs as D, Market } from "./scenario.ts";
import { marketDataSnapshotVersion } from "./snapshot.ts";
import type { MarketUpdate } from "./types.ts";

const secondUs = 1_000_000;
const utf8 = new TextEncoder();

/** The demo market with resting orders on both sides and trades over two days, halted at the end. */
function busyMarket(): Market {
  const m = Market.create();
  m.order(3, "sell", 10_200, 5);
  m.order(4, "buy", 9_900, 8);
  m.order(4, "buy", 9_800, 2);
  m.print(10_000, 3, D + 2 * secondUs);
  m.print(10_050, 2, D + 3 * secondUs + 500_000);
  m.print(10_020, 4, D + 65 * secondUs);
  m.print(10_010, 1, D + dayUs + 10 * secondUs);
  m.apply({ type: "SetTradingState", tsUs: 0, instrumentId: 1, state: "halted" });
  return m;
}

/** Every query's answer for instrument 1, for comparing two projections. */
function answers(p: MarketDataProjection): unknown {
  return {
    seq: p.lastEventSeq,
    instruments: p.instruments(),
    bySymbol: p.instrument("acme"),
    book: p.book(1, Infinity),
    trades: p.trades(1, Infinity),
    candles: candleIntervals.map((interval) => p.candles(1, interval, { limit: Infinity })),
    ticker: p.ticker(1),
  };
}

/** A snapshot's JSON body, typed loosely enough to break. */
interface Body {
  lastSeq: unknown;
  nowUs: unknown;
  symbols: unknown[][];
  instruments: Instrument[];
}

interface Instrument {
  [field: string]: unknown;
  spec: Record<string, unknown>;
  bids: unknown[][];
  asks: unknown[][];
  trades: unknown[][];
  candles: Record<string, unknown[][]>;
  day: Record<string, unknown>;
}

function nth<T>(items: readonly T[] | undefined, n: number): T {
  const item = items?.[n];
  if (item === undefined) throw new Error(`no item ${n}`);
  return item;
}

/** The snapshot with its JSON body changed by `change`. */
function tampered(bytes: Uint8Array, change: (body: Body) => void): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const at = text.indexOf("\n") + 1;
  const body = JSON.parse(text.slice(at)) as Body;
  change(body);
  return utf8.encode(text.slice(0, at) + JSON.stringify(body));
}

describe("snapshot round trips", () => {
  it("an empty projection round-trips and then follows the stream as a fresh one does", () => {
    const bytes = new MarketDataProjection().snapshot();
    expect(new TextDecoder().decode(bytes.subarray(0, 7))).toBe(`TSMD ${marketDataSnapshotVersion}\n`);
    const restored = MarketDataProjection.restore(bytes);
    expect(restored.snapshot()).toEqual(bytes);
    expect(restored.instruments()).toEqual([]);
    expect(restored.lastEventSeq).toBe(0);
    const m = busyMarket();
    for (const events of m.eventBatches) restored.apply(events);
    expect(answers(restored)).toEqual(answers(m.projection));
    expect(restored.snapshot()).toEqual(m.projection.snapshot());
  });

  it("snapshotting twice gives equal bytes, and so does snapshotting the restored projection", () => {
    const m = busyMarket();
    const bytes = m.projection.snapshot();
    expect(m.projection.snapshot()).toEqual(bytes);
    const restored = MarketDataProjection.restore(bytes);
    expect(restored.snapshot()).toEqual(bytes);
    expect(answers(restored)).toEqual(answers(m.projection));
    expect(restored.ticker(1)).toMatchObject({ previousCloseTicks: 10_020, state: "halted" });
  });

  it("restored with smaller limits, keeps the newest trades and candles", () => {
    const m = busyMarket();
    const restored = MarketDataProjection.restore(m.projection.snapshot(), { tradesKept: 2, candlesKept: 1 });
    expect(m.projection.trades(1, Infinity)).toHaveLength(4);
    expect(restored.trades(1, Infinity)).toEqual(m.projection.trades(1, 2));
    for (const interval of candleIntervals) expect(restored.candles(1, interval, { limit: Infinity })).toEqual(m.projection.candles(1, interval, { limit: 1 }));
  });

  it("skips events it already applied and refuses a gap, as the live projection does", () => {
    const m = busyMarket();
    const restored = MarketDataProjection.restore(m.projection.snapshot());
    const updates: MarketUpdate[] = [];
    restored.onUpdate((u) => updates.push(u));
    restored.apply(m.eventBatches[m.eventBatches.length - 1] ?? []);
    expect(updates).toEqual([]);
    const next = m.engine.apply({ type: "CancelOrder", tsUs: D + dayUs + 20 * secondUs, accountId: 4, orderId: 3 });
    expect(() => restored.apply(next.map((e) => ({ ...e, seq: e.seq + 1 })))).toThrow(/the stream has a gap/);
    restored.apply(next);
    expect(updates.map((u) => u.kind)).toContain("book");
    m.projection.apply(next);
    expect(answers(restored)).toEqual(answers(m.projection));
  });

  it("keeps the symbol map as stored: the first instrument to claim a symbol keeps it", () => {
    const created = new Engine().apply(fixtures.instrument()).find((e) => e.type === "InstrumentCreated");
    if (created === undefined) throw new Error("no InstrumentCreated");
    const p = new MarketDataProjection();
    p.apply([created, { ...created, seq: created.seq + 1, instrumentId: 2, symbol: "acme" }]);
    const restored = MarketDataProjection.restore(p.snapshot());
    expect(restored.instrument("ACME")?.instrumentId).toBe(1);
    expect(restored.instrument("acme")?.instrumentId).toBe(1);
    expect(restored.instrument(2)?.symbol).toBe("acme");
    expect(restored.snapshot()).toEqual(p.snapshot());
  });
});

describe("snapshot errors", () => {
  const good = busyMarket().projection.snapshot();

  it.each([
    ["no bytes", new Uint8Array(0)],
    ["garbage", new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0xff])],
    ["another magic", utf8.encode(`TSMX 1\n{}`)],
    ["bare JSON", utf8.encode(`{"lastSeq":0,"nowUs":0,"symbols":[],"instruments":[]}`)],
  ])("%s is not a snapshot", (_, bytes) => {
    expect(() => MarketDataProjection.restore(bytes)).toThrow(/^not a market-data read-model snapshot/);
  });

  it("a malformed header is not a snapshot", () => {
    expect(() => MarketDataProjection.restore(utf8.encode("TSMD one\n{}"))).toThrow("not a market-data read-model snapshot: malformed header");
    expect(() => MarketDataProjection.restore(utf8.encode("TSMD \n{}"))).toThrow("not a market-data read-model snapshot: malformed header");
    expect(() => MarketDataProjection.restore(utf8.encode("TSMD 1234567890\n{}"))).toThrow("not a market-data read-model snapshot: malformed header");
  });

  it.each([0, 2, 7, 10])("version %i is not supported", (version) => {
    const bytes = utf8.encode(`TSMD ${version}\n${new TextDecoder().decode(good).split("\n")[1] ?? ""}`);
    expect(() => MarketDataProjection.restore(bytes)).toThrow(`market-data snapshot version ${version} is not supported (this release reads 1)`);
  });

  it("every truncation throws", () => {
    for (let length = 1; length < good.length; length += 1) {
      expect(() => MarketDataProjection.restore(good.subarray(0, length)), `cut at ${length}`).toThrow(/^market-data snapshot truncated/);
    }
  });

  it("trailing bytes throw", () => {
    const longer = new Uint8Array([...good, 0x20, 0x7b]);
    expect(() => MarketDataProjection.restore(longer)).toThrow(/^market-data snapshot truncated or corrupt/);
  });

  const first = (b: Body): Instrument => nth(b.instruments, 0);
  it.each<[string, (body: Body) => void, string | RegExp]>([
    ["an object for a list", (b) => { (b as { instruments: unknown }).instruments = {}; }, "invalid market-data snapshot: instruments must be a list, got {}"],
    ["a string for a number", (b) => { first(b).bookSeq = "7"; }, `invalid market-data snapshot: instruments[0].bookSeq must be a non-negative safe integer, got "7"`],
    ["a fraction", (b) => { nth(first(b).trades, 1)[1] = 10_000.5; }, "invalid market-data snapshot: instruments[0].trades[1][1] must be a positive safe integer, got 10000.5"],
    ["an unsafe integer", (b) => { b.nowUs = 2 ** 60; }, /^invalid market-data snapshot: nowUs must be a non-negative safe integer/],
    ["a negative seq", (b) => { b.lastSeq = -1; }, "invalid market-data snapshot: lastSeq must be a non-negative safe integer, got -1"],
    ["null for a number", (b) => { first(b).day["volumeLots"] = null; }, "invalid market-data snapshot: instruments[0].day.volumeLots must be a non-negative safe integer, got null"],
    ["an unknown trading state", (b) => { first(b).state = "paused"; }, `invalid market-data snapshot: instruments[0].state must be one of "open", "halted", "closed", got "paused"`],
    ["an unknown side", (b) => { nth(first(b).trades, 0)[4] = "BUY"; }, /^invalid market-data snapshot: instruments\[0\]\.trades\[0\]\[4\] must be one of "buy", "sell"/],
    ["a number for a string", (b) => { first(b).spec["symbol"] = 1; }, "invalid market-data snapshot: instruments[0].spec.symbol must be a string, got 1"],
    ["a missing field", (b) => { delete first(b).spec["takerFeeBps"]; }, `invalid market-data snapshot: instruments[0].spec lacks the field "takerFeeBps"`],
    ["a missing interval", (b) => { delete first(b).candles["1h"]; }, `invalid market-data snapshot: instruments[0].candles lacks the field "1h"`],
    ["an unknown field", (b) => { first(b)["extra"] = 1; }, `invalid market-data snapshot: instruments[0] has an unknown field "extra"`],
    ["a short row", (b) => { nth(first(b).candles["1m"], 0).pop(); }, /^invalid market-data snapshot: instruments\[0\]\.candles\.1m\[0\] must be a list of 8 values/],
    ["book levels out of order", (b) => { first(b).bids.reverse(); }, /^invalid market-data snapshot: instruments\[0\]\.bids\[1\] is out of order/],
    ["an empty book level", (b) => { nth(first(b).asks, 0)[2] = 0; }, /^invalid market-data snapshot: instruments\[0\]\.asks\[0\]\[2\] must be a positive/],
    ["candles out of order", (b) => { first(b).candles["1s"]?.reverse(); }, /^invalid market-data snapshot: instruments\[0\]\.candles\.1s\[1\] is out of order/],
    ["a candle off its bucket", (b) => { const row = nth(first(b).candles["1m"], 0); row[0] = Number(row[0]) + 1; }, /^invalid market-data snapshot: instruments\[0\]\.candles\.1m\[0\] starts off a 1m bucket/],
    ["a candle after now", (b) => { const row = nth(first(b).candles["1d"], 1); row[0] = Number(row[0]) + dayUs; }, /^invalid market-data snapshot: instruments\[0\]\.candles\.1d\[1\] is later than nowUs/],
    ["a day without prices but with trades", (b) => { first(b).day["openTicks"] = null; }, /^invalid market-data snapshot: instruments\[0\]\.day has open, high and low prices/],
    ["a symbol of no instrument", (b) => { nth(b.symbols, 0)[1] = 9; }, /^invalid market-data snapshot: symbols\[0\] maps "ACME" to instrument 9/],
    ["an instrument's symbol unmapped", (b) => { b.symbols = []; }, `invalid market-data snapshot: symbols lack "ACME"`],
    ["a repeated instrument", (b) => { b.instruments.push(first(b)); }, /^invalid market-data snapshot: instruments\[1\] repeats instrument id 1/],
  ])("%s throws", (_, change, message) => {
    expect(() => MarketDataProjection.restore(tampered(good, change))).toThrow(message);
  });

  it("the tampering helper leaves a good snapshot good", () => {
    expect(MarketDataProjection.restore(tampered(good, () => undefined)).snapshot()).toEqual(good);
  });
});
