import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { account, instrument, limit, market } from "./fixtures.ts";
import { invariantViolations } from "./invariants.ts";

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
