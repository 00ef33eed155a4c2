/**
 * Stop and stop-limit orders. A stop waits off the book until the LAST TRADE
 * price reaches it (buy: last ≥ stop; sell: last ≤ stop), then enters as a
 * market order protected at stop ± floor(stop × priceBand) (stop) or as a limit
 * order (stop-limit). Stops triggered together fire in acceptance order.
 * Account 1 owns the stops; account 2 supplies liquidity; `tradeAt` prints a
 * trade between two house accounts to set the last price.
 */
import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@tradestream/contracts";
import { cancels, ofType, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;

/** The events of interest in a cascade, in order: triggers and trades. */
function story(events: readonly EngineEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type === "OrderTriggered") return [`triggered ${e.orderId} @${e.lastPriceTicks}`];
    if (e.type === "TradeExecuted") return [`trade ${e.qtyLots}@${e.priceTicks} taker ${e.takerOrderId}`];
    return [];
  });
}

function stop(s: Scenario, accountId: number, side: "buy" | "sell", stopPriceTicks: number, qtyLots: number): number {
  return s.order(accountId, side, 0, qtyLots, { orderType: "stop", stopPriceTicks }).id;
}

describe("triggering by last trade price", () => {
  // Buy stop 10 050 against asks 5 @ 10 060; sell stop 9 950 against bids 5 @ 9 900.
  it.each([
    { side: "buy", stopPrice: 10_050, last: 10_049, fires: false },
    { side: "buy", stopPrice: 10_050, last: 10_050, fires: true },
    { side: "buy", stopPrice: 10_050, last: 10_051, fires: true },
    { side: "sell", stopPrice: 9_950, last: 9_951, fires: false },
    { side: "sell", stopPrice: 9_950, last: 9_950, fires: true },
    { side: "sell", stopPrice: 9_950, last: 9_949, fires: true },
  ] as const)("$side stop @ $stopPrice, last trade $last → fires=$fires", ({ side, stopPrice, last, fires }) => {
    const s = Scenario.create();
    const liquidityPrice = side === "buy" ? 10_060 : 9_900;
    const maker = s.order(2, side === "buy" ? "sell" : "buy", liquidityPrice, 5).id;
    const id = stop(s, 1, side, stopPrice, 2);
    const events = s.tradeAt(last);
    if (fires) {
      expect(ofType(events, "OrderTriggered")).toEqual([expect.objectContaining({ orderId: id, accountId: 1, lastPriceTicks: last })]);
      expect(trades(events).slice(1)).toEqual([[liquidityPrice, 2, maker, id]]);
      expect(s.open(id)).toBeNull();
    } else {
      expect(ofType(events, "OrderTriggered")).toEqual([]);
      expect(s.open(id)).toEqual([2, 0]);
    }
  });

  it("does not fire on quotes, only on trades", () => {
    const s = Scenario.create();
    const id = stop(s, 1, "buy", 10_050, 2);
    // A bid above the stop price and an ask at it: no trade, so no trigger.
    const events = [...s.order(3, "buy", 10_040, 1).events, ...s.order(2, "sell", 10_050, 1).events];
    expect(ofType(events, "OrderTriggered")).toEqual([]);
    expect(s.open(id)).toEqual([2, 0]);
  });

  it("fires stops triggered by one trade in acceptance order, each reporting the price that triggered it", () => {
    const s = Scenario.create();
    const ask = s.order(2, "sell", 10_100, 5).id;
    const a = stop(s, 1, "buy", 10_050, 1);
    const b = stop(s, 3, "buy", 10_040, 1); // lower stop, accepted later: still fires second
    const events = s.tradeAt(10_050);
    const print = trades(events)[0]?.[3];
    expect(story(events)).toEqual([
      `trade 1@10050 taker ${print}`,
      `triggered ${a} @10050`,
      `trade 1@10100 taker ${a}`,
      // b was triggered by the 10 050 print, not by a's 10 100 trade.
      `triggered ${b} @10050`,
      `trade 1@10100 taker ${b}`,
    ]);
    expect(s.open(ask)).toEqual([3, 2]);
  });

  it("reports the triggering price even when the stop would not trigger at the price reached since", () => {
    const s = Scenario.create();
    s.order(2, "sell", 10_100, 5);
    s.order(2, "buy", 10_000, 5);
    // Last 10 055 triggers both a buy stop at 10 050 (10 055 ≥ 10 050) and a sell stop at 10 060 (10 055 ≤ 10 060).
    const up = stop(s, 1, "buy", 10_050, 1);
    const down = stop(s, 3, "sell", 10_060, 1);
    const events = s.tradeAt(10_055);
    // The buy stop lifts the market to 10 100, which would not trigger the sell stop; it was triggered at 10 055.
    expect(ofType(events, "OrderTriggered").map((e) => [e.orderId, e.lastPriceTicks])).toEqual([
      [up, 10_055],
      [down, 10_055],
    ]);
    expect(trades(events).slice(1).map(([p, q, , t]) => [p, q, t])).toEqual([
      [10_100, 1, up],
      [10_000, 1, down],
    ]);
  });

  it("cascades: a triggered stop's trade triggers the next stop", () => {
    const s = Scenario.create();
    s.order(2, "sell", 10_100, 1);
    s.order(2, "sell", 10_150, 1);
    const a = stop(s, 1, "buy", 10_050, 1);
    const b = stop(s, 3, "buy", 10_100, 1);
    const events = s.tradeAt(10_050);
    const print = trades(events)[0]?.[3];
    expect(story(events)).toEqual([
      `trade 1@10050 taker ${print}`,
      `triggered ${a} @10050`,
      `trade 1@10100 taker ${a}`,
      `triggered ${b} @10100`,
      `trade 1@10150 taker ${b}`,
    ]);
    expect(s.engine.instruments.get(1)?.lastPriceTicks).toBe(10_150);
  });

  it.each([
    { side: "buy", stopPrice: 10_000, liquidity: 10_100 },
    { side: "sell", stopPrice: 10_100, liquidity: 10_000 },
  ] as const)("a $side stop accepted when already triggerable (last 10 050) fires at once", ({ side, stopPrice, liquidity }) => {
    const s = Scenario.create();
    s.tradeAt(10_050);
    const maker = s.order(2, side === "buy" ? "sell" : "buy", liquidity, 2).id;
    const { events, id } = s.order(1, side, 0, 2, { orderType: "stop", stopPriceTicks: stopPrice });
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(["OrderAccepted", "OrderTriggered", "TradeExecuted"]);
    expect(ofType(events, "OrderTriggered")[0]?.lastPriceTicks).toBe(10_050);
    expect(trades(events)).toEqual([[liquidity, 2, maker, id]]);
  });

  it("does not trigger before the first trade of the instrument", () => {
    const s = Scenario.create();
    const id = stop(s, 1, "buy", 1, 1);
    expect(s.open(id)).toEqual([1, 0]);
  });
});

describe("after the trigger", () => {
  it("a stop cancels what the book cannot fill as market_no_liquidity", () => {
    const s = Scenario.create();
    const maker = s.order(2, "sell", 10_060, 2).id;
    const id = stop(s, 1, "buy", 10_050, 5);
    const events = s.tradeAt(10_050);
    expect(trades(events).slice(1)).toEqual([[10_060, 2, maker, id]]);
    expect(cancels(events)).toEqual([[id, 3, 0, "market_no_liquidity"]]);
    expect(s.cash(1)).toEqual([cash0 - 20_120, 0]);
  });

  it("a stop-limit trades up to its limit and rests the remainder at the limit", () => {
    const s = Scenario.create();
    const maker = s.order(2, "sell", 10_060, 2).id;
    s.order(2, "sell", 10_070, 5);
    const id = s.order(1, "buy", 10_060, 5, { orderType: "stop_limit", stopPriceTicks: 10_050 }).id;
    expect(s.cash(1)).toEqual([cash0, 50_300]); // 5 × 10 060
    const events = s.tradeAt(10_050);
    expect(trades(events).slice(1)).toEqual([[10_060, 2, maker, id]]);
    expect(cancels(events)).toEqual([]);
    expect(s.open(id)).toEqual([3, 2]);
    expect(s.levels("buy")).toEqual([[10_060, 3, 1]]);
    // 2 × 10 060 paid, 3 × 10 060 = 30 180 still reserved.
    expect(s.cash(1)).toEqual([cash0 - 20_120, 30_180]);
  });
});

describe("pending stops", () => {
  it("a buy stop reserves at its protection price and a cancel releases it", () => {
    const s = Scenario.create();
    const id = stop(s, 1, "buy", 10_050, 10);
    // Protection 10 050 + floor(10 050 × 1 000 / 10 000) = 10 050 + 1 005 = 11 055; × 10 lots.
    expect(s.cash(1)).toEqual([cash0, 110_550]);
    expect(s.levels("buy")).toEqual([]);
    const events = s.cancel(1, id);
    expect(cancels(events)).toEqual([[id, 10, 0, "user_request"]]);
    expect(s.cash(1)).toEqual([cash0, 0]);
    expect(s.open(id)).toBeNull();
    expect(s.engine.instruments.get(1)?.stops).toEqual([]);
  });

  it("a sell stop-limit reserves lots and a cancel releases them", () => {
    const s = Scenario.create();
    const id = s.order(1, "sell", 9_940, 7, { orderType: "stop_limit", stopPriceTicks: 9_950 }).id;
    expect(s.position(1)).toEqual([1_000_000, 7]);
    s.cancel(1, id);
    expect(s.position(1)).toEqual([1_000_000, 0]);
    // Cancelled stops never fire later.
    expect(ofType(s.tradeAt(9_900), "OrderTriggered")).toEqual([]);
  });
});

describe("book level events when one price empties twice in a command", () => {
  it("reports the price once, with its final state", () => {
    // No trade yet, so no stop triggers before the last command's.
    const s = Scenario.create({ accounts: [1, 2], stpMode: "cancel_oldest" });
    // Account 1: a buy stop-limit that will re-create the 9 998 level, a sell stop, and a resting bid at 9 998.
    s.order(1, "buy", 9_998, 18, { orderType: "stop_limit", stopPriceTicks: 9_994 });
    s.order(2, "buy", 9_997, 4);
    s.order(1, "sell", 0, 17, { orderType: "stop", stopPriceTicks: 10_004 });
    s.order(1, "buy", 9_998, 15);
    // Account 1 sells: self-trade prevention cancels its own 9 998 bid (the level empties), the trade
    // at 9 997 triggers the buy stop (a new 9 998 level) and the sell stop, whose sweep cancels that
    // stop's order by self-trade prevention in turn (the new level empties too).
    const events = s.order(1, "sell", 9_223, 2, { tif: "FOK" }).events;
    expect(ofType(events, "OrderTriggered")).toHaveLength(2);
    expect(cancels(events).filter(([, , , reason]) => reason === "self_trade_prevention")).toHaveLength(2);
    const at9998 = ofType(events, "BookLevelChanged").filter((event) => event.side === "buy" && event.priceTicks === 9_998);
    expect(at9998.map((event) => [event.qtyLots, event.orderCount])).toEqual([[0, 0]]);
    expect(s.levels("buy").some(([price]) => price === 9_998)).toBe(false);
  });
});
