/**
 * Pre-trade risk: every limit at the limit and one past it. Rejections are
 * named, change no state (no reservation, no client order id consumed) and
 * produce exactly one CommandRejected event.
 */
import { describe, expect, it } from "vitest";
import type { PlaceOrder } from "@tradestream/contracts";
import { account, limit, market } from "./fixtures.ts";
import { cancels, ofType, rejection, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;

/** A fresh account 5 with exactly `cashMinor` and `lots` (and any account overrides). */
function withAccount5(s: Scenario, cashMinor: number, lots: number, overrides: Parameters<typeof account>[1] = {}): void {
  s.apply(account(5, overrides));
  if (cashMinor > 0) s.apply({ type: "DepositCash", tsUs: 0, accountId: 5, currency: "EUR", amountMinor: cashMinor });
  if (lots > 0) s.apply({ type: "DepositSecurities", tsUs: 0, accountId: 5, instrumentId: 1, qtyLots: lots });
}

function expectRejectedAlone(events: ReturnType<Scenario["apply"]>, reason: string): void {
  expect(events).toEqual([expect.objectContaining({ type: "CommandRejected", command: "PlaceOrder", reason })]);
}

describe("order size and value limits", () => {
  it.each([
    { side: "buy", qty: 100, reason: null },
    { side: "buy", qty: 101, reason: "max_quantity_exceeded" },
    { side: "sell", qty: 100, reason: null },
    { side: "sell", qty: 101, reason: "max_quantity_exceeded" },
  ] as const)("max quantity 100: $side $qty → $reason", ({ side, qty, reason }) => {
    const s = Scenario.create({ instrument: { maxOrderQtyLots: 100 } });
    const { events } = s.order(1, side, side === "buy" ? 9_990 : 10_010, qty);
    expect(rejection(events)).toBe(reason);
  });

  // Max notional 1 000 000 minor units with one minor unit per tick and lot.
  it.each([
    { name: "buy 100 @ 10 000 = 1 000 000", cmd: () => limit(1, "buy", 10_000, 100), reason: null },
    { name: "buy 100 @ 10 001 = 1 000 100", cmd: () => limit(1, "buy", 10_001, 100), reason: "max_notional_exceeded" },
    { name: "sell 100 @ 10 000 = 1 000 000", cmd: () => limit(1, "sell", 10_000, 100), reason: null },
    { name: "sell 101 @ 9 901 = 1 000 001", cmd: () => limit(1, "sell", 9_901, 101), reason: "max_notional_exceeded" },
    { name: "market buy 90 valued at the collar 11 000 = 990 000", cmd: () => market(1, "buy", 90), reason: null },
    { name: "market buy 91 valued at the collar 11 000 = 1 001 000", cmd: () => market(1, "buy", 91), reason: "max_notional_exceeded" },
  ])("max notional: $name → $reason", ({ cmd, reason }) => {
    const s = Scenario.create({ instrument: { maxOrderNotionalMinor: 1_000_000 } });
    expect(rejection(s.apply(cmd()))).toBe(reason);
  });

  // Collar: 10 000 ± floor(10 000 × 1 000 / 10 000) = 9 000 … 11 000, for both sides.
  it.each([
    { side: "buy", price: 11_000, reason: null },
    { side: "buy", price: 11_001, reason: "price_outside_collar" },
    { side: "buy", price: 9_000, reason: null },
    { side: "buy", price: 8_999, reason: "price_outside_collar" },
    { side: "sell", price: 9_000, reason: null },
    { side: "sell", price: 8_999, reason: "price_outside_collar" },
    { side: "sell", price: 11_000, reason: null },
    { side: "sell", price: 11_001, reason: "price_outside_collar" },
  ] as const)("price collar: $side @ $price → $reason", ({ side, price, reason }) => {
    const s = Scenario.create();
    const { events } = s.order(1, side, price, 1);
    if (reason === null) expect(rejection(events)).toBeNull();
    else expectRejectedAlone(events, reason);
  });

  it("the collar follows the reference price", () => {
    const s = Scenario.create();
    s.apply({ type: "SetReferencePrice", tsUs: 0, instrumentId: 1, priceTicks: 12_000 });
    // 12 000 ± 1 200.
    expect(rejection(s.order(1, "buy", 13_200, 1).events)).toBeNull();
    expect(rejection(s.order(1, "buy", 13_201, 1).events)).toBe("price_outside_collar");
    expect(rejection(s.order(1, "sell", 10_800, 1).events)).toBeNull();
    expect(rejection(s.order(1, "sell", 10_799, 1).events)).toBe("price_outside_collar");
  });
});

describe("funds and positions", () => {
  // Buy 10 @ 10 000: notional 100 000 plus the larger fee, floor(100 000 × max(maker, taker) / 10 000).
  it.each([
    { makerFeeBps: 10, takerFeeBps: 20, cash: 100_200, reason: null },
    { makerFeeBps: 10, takerFeeBps: 20, cash: 100_199, reason: "insufficient_funds" },
    { makerFeeBps: 30, takerFeeBps: 20, cash: 100_300, reason: null },
    { makerFeeBps: 30, takerFeeBps: 20, cash: 100_299, reason: "insufficient_funds" },
    { makerFeeBps: 0, takerFeeBps: 0, cash: 100_000, reason: null },
    { makerFeeBps: 0, takerFeeBps: 0, cash: 99_999, reason: "insufficient_funds" },
  ])("fees $makerFeeBps/$takerFeeBps bps, cash $cash → $reason", ({ makerFeeBps, takerFeeBps, cash, reason }) => {
    const s = Scenario.create({ instrument: { makerFeeBps, takerFeeBps } });
    withAccount5(s, cash, 0);
    const { events } = s.order(5, "buy", 10_000, 10);
    if (reason === null) {
      expect(rejection(events)).toBeNull();
      expect(s.cash(5)).toEqual([cash, cash]);
    } else {
      expectRejectedAlone(events, reason);
      expect(s.cash(5)).toEqual([cash, 0]);
    }
  });

  it("funds already reserved by open orders are not available", () => {
    const s = Scenario.create();
    withAccount5(s, 100_000, 0);
    s.order(5, "buy", 10_000, 6); // reserves 60 000
    expect(rejection(s.order(5, "buy", 10_000, 5).events)).toBe("insufficient_funds"); // needs 50 000 of 40 000
    expect(rejection(s.order(5, "buy", 10_000, 4).events)).toBeNull();
    expect(s.cash(5)).toEqual([100_000, 100_000]);
  });

  it("a market buy needs funds at its protection price (the collar edge), whatever the book", () => {
    const s = Scenario.create();
    withAccount5(s, 10_999, 0);
    s.order(2, "sell", 9_000, 1);
    expectRejectedAlone(s.apply(market(5, "buy", 1)), "insufficient_funds"); // 1 × 11 000 > 10 999
  });

  it.each([
    { held: 10, reservedFirst: 0, sell: 10, reason: null },
    { held: 10, reservedFirst: 0, sell: 11, reason: "insufficient_position" },
    { held: 10, reservedFirst: 6, sell: 4, reason: null },
    { held: 10, reservedFirst: 6, sell: 5, reason: "insufficient_position" },
  ])("holding $held with $reservedFirst reserved, sell $sell → $reason", ({ held, reservedFirst, sell, reason }) => {
    const s = Scenario.create();
    withAccount5(s, 0, held);
    if (reservedFirst > 0) s.order(5, "sell", 10_100, reservedFirst);
    expect(rejection(s.order(5, "sell", 10_100, sell).events)).toBe(reason);
    expect(s.position(5)).toEqual([held, reservedFirst + (reason === null ? sell : 0)]);
  });
});

describe("account limits", () => {
  it("open orders limit 3: the third order passes, the fourth is rejected, a cancel frees a slot (pending stops count)", () => {
    const s = Scenario.create();
    withAccount5(s, cash0, 0, { openOrdersMax: 3 });
    const first = s.order(5, "buy", 9_990, 1).id;
    s.order(5, "buy", 9_980, 1);
    const stop = s.order(5, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050 });
    expect(rejection(stop.events)).toBeNull();
    expectRejectedAlone(s.order(5, "buy", 9_970, 1).events, "open_orders_limit");
    s.cancel(5, first);
    expect(rejection(s.order(5, "buy", 9_970, 1).events)).toBeNull();
    expect(s.engine.accounts.get(5)?.openOrders).toBe(3);
  });

  it("order rate 3 per second by command time: 3 pass, the 4th is rejected until the next window", () => {
    const s = Scenario.create();
    withAccount5(s, cash0, 0, { ordersPerSecondMax: 3 });
    const at = (tsUs: number): string | null => {
      s.nowUs = tsUs;
      return rejection(s.order(5, "buy", 9_990, 1, { tif: "IOC" }).events);
    };
    // The first order opens a window [5 000 000, 6 000 000).
    expect([at(5_000_000), at(5_000_001), at(5_500_000)]).toEqual([null, null, null]);
    expect(at(5_500_001)).toBe("order_rate_exceeded");
    expect(at(5_999_999)).toBe("order_rate_exceeded");
    expect([at(6_000_000), at(6_000_001), at(6_000_002)]).toEqual([null, null, null]);
    expect(at(6_000_003)).toBe("order_rate_exceeded");
  });

  it("kill switch per account cancels its open orders (resting and stops), rejects new ones, and lifts", () => {
    const s = Scenario.create();
    const bid = s.order(1, "buy", 9_990, 1).id;
    const ask = s.order(1, "sell", 10_100, 2).id;
    const stop = s.order(1, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050 }).id;
    const others = s.order(2, "buy", 9_990, 1).id;
    const events = s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 1, active: true });
    expect(events[0]).toMatchObject({ type: "KillSwitchSet", scope: "account", id: 1, active: true });
    expect(cancels(events)).toEqual([
      [bid, 1, 0, "kill_switch"],
      [ask, 2, 0, "kill_switch"],
      [stop, 1, 0, "kill_switch"],
    ]);
    expect(s.cash(1)).toEqual([cash0, 0]);
    expect(s.position(1)).toEqual([1_000_000, 0]);
    expect(s.open(others)).toEqual([1, 0]);
    expectRejectedAlone(s.order(1, "buy", 9_990, 1).events, "kill_switch_active");
    expect(rejection(s.order(2, "buy", 9_990, 1).events)).toBeNull();
    s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 1, active: false });
    expect(rejection(s.order(1, "buy", 9_990, 1).events)).toBeNull();
  });

  it("kill switch per firm cancels every account of the firm and only those", () => {
    const s = Scenario.create();
    s.apply(account(5, { firmId: 7 }));
    s.apply(account(6, { firmId: 7 }));
    for (const id of [5, 6]) s.apply({ type: "DepositCash", tsUs: 0, accountId: id, currency: "EUR", amountMinor: 1_000_000 });
    const a5 = s.order(5, "buy", 9_990, 1).id;
    const a6 = s.order(6, "buy", 9_980, 1).id;
    const a2 = s.order(2, "buy", 9_970, 1).id; // firm 1
    const events = s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 7, active: true });
    expect(cancels(events)).toEqual([
      [a5, 1, 0, "kill_switch"],
      [a6, 1, 0, "kill_switch"],
    ]);
    expect(s.open(a2)).toEqual([1, 0]);
    expect(rejection(s.order(6, "buy", 9_990, 1).events)).toBe("kill_switch_active");
    s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 7, active: false });
    expect(rejection(s.order(6, "buy", 9_990, 1).events)).toBeNull();
  });

  it("an account kill switch stays in force when its firm's switch is lifted", () => {
    const s = Scenario.create();
    s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 1, active: true });
    s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 1, active: true });
    s.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 1, active: false });
    expect(rejection(s.order(1, "buy", 9_990, 1).events)).toBe("kill_switch_active");
    expect(rejection(s.order(2, "buy", 9_990, 1).events)).toBeNull();
  });
});

describe("duplicate client order ids", () => {
  it("a duplicate is rejected and not executed again", () => {
    const s = Scenario.create();
    const ask = s.order(2, "sell", 10_000, 10).id;
    const original: PlaceOrder = limit(1, "buy", 10_000, 5, { clientOrderId: "dup-1" });
    const first = s.apply(original);
    expect(trades(first).map(([p, q, m]) => [p, q, m])).toEqual([[10_000, 5, ask]]);
    const again = s.apply(original);
    expect(again).toEqual([
      expect.objectContaining({ type: "CommandRejected", command: "PlaceOrder", reason: "duplicate_client_order_id", accountId: 1, clientOrderId: "dup-1", orderId: 0 }),
    ]);
    expect(s.open(ask)).toEqual([5, 5]);
    expect(s.cash(1)).toEqual([cash0 - 50_000, 0]);
    // The id is per account: another account may use it.
    expect(rejection(s.order(3, "buy", 9_990, 1, { clientOrderId: "dup-1" }).events)).toBeNull();
  });

  it("a rejected order does not use up its client order id", () => {
    const s = Scenario.create();
    expect(rejection(s.order(1, "buy", 11_001, 1, { clientOrderId: "r-1" }).events)).toBe("price_outside_collar");
    const { events } = s.order(1, "buy", 9_990, 1, { clientOrderId: "r-1" });
    expect(ofType(events, "OrderAccepted")[0]?.clientOrderId).toBe("r-1");
  });
});
