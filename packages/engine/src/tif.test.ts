/**
 * Time in force and post-only: GTC and DAY rest (DAY until EndOfDay), IOC
 * cancels its remainder, FOK trades all or nothing, post-only never takes.
 */
import { describe, expect, it } from "vitest";
import { cancels, levelEvents, ofType, rejection, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;
const lots0 = 1_000_000;

describe("GTC and DAY", () => {
  it.each(["GTC", "DAY"] as const)("%s rests when it does not cross", (tif) => {
    const s = Scenario.create();
    const { id } = s.order(1, "buy", 9_990, 5, { tif });
    expect(s.open(id)).toEqual([5, 0]);
    expect(s.levels("buy")).toEqual([[9_990, 5, 1]]);
  });

  it("EndOfDay expires DAY orders (resting and pending stop), releases their reservations and keeps GTC", () => {
    const s = Scenario.create();
    const day = s.order(1, "buy", 9_990, 5, { tif: "DAY", clientOrderId: "day-1" }).id;
    const gtc = s.order(1, "buy", 9_980, 2).id;
    const dayStop = s.order(2, "sell", 0, 3, { orderType: "stop", stopPriceTicks: 9_500, tif: "DAY" }).id;
    // 5 × 9 990 + 2 × 9 980 = 49 950 + 19 960 = 69 910.
    expect(s.cash(1)).toEqual([cash0, 69_910]);
    expect(s.position(2)).toEqual([lots0, 3]);

    const events = s.apply({ type: "EndOfDay", tsUs: 0 });
    expect(events.map((e) => e.type)).toEqual(["OrderExpired", "OrderExpired", "DayEnded", "BalanceChanged", "PositionChanged", "BookLevelChanged"]);
    expect(ofType(events, "OrderExpired").map((e) => [e.orderId, e.expiredQtyLots])).toEqual([
      [day, 5],
      [dayStop, 3],
    ]);
    expect(levelEvents(events)).toEqual([["buy", 9_990, 0, 0]]);
    expect(s.cash(1)).toEqual([cash0, 19_960]);
    expect(s.position(2)).toEqual([lots0, 0]);
    expect(s.open(day)).toBeNull();
    expect(s.open(dayStop)).toBeNull();
    expect(s.open(gtc)).toEqual([2, 0]);
    expect(s.levels("buy")).toEqual([[9_980, 2, 1]]);
  });

  it("a DAY order partly filled expires only its open quantity", () => {
    const s = Scenario.create();
    const day = s.order(1, "buy", 10_000, 5, { tif: "DAY" }).id;
    s.order(2, "sell", 10_000, 2);
    const events = s.apply({ type: "EndOfDay", tsUs: 0 });
    expect(ofType(events, "OrderExpired").map((e) => [e.orderId, e.expiredQtyLots])).toEqual([[day, 3]]);
    expect(s.cash(1)).toEqual([cash0 - 20_000, 0]);
  });

  it("a client order id is unique for the day and reusable after EndOfDay", () => {
    const s = Scenario.create();
    s.order(1, "buy", 9_990, 5, { tif: "DAY", clientOrderId: "day-1" });
    expect(rejection(s.order(1, "buy", 9_990, 5, { tif: "DAY", clientOrderId: "day-1" }).events)).toBe("duplicate_client_order_id");
    s.apply({ type: "EndOfDay", tsUs: 0 });
    const again = s.order(1, "buy", 9_990, 5, { tif: "DAY", clientOrderId: "day-1" });
    expect(rejection(again.events)).toBeNull();
    expect(s.open(again.id)).toEqual([5, 0]);
  });
});

describe("IOC", () => {
  it("trades what it can and cancels the remainder as ioc_remainder", () => {
    const s = Scenario.create();
    const maker = s.order(2, "sell", 10_000, 3).id;
    const { events, id } = s.order(1, "buy", 10_000, 5, { tif: "IOC" });
    expect(trades(events)).toEqual([[10_000, 3, maker, id]]);
    expect(cancels(events)).toEqual([[id, 2, 0, "ioc_remainder"]]);
    expect(s.levels("buy")).toEqual([]);
    expect(s.cash(1)).toEqual([cash0 - 30_000, 0]);
  });

  it("that does not cross is cancelled whole and never rests", () => {
    const s = Scenario.create();
    s.order(2, "sell", 10_000, 3);
    const { events, id } = s.order(1, "buy", 9_990, 5, { tif: "IOC" });
    expect(cancels(events)).toEqual([[id, 5, 0, "ioc_remainder"]]);
    expect(levelEvents(events)).toEqual([]);
    expect(s.cash(1)).toEqual([cash0, 0]);
  });
});

describe("FOK", () => {
  // Asks: 3 @ 10 000 and 3 @ 10 010.
  it.each([
    { name: "more than the book holds within the limit", qty: 7, price: 10_010, fills: [] },
    { name: "more than the book holds at the limit price", qty: 4, price: 10_000, fills: [] },
    { name: "exactly the quantity at one level", qty: 3, price: 10_000, fills: [[10_000, 3]] },
    { name: "exactly the quantity over two levels", qty: 6, price: 10_010, fills: [[10_000, 3], [10_010, 3]] },
  ])("$name", ({ qty, price, fills }) => {
    const s = Scenario.create();
    s.order(2, "sell", 10_000, 3);
    s.order(3, "sell", 10_010, 3);
    const { events, id } = s.order(1, "buy", price, qty, { tif: "FOK" });
    expect(trades(events).map(([p, q]) => [p, q])).toEqual(fills);
    if (fills.length === 0) {
      expect(cancels(events)).toEqual([[id, qty, 0, "fok_not_filled"]]);
      expect(levelEvents(events)).toEqual([]);
      expect(s.levels("sell")).toEqual([
        [10_000, 3, 1],
        [10_010, 3, 1],
      ]);
      expect(s.cash(1)).toEqual([cash0, 0]);
    } else {
      expect(cancels(events)).toEqual([]);
      expect(s.open(id)).toBeNull();
    }
  });

  it("counts an iceberg's hidden quantity", () => {
    const s = Scenario.create();
    s.order(2, "sell", 10_000, 10, { displayQtyLots: 3 });
    const { events } = s.order(1, "buy", 10_000, 10, { tif: "FOK" });
    expect(trades(events).map((t) => t[1])).toEqual([3, 3, 3, 1]);
  });
});

describe("post-only", () => {
  // Book: bid 2 @ 9 990, ask 3 @ 10 000.
  it.each([
    { side: "buy", price: 10_000, rejected: true },
    { side: "buy", price: 10_010, rejected: true },
    { side: "buy", price: 9_999, rejected: false },
    { side: "sell", price: 9_990, rejected: true },
    { side: "sell", price: 9_980, rejected: true },
    { side: "sell", price: 9_991, rejected: false },
  ] as const)("$side @ $price rejected=$rejected", ({ side, price, rejected }) => {
    const s = Scenario.create();
    s.order(2, "buy", 9_990, 2);
    s.order(3, "sell", 10_000, 3);
    const { events, id } = s.order(1, side, price, 4, { postOnly: true });
    if (rejected) {
      expect(events.map((e) => e.type)).toEqual(["CommandRejected"]);
      expect(rejection(events)).toBe("post_only_would_cross");
      expect(s.cash(1)).toEqual([cash0, 0]);
      expect(s.position(1)).toEqual([lots0, 0]);
    } else {
      expect(trades(events)).toEqual([]);
      expect(s.open(id)).toEqual([4, 0]);
      expect(levelEvents(events)).toEqual([[side, price, 4, 1]]);
    }
  });
});
