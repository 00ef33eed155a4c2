/**
 * Market data through the real engine, with hand-derived expectations. The
 * demo instrument: reference 10 000 ticks, collar ±10 %, circuit band ±5 % of
 * the last trade, one minor unit per tick and lot, no fees. Accounts use
 * self-trade prevention cancel_newest, so the scenarios cross different accounts.
 */
import { fixtures } from "@tradestream/engine";
import { InvariantError } from "@tradestream/kernel";
import { describe, expect, it } from "vitest";
import { candleIntervals, intervalUs } from "./candles.ts";
import { MarketDataProjection } from "./projection.ts";
import { dayStartUs as D, levels, Market } from "./scenario.ts";
import type { MarketUpdate } from "./types.ts";

const secondUs = 1_000_000;

function kinds(updates: readonly MarketUpdate[]): string[] {
  return updates.map((u) => u.kind);
}

function deltas(updates: readonly MarketUpdate[]): Array<{ seq: number; changes: Array<[string, number, number, number]> }> {
  return updates.flatMap((u) => (u.kind === "book" ? [{ seq: u.delta.seq, changes: u.delta.changes.map((c): [string, number, number, number] => [c.side, c.priceTicks, c.qtyLots, c.orderCount]) }] : []));
}

/** Candles as [start offset from D in µs, open, high, low, close, volume, notional, trades]. */
function ohlc(list: ReadonlyArray<{ startUs: number; open: number; high: number; low: number; close: number; volumeLots: number; notionalMinor: number; trades: number }>): number[][] {
  return list.map((c) => [c.startUs - D, c.open, c.high, c.low, c.close, c.volumeLots, c.notionalMinor, c.trades]);
}

describe("book", () => {
  it("follows adds, cancels and trades with one delta per command and consecutive seqs, showing only an iceberg's peak", () => {
    const m = Market.create();
    m.order(2, "sell", 10_100, 10);
    expect(deltas(m.lastUpdates)).toEqual([{ seq: 1, changes: [["sell", 10_100, 10, 1]] }]);
    m.order(3, "sell", 10_100, 5);
    expect(deltas(m.lastUpdates)).toEqual([{ seq: 2, changes: [["sell", 10_100, 15, 2]] }]);
    m.order(2, "sell", 10_050, 12, { displayQtyLots: 4 });
    expect(deltas(m.lastUpdates)).toEqual([{ seq: 3, changes: [["sell", 10_050, 4, 1]] }]);
    m.order(1, "buy", 9_900, 8);
    const c = m.order(4, "buy", 9_950, 3);
    let book = m.projection.book(1, Infinity);
    expect(book?.seq).toBe(5);
    expect(levels(book?.bids ?? [])).toEqual([
      [9_950, 3, 1],
      [9_900, 8, 1],
    ]);
    expect(levels(book?.asks ?? [])).toEqual([
      [10_050, 4, 1],
      [10_100, 15, 2],
    ]);
    const top = m.projection.book(1, 1);
    expect([levels(top?.bids ?? []), levels(top?.asks ?? [])]).toEqual([[[9_950, 3, 1]], [[10_050, 4, 1]]]);
    expect(m.projection.book(1, 0)).toMatchObject({ bids: [], asks: [] });

    m.cancel(4, c);
    expect(deltas(m.lastUpdates)).toEqual([{ seq: 6, changes: [["buy", 9_950, 0, 0]] }]);

    // 6 lots at 10 050: the iceberg's peak of 4, then 2 of its next peak; 6 of 12 left, 2 of them shown.
    m.order(1, "buy", 10_050, 6);
    expect(kinds(m.lastUpdates)).toEqual(["book", "trade", "trade", "ticker", ...candleIntervals.map(() => "candle")]);
    expect(deltas(m.lastUpdates)).toEqual([{ seq: 7, changes: [["sell", 10_050, 2, 1]] }]);
    const trades = m.lastUpdates.flatMap((u) => (u.kind === "trade" ? [u.trade] : []));
    expect(trades).toEqual([
      { tradeId: 1, instrumentId: 1, priceTicks: 10_050, qtyLots: 4, notionalMinor: 40_200, takerSide: "buy", tsUs: m.nowUs - 1 },
      { tradeId: 2, instrumentId: 1, priceTicks: 10_050, qtyLots: 2, notionalMinor: 20_100, takerSide: "buy", tsUs: m.nowUs - 1 },
    ]);

    // 20 lots up to 10 100: the iceberg's 2 shown and its last 4, then 10 of the first order at 10 100 and 4 of the second.
    m.order(4, "buy", 10_100, 20);
    expect(deltas(m.lastUpdates)).toEqual([
      {
        seq: 8,
        changes: [
          ["sell", 10_050, 0, 0],
          ["sell", 10_100, 1, 1],
        ],
      },
    ]);
    book = m.projection.book(1, Infinity);
    expect([levels(book?.bids ?? []), levels(book?.asks ?? [])]).toEqual([[[9_900, 8, 1]], [[10_100, 1, 1]]]);
    expect(book?.tsUs).toBe(m.nowUs - 1);
    expect(m.projection.trades(1, 3).map((t) => [t.tradeId, t.priceTicks, t.qtyLots])).toEqual([
      [6, 10_100, 4],
      [5, 10_100, 10],
      [4, 10_050, 4],
    ]);
    expect(m.projection.ticker(1)).toMatchObject({ lastPriceTicks: 10_100, bestBidTicks: 9_900, bestAskTicks: 10_100, volumeLots: 26, trades: 6 });
    expect(m.projection.book(2, 10)).toBeUndefined();
  });

  it("reports a command that changes nothing public with no book delta and no ticker", () => {
    const m = Market.create();
    m.apply({ type: "DepositCash", tsUs: 0, accountId: 1, currency: "EUR", amountMinor: 5 });
    expect(m.lastUpdates).toEqual([]);
    m.apply(fixtures.limit(1, "buy", 20_000, 1));
    expect(m.lastUpdates).toEqual([]);
    expect(m.projection.book(1, 5)?.seq).toBe(0);
  });
});

describe("candles", () => {
  // Four trades: 10 000 × 2 at 10 s, 10 020 × 1 at 59.999999 s, 9 990 × 3 at 60 s, 10 010 × 1 at 301 s.
  function fourTrades(): Market {
    const m = Market.create();
    m.print(10_000, 2, D + 10 * secondUs);
    m.print(10_020, 1, D + 60 * secondUs - 1);
    m.print(9_990, 3, D + 60 * secondUs);
    m.print(10_010, 1, D + 301 * secondUs);
    return m;
  }

  it("aggregate trades into UTC-aligned buckets, split exactly at the boundary", () => {
    const m = fourTrades();
    const all = { limit: 100 };
    expect(ohlc(m.projection.candles(1, "1s", all)).map((c) => c[0])).toEqual([10, 59, 60, 301].map((s) => s * secondUs));
    expect(ohlc(m.projection.candles(1, "1m", all))).toEqual([
      [0, 10_000, 10_020, 10_000, 10_020, 3, 30_020, 2],
      [60 * secondUs, 9_990, 9_990, 9_990, 9_990, 3, 29_970, 1],
      [300 * secondUs, 10_010, 10_010, 10_010, 10_010, 1, 10_010, 1],
    ]);
    expect(ohlc(m.projection.candles(1, "5m", all))).toEqual([
      [0, 10_000, 10_020, 9_990, 9_990, 6, 59_990, 3],
      [300 * secondUs, 10_010, 10_010, 10_010, 10_010, 1, 10_010, 1],
    ]);
    for (const interval of ["1h", "1d"] as const) {
      expect(ohlc(m.projection.candles(1, interval, all))).toEqual([[0, 10_000, 10_020, 9_990, 10_010, 7, 70_000, 4]]);
    }
    expect(m.projection.candles(1, "1m", all).every((c) => c.instrumentId === 1 && c.interval === "1m")).toBe(true);
    expect(intervalUs["5m"]).toBe(300 * secondUs);
  });

  it("answer the last `limit` candles of a range, oldest first, the range inclusive at both ends", () => {
    const m = fourTrades();
    const starts = (query: { limit: number; fromUs?: number; toUs?: number }): number[] => m.projection.candles(1, "1m", query).map((c) => (c.startUs - D) / secondUs);
    expect(starts({ limit: 2 })).toEqual([60, 300]);
    expect(starts({ limit: 1 })).toEqual([300]);
    expect(starts({ limit: 0 })).toEqual([]);
    expect(starts({ limit: 10, fromUs: D + 1, toUs: D + 60 * secondUs })).toEqual([60]);
    expect(starts({ limit: 10, fromUs: D, toUs: D + 60 * secondUs - 1 })).toEqual([0]);
    expect(starts({ limit: 1, toUs: D + 299 * secondUs })).toEqual([60]);
    expect(starts({ limit: 10, fromUs: D + 301 * secondUs })).toEqual([]);
    expect(m.projection.candles(9, "1m", { limit: 10 })).toEqual([]);
  });

  it("emit the candle each trade changed, once per interval per command", () => {
    const m = Market.create();
    m.print(10_000, 2, D + 10 * secondUs);
    m.nowUs = D + 20 * secondUs;
    m.order(2, "sell", 10_010, 1);
    m.order(2, "sell", 10_020, 1);
    m.order(1, "buy", 10_020, 2);
    const candles = m.lastUpdates.flatMap((u) => (u.kind === "candle" ? [u.candle] : []));
    expect(candles.map((c) => c.interval)).toEqual([...candleIntervals]);
    expect(ohlc(candles.filter((c) => c.interval === "1m"))).toEqual([[0, 10_000, 10_020, 10_000, 10_020, 4, 20_000 + 10_010 + 10_020, 3]]);
    expect(ohlc(candles.filter((c) => c.interval === "1s"))).toEqual([[20 * secondUs, 10_010, 10_020, 10_010, 10_020, 2, 20_030, 2]]);
  });
});

describe("ticker", () => {
  it("rolls over at the UTC day of the latest event, with the previous day's last trade as the previous close", () => {
    const m = Market.create();
    m.apply(fixtures.instrument({ instrumentId: 2, symbol: "BETA", isin: "DE000BETA001", referencePriceTicks: 5_000 }));
    m.print(10_000, 2, D + 10 * secondUs);
    m.print(10_020, 1, D + 60 * secondUs - 1);
    m.print(9_990, 3, D + 60 * secondUs);
    m.print(10_010, 1, D + 301 * secondUs);
    expect(m.projection.ticker(1)).toEqual({
      instrumentId: 1,
      lastPriceTicks: 10_010,
      openTicks: 10_000,
      highTicks: 10_020,
      lowTicks: 9_990,
      previousCloseTicks: 10_000,
      volumeLots: 7,
      notionalMinor: 70_000,
      trades: 4,
      bestBidTicks: null,
      bestAskTicks: null,
      referencePriceTicks: 10_000,
      state: "open",
      tsUs: D + 301 * secondUs,
    });
    // The next day begins with an event of the other instrument: instrument 1's day statistics start afresh.
    const nextDay = D + 86_400 * secondUs;
    m.nowUs = nextDay + secondUs;
    m.apply({ type: "SetReferencePrice", tsUs: 0, instrumentId: 2, priceTicks: 5_100 });
    expect(m.projection.ticker(1)).toMatchObject({ lastPriceTicks: 10_010, openTicks: null, highTicks: null, lowTicks: null, previousCloseTicks: 10_010, volumeLots: 0, notionalMinor: 0, trades: 0, tsUs: nextDay + secondUs });
    expect(m.projection.ticker(2)).toMatchObject({ previousCloseTicks: 5_100, referencePriceTicks: 5_100, lastPriceTicks: null, volumeLots: 0 });

    m.nowUs = nextDay + 5 * secondUs;
    m.order(3, "buy", 9_500, 1);
    const emitted = m.lastUpdates.flatMap((u) => (u.kind === "ticker" ? [u.ticker] : []));
    expect(emitted).toEqual([expect.objectContaining({ instrumentId: 1, openTicks: null, volumeLots: 0, previousCloseTicks: 10_010, bestBidTicks: 9_500, tsUs: nextDay + 5 * secondUs })]);

    m.print(10_030, 2, nextDay + 10 * secondUs);
    expect(m.projection.ticker(1)).toMatchObject({
      lastPriceTicks: 10_030,
      openTicks: 10_030,
      highTicks: 10_030,
      lowTicks: 10_030,
      previousCloseTicks: 10_010,
      volumeLots: 2,
      notionalMinor: 20_060,
      trades: 1,
      bestBidTicks: 9_500,
      bestAskTicks: null,
    });
    expect(ohlc(m.projection.candles(1, "1d", { limit: 5 }))).toEqual([
      [0, 10_000, 10_020, 9_990, 10_010, 7, 70_000, 4],
      [86_400 * secondUs, 10_030, 10_030, 10_030, 10_030, 2, 20_060, 1],
    ]);
  });

  it("uses the reference price as the previous close before any trade, and follows its changes", () => {
    const m = Market.create();
    expect(m.projection.ticker(1)?.previousCloseTicks).toBe(10_000);
    m.apply({ type: "SetReferencePrice", tsUs: 0, instrumentId: 1, priceTicks: 10_200 });
    expect(m.projection.ticker(1)).toMatchObject({ previousCloseTicks: 10_200, referencePriceTicks: 10_200 });
    expect(m.projection.ticker(7)).toBeUndefined();
  });
});

describe("instruments", () => {
  it("are found by id or case-insensitive symbol and follow updates, halts and the last price", () => {
    const m = Market.create();
    m.apply(fixtures.instrument({ instrumentId: 2, symbol: "Beta", isin: "DE000BETA001" }));
    expect(m.lastUpdates.map((u) => u.kind)).toEqual(["instrument", "ticker"]);
    expect(m.projection.instruments().map((i) => i.symbol)).toEqual(["ACME", "Beta"]);
    expect(m.projection.instrument("acme")?.instrumentId).toBe(1);
    expect(m.projection.instrument("BETA")?.instrumentId).toBe(2);
    expect(m.projection.instrument(2)?.symbol).toBe("Beta");
    expect(m.projection.instrument("GAMMA")).toBeUndefined();
    expect(m.projection.instrument(3)).toBeUndefined();

    m.apply({ type: "UpdateInstrument", tsUs: 0, instrumentId: 1, priceBandBps: 500, circuitBandBps: 300, maxOrderQtyLots: 50, maxOrderNotionalMinor: 1_000_000, makerFeeBps: 1, takerFeeBps: 2 });
    const updated = { instrumentId: 1, symbol: "ACME", priceBandBps: 500, circuitBandBps: 300, maxOrderQtyLots: 50, maxOrderNotionalMinor: 1_000_000, makerFeeBps: 1, takerFeeBps: 2 };
    expect(m.lastUpdates.map((u) => (u.kind === "instrument" ? u.instrument : u.kind))).toMatchObject([updated]);
    expect(m.projection.instrument(1)).toMatchObject(updated);
    m.print(10_000, 1, m.nowUs + 10);
    expect(m.projection.instrument(1)?.lastPriceTicks).toBe(10_000);
    m.apply({ type: "SetTradingState", tsUs: 0, instrumentId: 1, state: "halted" });
    expect(m.lastUpdates.map((u) => u.kind)).toEqual(["instrument", "ticker"]);
    expect(m.projection.instrument(1)?.state).toBe("halted");
    expect(m.projection.ticker(1)?.state).toBe("halted");
  });

  it("are halted by a circuit breaker in the same command that tried to trade through the band", () => {
    const m = Market.create();
    m.order(2, "sell", 10_600, 1);
    m.order(1, "buy", 10_600, 1);
    // The taker never rested and the maker was not touched: no book change, only the halt.
    expect(m.lastUpdates.map((u) => u.kind)).toEqual(["instrument", "ticker"]);
    expect(m.projection.instrument(1)).toMatchObject({ state: "halted", lastPriceTicks: null });
  });
});

describe("bounded history", () => {
  it("keeps the newest `tradesKept` trades and `candlesKept` candles", () => {
    const m = Market.create({ tradesKept: 3, candlesKept: 2 });
    [10_000, 10_010, 10_020].forEach((price, i) => m.print(price, 1, D + (i + 1) * secondUs));
    expect(m.projection.trades(1, 10).map((t) => t.priceTicks)).toEqual([10_020, 10_010, 10_000]);
    expect(m.projection.candles(1, "1s", { limit: 10 }).map((c) => c.close)).toEqual([10_010, 10_020]);
    m.print(10_030, 1, D + 4 * secondUs);
    expect(m.projection.trades(1, 10).map((t) => t.priceTicks)).toEqual([10_030, 10_020, 10_010]);
    expect(m.projection.trades(1, 2).map((t) => t.priceTicks)).toEqual([10_030, 10_020]);
    expect(m.projection.trades(1, 0)).toEqual([]);
    expect(m.projection.candles(1, "1s", { limit: 10 }).map((c) => c.close)).toEqual([10_020, 10_030]);
    // The long intervals keep all four trades in their one open candle.
    expect(m.projection.candles(1, "1m", { limit: 10 }).map((c) => c.trades)).toEqual([4]);
  });

  it("rejects a history bound below one", () => {
    expect(() => new MarketDataProjection({ tradesKept: 0 })).toThrow(InvariantError);
    expect(() => new MarketDataProjection({ candlesKept: 0 })).toThrow(InvariantError);
  });
});

describe("delivery", () => {
  function session(): Market {
    const m = Market.create();
    m.order(2, "sell", 10_000, 5);
    m.order(3, "sell", 10_010, 5);
    m.order(1, "buy", 10_010, 7);
    return m;
  }

  it("skips events already applied, whole batches or a batch's first part", () => {
    const m = session();
    const replica = new MarketDataProjection();
    const updates: MarketUpdate[] = [];
    replica.onUpdate((u) => updates.push(u));
    m.eventBatches.forEach((batch, i) => {
      replica.apply(batch);
      replica.apply(batch);
      const next = m.eventBatches[i + 1];
      if (next !== undefined) replica.apply([...batch.slice(1), ...next]);
    });
    expect(replica.lastEventSeq).toBe(m.projection.lastEventSeq);
    expect(replica.lastEventSeq).toBe(m.engine.eventSeq);
    expect(replica.book(1, Infinity)).toEqual(m.projection.book(1, Infinity));
    expect(replica.trades(1, 100)).toEqual(m.projection.trades(1, 100));
    expect(replica.ticker(1)).toEqual(m.projection.ticker(1));
    expect(updates).toEqual(m.batches.flat());
  });

  it("refuses a gap in the sequence before changing anything", () => {
    const m = session();
    const replica = new MarketDataProjection();
    const batches = m.eventBatches;
    const last = batches.length - 1;
    batches.slice(0, last - 1).forEach((batch) => replica.apply(batch));
    const before = replica.lastEventSeq;
    expect(() => replica.apply(batches[last] ?? [])).toThrow(InvariantError);
    expect(replica.lastEventSeq).toBe(before);
    expect(replica.trades(1, 10)).toEqual([]);
    replica.apply(batches[last - 1] ?? []);
    replica.apply(batches[last] ?? []);
    expect(replica.book(1, Infinity)).toEqual(m.projection.book(1, Infinity));
    expect(() => new MarketDataProjection().apply(batches[1] ?? [])).toThrow(InvariantError);
  });

  it("isolates a throwing listener from the projection and the other listeners; unsubscribing stops updates", () => {
    const m = session();
    const errors: unknown[] = [];
    const replica = new MarketDataProjection({ onListenerError: (error) => errors.push(error) });
    const seen: string[] = [];
    replica.onUpdate(() => {
      throw new Error("listener bug");
    });
    const stop = replica.onUpdate((u) => seen.push(u.kind));
    const batches = m.eventBatches;
    batches.slice(0, -1).forEach((batch) => replica.apply(batch));
    const emitted = m.batches.slice(0, -1).flat().length;
    expect(seen.length).toBe(emitted);
    expect(errors.length).toBe(emitted);
    expect(errors.every((e) => e instanceof Error && e.message === "listener bug")).toBe(true);
    stop();
    replica.apply(batches[batches.length - 1] ?? []);
    expect(seen.length).toBe(emitted);
    expect(replica.trades(1, 10)).toEqual(m.projection.trades(1, 10));
  });

  it("survives a throwing error hook", () => {
    const m = session();
    const replica = new MarketDataProjection({
      onListenerError: () => {
        throw new Error("hook bug");
      },
    });
    const seen: string[] = [];
    replica.onUpdate(() => {
      throw new Error("listener bug");
    });
    replica.onUpdate((u) => seen.push(u.kind));
    m.eventBatches.forEach((batch) => replica.apply(batch));
    expect(seen).toEqual(m.batches.flat().map((u) => u.kind));
  });
});
