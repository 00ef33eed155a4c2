/**
 * Cancel/replace of resting limit orders. The new quantity is the total (filled
 * included). Only a size decrease at the same price keeps time priority; a price
 * change or a size increase goes to the back of the (new) level and may trade.
 * Priority is verified by which order an incoming sell fills first.
 */
import { describe, expect, it } from "vitest";
import { account } from "./fixtures.ts";
import { cancels, levelEvents, ofType, rejection, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;

describe("replace and priority", () => {
  it("a price change loses priority", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_980, 5).id;
    const b = s.order(3, "buy", 9_990, 5).id;
    const events = s.replace(1, a, 9_990, 5);
    expect(ofType(events, "OrderReplaced")).toEqual([
      expect.objectContaining({ orderId: a, priceTicks: 9_990, qtyLots: 5, leavesQtyLots: 5, priorityKept: false }),
    ]);
    expect(levelEvents(events)).toEqual([
      ["buy", 9_980, 0, 0],
      ["buy", 9_990, 10, 2],
    ]);
    const sell = s.order(2, "sell", 9_990, 5);
    expect(trades(sell.events)).toEqual([[9_990, 5, b, sell.id]]);
    expect(s.open(a)).toEqual([5, 0]);
  });

  it("a size increase loses priority", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 5).id;
    const b = s.order(3, "buy", 9_990, 5).id;
    const events = s.replace(1, a, 9_990, 6);
    expect(ofType(events, "OrderReplaced")[0]).toMatchObject({ qtyLots: 6, leavesQtyLots: 6, priorityKept: false });
    expect(levelEvents(events)).toEqual([["buy", 9_990, 11, 2]]);
    expect(s.cash(1)).toEqual([cash0, 59_940]); // 6 × 9 990
    const sell = s.order(2, "sell", 9_990, 5);
    expect(trades(sell.events)).toEqual([[9_990, 5, b, sell.id]]);
  });

  it("a size increase of the only order at a level reports the level once, with its final size", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 5).id;
    const events = s.replace(1, a, 9_990, 6);
    expect(levelEvents(events)).toEqual([["buy", 9_990, 6, 1]]);
    expect(s.levels("buy")).toEqual([[9_990, 6, 1]]);
  });

  it("a size decrease keeps priority and releases the reservation", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 5).id;
    s.order(3, "buy", 9_990, 5);
    const events = s.replace(1, a, 9_990, 3);
    expect(ofType(events, "OrderReplaced")[0]).toMatchObject({ qtyLots: 3, leavesQtyLots: 3, priorityKept: true });
    expect(levelEvents(events)).toEqual([["buy", 9_990, 8, 2]]);
    expect(s.cash(1)).toEqual([cash0, 29_970]); // 3 × 9 990
    const sell = s.order(2, "sell", 9_990, 3);
    expect(trades(sell.events)).toEqual([[9_990, 3, a, sell.id]]);
  });

  it("a replace that crosses trades at the maker's price and rests the remainder", () => {
    const s = Scenario.create();
    const ask = s.order(2, "sell", 10_000, 3).id;
    const a = s.order(1, "buy", 9_990, 5).id;
    const events = s.replace(1, a, 10_000, 5);
    expect(events.slice(0, 2).map((e) => e.type)).toEqual(["OrderReplaced", "TradeExecuted"]);
    expect(trades(events)).toEqual([[10_000, 3, ask, a]]);
    expect(s.open(a)).toEqual([2, 3]);
    expect(s.levels("buy")).toEqual([[10_000, 2, 1]]);
    expect(s.levels("sell")).toEqual([]);
    expect(s.cash(1)).toEqual([cash0 - 30_000, 20_000]);
  });

  it("a partly filled order: the new total counts the filled lots", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 10_000, 5).id;
    s.order(2, "sell", 10_000, 2);
    // Filled 2, so a new total of 4 leaves 2 open.
    const events = s.replace(1, a, 10_000, 4);
    expect(ofType(events, "OrderReplaced")[0]).toMatchObject({ qtyLots: 4, leavesQtyLots: 2, priorityKept: true });
    expect(s.open(a)).toEqual([2, 2]);
    expect(s.cash(1)).toEqual([cash0 - 20_000, 20_000]);
  });
});

describe("replace of other shapes", () => {
  it("a sell replace re-derives its reserved lots", () => {
    const s = Scenario.create();
    s.apply(account(5));
    s.apply({ type: "DepositSecurities", tsUs: 0, accountId: 5, instrumentId: 1, qtyLots: 6 });
    const a = s.order(5, "sell", 10_100, 5).id;
    expect(rejection(s.replace(5, a, 10_100, 7))).toBe("insufficient_position");
    expect(s.position(5)).toEqual([6, 5]);
    expect(ofType(s.replace(5, a, 10_050, 6), "OrderReplaced")[0]).toMatchObject({ priceTicks: 10_050, leavesQtyLots: 6, priorityKept: false });
    expect(s.position(5)).toEqual([6, 6]);
    s.replace(5, a, 10_050, 2);
    expect(s.position(5)).toEqual([6, 2]);
  });

  it("an iceberg decreased below its peak keeps priority and shows its new size", () => {
    const s = Scenario.create();
    const a = s.order(2, "sell", 10_000, 10, { displayQtyLots: 4 }).id;
    s.order(3, "sell", 10_000, 1);
    expect(rejection(s.replace(2, a, 10_000, 3))).toBe("invalid_quantity"); // a peak of 4 cannot show on 3 lots
    const events = s.replace(2, a, 10_000, 6);
    expect(ofType(events, "OrderReplaced")[0]).toMatchObject({ leavesQtyLots: 6, priorityKept: true });
    expect(levelEvents(events)).toEqual([["sell", 10_000, 5, 2]]);
    const buy = s.order(1, "buy", 10_000, 4);
    expect(trades(buy.events)).toEqual([[10_000, 4, a, buy.id]]);
  });

  it("a crossing replace triggers stops with its trades", () => {
    const s = Scenario.create();
    s.order(2, "sell", 10_050, 1);
    s.order(2, "sell", 10_100, 1);
    const stop = s.order(3, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050 }).id;
    const a = s.order(1, "buy", 10_000, 1).id;
    const events = s.replace(1, a, 10_050, 1);
    expect(ofType(events, "OrderTriggered")).toEqual([expect.objectContaining({ orderId: stop, lastPriceTicks: 10_050 })]);
    expect(trades(events).map(([p, , , t]) => [p, t])).toEqual([
      [10_050, a],
      [10_100, stop],
    ]);
  });

  it("a crossing replace beyond the circuit band halts and cancels the replaced order", () => {
    const s = Scenario.create();
    const ask = s.order(2, "sell", 10_600, 1).id;
    const a = s.order(1, "buy", 10_000, 1).id;
    const events = s.replace(1, a, 10_600, 1);
    expect(ofType(events, "TradingStateChanged")[0]).toMatchObject({ state: "halted", reason: "circuit_breaker" });
    expect(cancels(events)).toEqual([[a, 1, 0, "circuit_breaker"]]);
    expect(s.open(ask)).toEqual([1, 0]);
    expect(s.cash(1)).toEqual([cash0, 0]);
  });
});

describe("replace rejections", () => {
  // Order: buy 5 @ 10 000 with 2 filled.
  it.each([
    { qty: 1, reason: "replace_qty_below_filled" },
    { qty: 2, reason: "replace_qty_below_filled" },
    { qty: 3, reason: null },
  ])("new total $qty with 2 filled → $reason", ({ qty, reason }) => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 10_000, 5).id;
    s.order(2, "sell", 10_000, 2);
    const events = s.replace(1, a, 10_000, qty);
    expect(rejection(events)).toBe(reason);
    expect(s.open(a)).toEqual(reason === null ? [qty - 2, 2] : [3, 2]);
  });

  it("same price and quantity → replace_no_change", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 5).id;
    const events = s.replace(1, a, 9_990, 5);
    expect(events).toEqual([expect.objectContaining({ type: "CommandRejected", command: "ReplaceOrder", reason: "replace_no_change", accountId: 1, orderId: a })]);
  });

  it("a pending stop → order_not_replaceable", () => {
    const s = Scenario.create();
    const stop = s.order(1, "buy", 0, 5, { orderType: "stop", stopPriceTicks: 10_050 }).id;
    expect(rejection(s.replace(1, stop, 9_990, 5))).toBe("order_not_replaceable");
    const stopLimit = s.order(1, "buy", 10_060, 5, { orderType: "stop_limit", stopPriceTicks: 10_050 }).id;
    expect(rejection(s.replace(1, stopLimit, 10_070, 5))).toBe("order_not_replaceable");
  });

  it.each([
    { name: "an unknown order id", accountId: 1, known: false },
    { name: "another account's order", accountId: 3, known: true },
  ])("$name → unknown_order", ({ accountId, known }) => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 5).id;
    const orderId = known ? a : 999;
    const events = s.replace(accountId, orderId, 9_995, 5);
    expect(events).toEqual([expect.objectContaining({ type: "CommandRejected", reason: "unknown_order", accountId, orderId })]);
    expect(s.open(a)).toEqual([5, 0]);
    expect(rejection(s.cancel(accountId, orderId))).toBe("unknown_order");
    expect(s.open(a)).toEqual([5, 0]);
  });

  it("a filled order is no longer open → unknown_order", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 10_000, 2).id;
    s.order(2, "sell", 10_000, 2);
    expect(rejection(s.replace(1, a, 10_000, 3))).toBe("unknown_order");
  });

  it.each([
    { name: "a size increase", price: 9_990, qty: 6 },
    { name: "a price increase", price: 9_991, qty: 5 },
  ])("insufficient funds on $name leaves the order unchanged", ({ price, qty }) => {
    const s = Scenario.create();
    s.apply(account(5));
    s.apply({ type: "DepositCash", tsUs: 0, accountId: 5, currency: "EUR", amountMinor: 49_950 });
    const a = s.order(5, "buy", 9_990, 5).id; // 5 × 9 990 = 49 950, all of the cash
    s.order(3, "buy", 9_990, 1);
    const events = s.replace(5, a, price, qty);
    expect(events.map((e) => e.type)).toEqual(["CommandRejected"]);
    expect(rejection(events)).toBe("insufficient_funds");
    expect(s.open(a)).toEqual([5, 0]);
    expect(s.cash(5)).toEqual([49_950, 49_950]);
    expect(s.levels("buy")).toEqual([[9_990, 6, 2]]);
    // Still first in the queue.
    const sell = s.order(2, "sell", 9_990, 1);
    expect(trades(sell.events)).toEqual([[9_990, 1, a, sell.id]]);
    expect(cancels(sell.events)).toEqual([]);
  });
});
