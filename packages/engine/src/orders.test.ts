/**
 * Order types: limit, market and iceberg, against hand-built books. The demo
 * instrument has a reference price of 10 000 ticks, a collar of ±10 % (9 000 to
 * 11 000), a circuit band of ±5 % of the last trade, one minor unit per tick and
 * lot, and no fees unless a test sets them. Every scenario runs through the
 * harness, which checks seq/tsUs, the whole-state invariants and conservation
 * after every command.
 */
import { describe, expect, it } from "vitest";
import { market } from "./fixtures.ts";
import { cancels, levelEvents, ofType, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;
const lots0 = 1_000_000;

describe("limit orders", () => {
  it("rests on an empty book and reserves the lots it sells", () => {
    const s = Scenario.create();
    const { events, id } = s.order(2, "sell", 10_100, 10);
    expect(events.map((e) => e.type)).toEqual(["OrderAccepted", "PositionChanged", "BookLevelChanged"]);
    expect(ofType(events, "OrderAccepted")[0]).toMatchObject({ orderId: id, side: "sell", priceTicks: 10_100, qtyLots: 10, tif: "GTC" });
    expect(levelEvents(events)).toEqual([["sell", 10_100, 10, 1]]);
    expect(s.levels("sell")).toEqual([[10_100, 10, 1]]);
    expect(s.position(2)).toEqual([lots0, 10]);
  });

  it("reserves notional for a resting buy: 7 lots × 9 990 ticks = 69 930", () => {
    const s = Scenario.create();
    s.order(1, "buy", 9_990, 7);
    expect(s.cash(1)).toEqual([cash0, 69_930]);
    expect(s.levels("buy")).toEqual([[9_990, 7, 1]]);
  });

  // A resting sell of 10 @ 10 000; a buy of `qty` @ 10 000 against it.
  it.each([
    { name: "partial fill of the maker", qty: 4, filled: 4, makerLeaves: 6, asks: [[10_000, 6, 1]], bids: [] },
    { name: "full fill of both", qty: 10, filled: 10, makerLeaves: null, asks: [], bids: [] },
    { name: "taker larger than the book rests its remainder", qty: 15, filled: 10, makerLeaves: null, asks: [], bids: [[10_000, 5, 1]] },
  ])("$name", ({ qty, filled, makerLeaves, asks, bids }) => {
    const s = Scenario.create();
    const maker = s.order(2, "sell", 10_000, 10).id;
    const { events, id: taker } = s.order(1, "buy", 10_000, qty);
    expect(trades(events)).toEqual([[10_000, filled, maker, taker]]);
    expect(ofType(events, "TradeExecuted")[0]).toMatchObject({ notionalMinor: 10_000 * filled, takerSide: "buy", makerAccountId: 2, takerAccountId: 1 });
    expect(s.open(maker)).toEqual(makerLeaves === null ? null : [makerLeaves, filled]);
    expect(s.levels("sell")).toEqual(asks);
    expect(s.levels("buy")).toEqual(bids);
    const resting = qty - filled;
    expect(s.cash(1)).toEqual([cash0 - 10_000 * filled, 10_000 * resting]);
    expect(s.position(1)).toEqual([lots0 + filled, 0]);
    expect(s.cash(2)).toEqual([cash0 + 10_000 * filled, 0]);
    expect(s.position(2)).toEqual([lots0 - filled, 10 - filled]);
  });

  it("sweeps several levels, each at the maker's price", () => {
    const s = Scenario.create();
    const a = s.order(2, "sell", 10_010, 3).id;
    const b = s.order(3, "sell", 10_020, 4).id;
    const c = s.order(4, "sell", 10_030, 5).id;
    const { events, id: t } = s.order(1, "buy", 10_030, 10);
    expect(trades(events)).toEqual([
      [10_010, 3, a, t],
      [10_020, 4, b, t],
      [10_030, 3, c, t],
    ]);
    expect(levelEvents(events)).toEqual([
      ["sell", 10_010, 0, 0],
      ["sell", 10_020, 0, 0],
      ["sell", 10_030, 2, 1],
    ]);
    // 3 × 10 010 + 4 × 10 020 + 3 × 10 030 = 30 030 + 40 080 + 30 090 = 100 200, not 10 × 10 030.
    expect(s.cash(1)).toEqual([cash0 - 100_200, 0]);
    expect(s.levels("sell")).toEqual([[10_030, 2, 1]]);
  });

  it("fills a better price first, then a level in time order", () => {
    const s = Scenario.create();
    const first = s.order(2, "sell", 10_000, 2).id;
    const second = s.order(3, "sell", 10_000, 2).id;
    const better = s.order(4, "sell", 9_990, 1).id;
    const { events, id: t } = s.order(1, "buy", 10_000, 4);
    expect(trades(events)).toEqual([
      [9_990, 1, better, t],
      [10_000, 2, first, t],
      [10_000, 1, second, t],
    ]);
    expect(s.open(second)).toEqual([1, 1]);
    expect(s.levels("sell")).toEqual([[10_000, 1, 1]]);
  });
});

describe("market orders", () => {
  it("fills at maker prices and cancels what the book cannot fill as market_no_liquidity", () => {
    const s = Scenario.create();
    const a = s.order(2, "sell", 10_000, 3).id;
    const b = s.order(3, "sell", 10_010, 2).id;
    const events = s.apply(market(1, "buy", 10));
    const id = ofType(events, "OrderAccepted")[0]?.orderId ?? 0;
    expect(ofType(events, "OrderAccepted")[0]).toMatchObject({ orderType: "market", tif: "IOC", priceTicks: 0, qtyLots: 10 });
    expect(trades(events)).toEqual([
      [10_000, 3, a, id],
      [10_010, 2, b, id],
    ]);
    expect(cancels(events)).toEqual([[id, 5, 0, "market_no_liquidity"]]);
    // 3 × 10 000 + 2 × 10 010 = 50 020; the reservation at the collar (10 × 11 000) is released.
    expect(s.cash(1)).toEqual([cash0 - 50_020, 0]);
    expect(s.levels("sell")).toEqual([]);
    expect(s.engine.orders.has(id)).toBe(false);
  });

  it("on an empty book cancels everything and releases the lots", () => {
    const s = Scenario.create();
    const events = s.apply(market(2, "sell", 10));
    const id = ofType(events, "OrderAccepted")[0]?.orderId ?? 0;
    expect(trades(events)).toEqual([]);
    expect(cancels(events)).toEqual([[id, 10, 0, "market_no_liquidity"]]);
    expect(s.position(2)).toEqual([lots0, 0]);
  });

  // A wide circuit band keeps the breaker out of the way; the collar is floor(ref × 1 000 / 10 000).
  it.each([
    { name: "buy reaches an ask at collarHigh = 10 000 + 1 000", side: "buy", rest: 11_000, ref: 10_000, fills: true },
    { name: "buy stops short when collarHigh = 9 999 + floor(999.9) = 10 998", side: "buy", rest: 11_000, ref: 9_999, fills: false },
    { name: "sell reaches a bid at collarLow = 10 000 − 1 000", side: "sell", rest: 9_000, ref: 10_000, fills: true },
    { name: "sell stops short when collarLow = 10 001 − floor(1 000.1) = 9 001", side: "sell", rest: 9_000, ref: 10_001, fills: false },
  ] as const)("protection price is the collar edge: $name", ({ side, rest, ref, fills }) => {
    const s = Scenario.create({ instrument: { circuitBandBps: 10_000 } });
    const maker = s.order(2, side === "buy" ? "sell" : "buy", rest, 1).id;
    if (ref !== 10_000) s.apply({ type: "SetReferencePrice", tsUs: 0, instrumentId: 1, priceTicks: ref });
    const events = s.apply(market(1, side, 1));
    const id = ofType(events, "OrderAccepted")[0]?.orderId ?? 0;
    expect(trades(events)).toEqual(fills ? [[rest, 1, maker, id]] : []);
    expect(cancels(events)).toEqual(fills ? [] : [[id, 1, 0, "market_no_liquidity"]]);
  });
});

describe("iceberg orders", () => {
  it("shows only the display quantity in BookLevelChanged but reserves the whole order", () => {
    const s = Scenario.create();
    const { events } = s.order(2, "sell", 10_000, 10, { displayQtyLots: 3 });
    expect(ofType(events, "OrderAccepted")[0]).toMatchObject({ qtyLots: 10, displayQtyLots: 3 });
    expect(levelEvents(events)).toEqual([["sell", 10_000, 3, 1]]);
    expect(s.position(2)).toEqual([lots0, 10]);
  });

  it("replenishes at the back of its level, behind an order that arrived later", () => {
    const s = Scenario.create();
    const iceberg = s.order(2, "sell", 10_000, 10, { displayQtyLots: 3 }).id;
    const later = s.order(3, "sell", 10_000, 5).id;
    expect(s.levels("sell")).toEqual([[10_000, 8, 2]]);
    // 6 lots: the iceberg's peak of 3, then (the iceberg having gone to the back) 3 of the later order.
    const first = s.order(1, "buy", 10_000, 6);
    expect(trades(first.events)).toEqual([
      [10_000, 3, iceberg, first.id],
      [10_000, 3, later, first.id],
    ]);
    // Left: later 2 (now first in the queue), iceberg 7 of which 3 shown.
    expect(levelEvents(first.events)).toEqual([["sell", 10_000, 5, 2]]);
    expect(s.open(later)).toEqual([2, 3]);
    expect(s.open(iceberg)).toEqual([7, 3]);
    const second = s.order(1, "buy", 10_000, 3);
    expect(trades(second.events)).toEqual([
      [10_000, 2, later, second.id],
      [10_000, 1, iceberg, second.id],
    ]);
    expect(s.levels("sell")).toEqual([[10_000, 2, 1]]);
  });

  it("executes its hidden quantity, one peak at a time", () => {
    const s = Scenario.create();
    const iceberg = s.order(2, "sell", 10_000, 10, { displayQtyLots: 3 }).id;
    const { events, id } = s.order(1, "buy", 10_000, 10);
    expect(trades(events)).toEqual([
      [10_000, 3, iceberg, id],
      [10_000, 3, iceberg, id],
      [10_000, 3, iceberg, id],
      [10_000, 1, iceberg, id],
    ]);
    expect(levelEvents(events)).toEqual([["sell", 10_000, 0, 0]]);
    expect(s.position(2)).toEqual([lots0 - 10, 0]);
    expect(s.position(1)).toEqual([lots0 + 10, 0]);
  });

  it("shows what is left of a partly taken peak without replenishing early", () => {
    const s = Scenario.create();
    const iceberg = s.order(2, "sell", 10_000, 10, { displayQtyLots: 3 }).id;
    // 8 lots: 3 + 3 + 2, leaving 2 lots of which 1 shown (the rest of the third peak).
    const { events } = s.order(1, "buy", 10_000, 8);
    expect(trades(events).map((t) => t[1])).toEqual([3, 3, 2]);
    expect(levelEvents(events)).toEqual([["sell", 10_000, 1, 1]]);
    expect(s.open(iceberg)).toEqual([2, 8]);
  });
});
