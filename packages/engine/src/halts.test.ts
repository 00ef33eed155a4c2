/**
 * Trading states and the circuit breaker. An operator halts (new orders and
 * replaces rejected `instrument_halted`, cancels allowed), closes
 * (`instrument_closed`) and resumes. The circuit breaker halts when a trade would
 * move the price more than floor(anchor × circuitBandBps / 10 000) from the last
 * trade (the reference price before the first trade); trades before it stand and
 * the aggressor's remainder is cancelled `circuit_breaker`.
 */
import { describe, expect, it } from "vitest";
import { cancels, ofType, rejection, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;
const lots0 = 1_000_000;

function setState(s: Scenario, state: "open" | "halted" | "closed"): ReturnType<Scenario["apply"]> {
  return s.apply({ type: "SetTradingState", tsUs: 0, instrumentId: 1, state });
}

describe("operator trading states", () => {
  it("halted: new orders and replaces are rejected, cancels work, and trading resumes on open", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 2).id;
    const b = s.order(1, "buy", 9_990, 2).id;
    expect(ofType(setState(s, "halted"), "TradingStateChanged")).toEqual([
      expect.objectContaining({ instrumentId: 1, state: "halted", reason: "operator" }),
    ]);
    expect(rejection(s.order(2, "sell", 9_990, 2).events)).toBe("instrument_halted");
    expect(rejection(s.apply({ type: "PlaceOrder", tsUs: 0, accountId: 2, instrumentId: 1, clientOrderId: "m", side: "sell", orderType: "market", tif: "IOC", priceTicks: 0, stopPriceTicks: 0, qtyLots: 1, displayQtyLots: 0, postOnly: false, sessionId: 0 }))).toBe("instrument_halted");
    expect(rejection(s.replace(1, a, 9_995, 2))).toBe("instrument_halted");
    expect(cancels(s.cancel(1, a))).toEqual([[a, 2, 0, "user_request"]]);
    expect(s.cash(1)).toEqual([cash0, 19_980]);

    expect(ofType(setState(s, "open"), "TradingStateChanged")[0]).toMatchObject({ state: "open", reason: "operator" });
    const { events, id } = s.order(2, "sell", 9_990, 2);
    expect(trades(events)).toEqual([[9_990, 2, b, id]]);
  });

  it("closed: new orders and replaces are rejected instrument_closed", () => {
    const s = Scenario.create();
    const a = s.order(1, "buy", 9_990, 2).id;
    setState(s, "closed");
    expect(rejection(s.order(2, "sell", 9_990, 2).events)).toBe("instrument_closed");
    expect(rejection(s.replace(1, a, 9_995, 2))).toBe("instrument_closed");
    expect(cancels(s.cancel(1, a))).toEqual([[a, 2, 0, "user_request"]]);
  });
});

describe("circuit breaker", () => {
  it("halts on a trade beyond the band; earlier trades stand and the aggressor's remainder is cancelled", () => {
    const s = Scenario.create();
    const near = s.order(2, "sell", 10_000, 2).id;
    const far = s.order(3, "sell", 10_600, 2).id;
    // No trade yet: anchor = reference 10 000, band 500. 10 000 trades; then 10 600 > 10 000 + 500.
    const { events, id } = s.order(1, "buy", 10_600, 4);
    expect(events.slice(0, 4).map((e) => e.type)).toEqual(["OrderAccepted", "TradeExecuted", "TradingStateChanged", "OrderCancelled"]);
    expect(trades(events)).toEqual([[10_000, 2, near, id]]);
    expect(ofType(events, "TradingStateChanged")[0]).toMatchObject({ state: "halted", reason: "circuit_breaker" });
    expect(cancels(events)).toEqual([[id, 2, 0, "circuit_breaker"]]);
    expect(s.cash(1)).toEqual([cash0 - 20_000, 0]);
    expect(s.position(1)).toEqual([lots0 + 2, 0]);
    expect(s.open(far)).toEqual([2, 0]);
    expect(s.engine.instruments.get(1)?.state).toBe("halted");
    expect(rejection(s.order(2, "buy", 9_990, 1).events)).toBe("instrument_halted");
    setState(s, "open");
    expect(rejection(s.order(2, "buy", 9_990, 1).events)).toBeNull();
  });

  // One maker of 1 lot at `maker`; the taker of 1 lot takes it at its price.
  it.each([
    { name: "buy at anchor + band passes (10 000 + 500)", last: 0, side: "buy", maker: 10_500, halts: false },
    { name: "buy one tick past the band halts", last: 0, side: "buy", maker: 10_501, halts: true },
    { name: "sell at anchor − band passes (10 000 − 500)", last: 0, side: "sell", maker: 9_500, halts: false },
    { name: "sell one tick past the band halts", last: 0, side: "sell", maker: 9_499, halts: true },
    { name: "anchor is the last trade: 10 200 + floor(510) = 10 710 passes", last: 10_200, side: "buy", maker: 10_710, halts: false },
    { name: "anchor is the last trade: 10 711 halts", last: 10_200, side: "buy", maker: 10_711, halts: true },
    { name: "anchor is the last trade: 9 800 − floor(490) = 9 310 passes", last: 9_800, side: "sell", maker: 9_310, halts: false },
    { name: "anchor is the last trade: 9 309 halts", last: 9_800, side: "sell", maker: 9_309, halts: true },
  ] as const)("$name", ({ last, side, maker, halts }) => {
    const s = Scenario.create();
    if (last !== 0) s.tradeAt(last);
    const makerId = s.order(2, side === "buy" ? "sell" : "buy", maker, 1).id;
    const { events, id } = s.order(1, side, maker, 1);
    if (halts) {
      expect(trades(events)).toEqual([]);
      expect(ofType(events, "TradingStateChanged")[0]).toMatchObject({ state: "halted", reason: "circuit_breaker" });
      expect(cancels(events)).toEqual([[id, 1, 0, "circuit_breaker"]]);
      expect(s.open(makerId)).toEqual([1, 0]);
    } else {
      expect(trades(events)).toEqual([[maker, 1, makerId, id]]);
      expect(s.engine.instruments.get(1)?.state).toBe("open");
    }
  });

  it("a stop whose trade breaks the circuit is cancelled; stops behind it wait and fire on resumption", () => {
    const s = Scenario.create();
    const ask = s.order(2, "sell", 10_600, 5).id;
    const a = s.order(1, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050 }).id;
    const b = s.order(3, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050 }).id;
    // After the 10 050 print the band is floor(10 050 × 500 / 10 000) = 502, so 10 600 > 10 552 breaks.
    const events = s.tradeAt(10_050);
    expect(ofType(events, "OrderTriggered").map((e) => e.orderId)).toEqual([a]);
    expect(ofType(events, "TradingStateChanged")[0]).toMatchObject({ state: "halted", reason: "circuit_breaker" });
    expect(cancels(events)).toEqual([[a, 1, 0, "circuit_breaker"]]);
    expect(s.open(b)).toEqual([1, 0]);
    // While halted the out-of-band ask is withdrawn; on resumption b fires and finds no liquidity.
    s.cancel(2, ask);
    const resumed = setState(s, "open");
    expect(ofType(resumed, "OrderTriggered")).toEqual([expect.objectContaining({ orderId: b, lastPriceTicks: 10_050 })]);
    expect(cancels(resumed)).toEqual([[b, 1, 0, "market_no_liquidity"]]);
  });
});

describe("FOK and the circuit breaker", () => {
  // The band moves with every trade (anchor = last trade), so FOK must judge a sweep the way matching runs it.
  it("does not fill part of a FOK when a later fill of the sweep would break the circuit", () => {
    const s = Scenario.create();
    s.tradeAt(10_000);
    s.order(2, "sell", 9_600, 1);
    s.order(3, "sell", 10_400, 1);
    // 9 600 is within 10 000 ± 500, but after trading at 9 600 the band is 9 600 + floor(480) = 10 080 < 10 400.
    const { events, id } = s.order(1, "buy", 10_400, 2, { tif: "FOK" });
    expect(trades(events)).toEqual([]);
    expect(cancels(events)).toEqual([[id, 2, 0, "fok_not_filled"]]);
    expect(s.engine.instruments.get(1)?.state).toBe("open");
    expect(s.levels("sell")).toEqual([
      [9_600, 1, 1],
      [10_400, 1, 1],
    ]);
  });

  it("fills a FOK whose sweep stays within the band trade by trade", () => {
    const s = Scenario.create();
    s.tradeAt(10_000);
    const a = s.order(2, "sell", 10_400, 1).id;
    const b = s.order(3, "sell", 10_800, 1).id;
    // 10 400 ≤ 10 000 + 500; then 10 800 ≤ 10 400 + floor(520) = 10 920.
    const { events, id } = s.order(1, "buy", 10_800, 2, { tif: "FOK" });
    expect(trades(events)).toEqual([
      [10_400, 1, a, id],
      [10_800, 1, b, id],
    ]);
    expect(s.engine.instruments.get(1)?.state).toBe("open");
  });
});
