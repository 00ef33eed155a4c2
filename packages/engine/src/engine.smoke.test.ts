import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { account, instrument, limit, market } from "./fixtures.ts";
import { invariantViolations } from "./invariants.ts";
import { encodeSnapshot } from "./snapshot.ts";

describe("engine smoke", () => {
  it("matches a crossing order at the maker's price and settles both sides", () => {
    const engine = new Engine();
    engine.apply(instrument({ makerFeeBps: 10, takerFeeBps: 20 }));
    engine.apply(account(1));
    engine.apply(account(2));
    engine.apply({ type: "DepositCash", tsUs: 1, accountId: 1, currency: "EUR", amountMinor: 10_000_000 });
    engine.apply({ type: "DepositSecurities", tsUs: 1, accountId: 2, instrumentId: 1, qtyLots: 100 });
    const resting = engine.apply(limit(2, "sell", 10_000, 50));
    expect(resting.map((e) => e.type)).toEqual(["OrderAccepted", "PositionChanged", "BookLevelChanged"]);
    const events = engine.apply(market(1, "buy", 20));
    const trade = events.find((e) => e.type === "TradeExecuted");
    expect(trade).toMatchObject({ priceTicks: 10_000, qtyLots: 20, notionalMinor: 200_000, makerFeeMinor: 200, takerFeeMinor: 400 });
    expect(engine.accounts.get(1)?.cash.get("EUR")).toMatchObject({ balance: 10_000_000 - 200_400, reserved: 0 });
    expect(engine.accounts.get(2)?.cash.get("EUR")).toMatchObject({ balance: 199_800, reserved: 0 });
    expect(engine.accounts.get(2)?.positions.get(1)).toMatchObject({ position: 80, reserved: 30 });
    expect(invariantViolations(engine)).toEqual([]);
  });
});

describe("canonical state", () => {
  it("does not let the caller's key order reach events or snapshots", () => {
    const ordered = new Engine();
    const shuffled = new Engine();
    const command = instrument();
    const reversed = Object.fromEntries(Object.entries(command).reverse()) as typeof command;
    const a = ordered.apply(command);
    const b = shuffled.apply(reversed);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(new TextDecoder().decode(encodeSnapshot(shuffled))).toBe(new TextDecoder().decode(encodeSnapshot(ordered)));
  });
});

describe("fill-or-kill with an iceberg ahead of an own order", () => {
  // The iceberg shows 1 lot; once that slice trades it goes behind account 1's own
  // sell, where cancel_newest would stop the FOK. So only 1 lot is fillable.
  function setup(): Engine {
    const engine = new Engine();
    engine.apply(instrument());
    engine.apply(account(1, { stpMode: "cancel_newest" }));
    engine.apply(account(2));
    engine.apply({ type: "DepositCash", tsUs: 0, accountId: 1, currency: "EUR", amountMinor: 100_000_000 });
    engine.apply({ type: "DepositSecurities", tsUs: 0, accountId: 1, instrumentId: 1, qtyLots: 100 });
    engine.apply({ type: "DepositSecurities", tsUs: 0, accountId: 2, instrumentId: 1, qtyLots: 100 });
    engine.apply(limit(2, "sell", 10_000, 10, { displayQtyLots: 1 }));
    engine.apply(limit(1, "sell", 10_000, 5));
    return engine;
  }

  it("kills a FOK that could only fill in part, trading nothing", () => {
    const engine = setup();
    const events = engine.apply(limit(1, "buy", 10_000, 8, { tif: "FOK" }));
    expect(events.filter((e) => e.type === "TradeExecuted")).toEqual([]);
    expect(events.find((e) => e.type === "OrderCancelled")).toMatchObject({ reason: "fok_not_filled", cancelledQtyLots: 8 });
    expect(invariantViolations(engine)).toEqual([]);
  });

  it("fills a FOK that the shown slice covers", () => {
    const engine = setup();
    const events = engine.apply(limit(1, "buy", 10_000, 1, { tif: "FOK" }));
    expect(events.filter((e) => e.type === "TradeExecuted")).toMatchObject([{ qtyLots: 1, makerAccountId: 2 }]);
  });
});

describe("order objects", () => {
  it("gives a later order, placed on the object of a finished one, only its own fields", () => {
    const engine = new Engine();
    engine.apply(instrument());
    engine.apply(account(1));
    engine.apply(account(2));
    engine.apply({ type: "DepositCash", tsUs: 0, accountId: 1, currency: "EUR", amountMinor: 100_000_000 });
    engine.apply({ type: "DepositSecurities", tsUs: 0, accountId: 2, instrumentId: 1, qtyLots: 100 });
    engine.apply(limit(2, "sell", 10_000, 5, { clientOrderId: "first" }));
    const first = engine.orders.get(1);
    engine.apply(market(1, "buy", 5));
    expect(first?.status).toBe("done");
    expect(engine.orders.size).toBe(0);
    engine.apply(limit(1, "buy", 9_990, 3, { clientOrderId: "third", displayQtyLots: 1 }));
    const third = engine.orders.get(3);
    expect(third).toMatchObject({ id: 3, clientOrderId: "third", accountId: 1, side: "buy", price: 9_990, qty: 3, leaves: 3, filled: 0 });
    expect(third).toMatchObject({ visible: 1, displayQty: 1, status: "active", reservedCash: 29_970, reservedLots: 0 });
    expect(engine.instruments.get(1)?.book.levels("buy")).toEqual([{ price: 9_990, qty: 1, count: 1 }]);
    expect(invariantViolations(engine)).toEqual([]);
  });
});
