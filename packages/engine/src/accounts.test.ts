/**
 * Accounts, sessions and bulk cancels: cash and securities in and out (never
 * what open orders reserve), fees floored to the minor unit and conserved with
 * cash, mass cancel by account and/or instrument, cancel-on-disconnect, and the
 * event stream's `seq`/`tsUs` stamping.
 */
import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { account, instrument, limit } from "./fixtures.ts";
import { invariantViolations, totalCash } from "./invariants.ts";
import { cancels, ofType, rejection, Scenario, trades } from "./scenario.ts";
import { encodeSnapshot, restoreEngine } from "./snapshot.ts";

const cash0 = 10_000_000_000;

function deposit(s: Scenario, accountId: number, amountMinor: number, currency = "EUR"): ReturnType<Scenario["apply"]> {
  return s.apply({ type: "DepositCash", tsUs: 0, accountId, currency, amountMinor });
}

function withdraw(s: Scenario, accountId: number, amountMinor: number, currency = "EUR"): ReturnType<Scenario["apply"]> {
  return s.apply({ type: "WithdrawCash", tsUs: 0, accountId, currency, amountMinor });
}

describe("cash", () => {
  it("deposits and withdrawals move the balance; more than is available is insufficient_funds", () => {
    const s = Scenario.create();
    s.apply(account(5));
    expect(ofType(deposit(s, 5, 100_000), "BalanceChanged")).toEqual([
      expect.objectContaining({ accountId: 5, currency: "EUR", balanceMinor: 100_000, reservedMinor: 0, reason: "deposit" }),
    ]);
    expect(rejection(withdraw(s, 5, 100_001))).toBe("insufficient_funds");
    expect(ofType(withdraw(s, 5, 100_000), "BalanceChanged")[0]).toMatchObject({ balanceMinor: 0, reason: "withdrawal" });
    expect(rejection(withdraw(s, 5, 1))).toBe("insufficient_funds");
    expect(rejection(withdraw(s, 5, 1, "USD"))).toBe("insufficient_funds");
  });

  it("reserved cash cannot be withdrawn", () => {
    const s = Scenario.create();
    s.apply(account(5));
    deposit(s, 5, 100_000);
    s.order(5, "buy", 10_000, 5); // reserves 50 000
    expect(rejection(withdraw(s, 5, 50_001))).toBe("insufficient_funds");
    expect(rejection(withdraw(s, 5, 50_000))).toBeNull();
    expect(s.cash(5)).toEqual([50_000, 50_000]);
  });

  it.each([
    { amount: 0, currency: "EUR", reason: "invalid_amount" },
    { amount: -5, currency: "EUR", reason: "invalid_amount" },
    { amount: 1.5, currency: "EUR", reason: "invalid_amount" },
    { amount: 10, currency: "eur", reason: "invalid_currency" },
  ])("deposit $amount $currency → $reason", ({ amount, currency, reason }) => {
    const s = Scenario.create();
    expect(rejection(deposit(s, 1, amount, currency))).toBe(reason);
    expect(s.cash(1)).toEqual([cash0, 0]);
  });
});

describe("payment cash (CreditCash / DebitCash)", () => {
  const credit = (s: Scenario, paymentId: string, amountMinor: number) => s.apply({ type: "CreditCash", tsUs: 0, accountId: 5, currency: "EUR", amountMinor, paymentId });
  const debit = (s: Scenario, paymentId: string, amountMinor: number) => s.apply({ type: "DebitCash", tsUs: 0, accountId: 5, currency: "EUR", amountMinor, paymentId });

  it("moves cash once per payment id; a repeat is duplicate_payment and changes nothing", () => {
    const s = Scenario.create();
    s.apply(account(5));
    expect(ofType(credit(s, "pay_1", 70_000), "BalanceChanged")[0]).toMatchObject({ balanceMinor: 70_000, reason: "payment_in" });
    expect(rejection(credit(s, "pay_1", 70_000))).toBe("duplicate_payment");
    expect(ofType(debit(s, "pay_2", 20_000), "BalanceChanged")[0]).toMatchObject({ balanceMinor: 50_000, reason: "payment_out" });
    expect(rejection(debit(s, "pay_2", 20_000))).toBe("duplicate_payment");
    // A withdrawal's hold and its return share the payment id: debit and credit are remembered apart.
    expect(ofType(credit(s, "pay_2", 20_000), "BalanceChanged")[0]).toMatchObject({ balanceMinor: 70_000 });
    expect(rejection(credit(s, "pay_2", 20_000))).toBe("duplicate_payment");
    expect(s.cash(5)).toEqual([70_000, 0]);
  });

  it("a refused debit is not remembered: the retry is judged afresh", () => {
    const s = Scenario.create();
    s.apply(account(5));
    expect(rejection(debit(s, "pay_9", 1_000))).toBe("insufficient_funds");
    credit(s, "pay_8", 1_000);
    expect(rejection(debit(s, "pay_9", 1_000))).toBeNull();
    expect(s.cash(5)).toEqual([0, 0]);
  });

  it.each([
    { paymentId: "", reason: "invalid_payment_id" },
    { paymentId: "x".repeat(65), reason: "invalid_payment_id" },
  ])("payment id $paymentId.length chars → $reason", ({ paymentId, reason }) => {
    const s = Scenario.create();
    s.apply(account(5));
    expect(rejection(credit(s, paymentId, 10))).toBe(reason);
  });

  it("applied payment ids survive a snapshot and are forgotten 30 days after they were applied", () => {
    const day = 86_400_000_000;
    const engine = new Engine();
    engine.apply(account(5));
    engine.apply({ type: "CreditCash", tsUs: day, accountId: 5, currency: "EUR", amountMinor: 10, paymentId: "pay_old" });
    engine.apply({ type: "CreditCash", tsUs: 20 * day, accountId: 5, currency: "EUR", amountMinor: 10, paymentId: "pay_new" });
    const restored = restoreEngine(encodeSnapshot(engine));
    expect(restored.apply({ type: "CreditCash", tsUs: 21 * day, accountId: 5, currency: "EUR", amountMinor: 10, paymentId: "pay_old" })[0]).toMatchObject({ reason: "duplicate_payment" });
    restored.apply({ type: "EndOfDay", tsUs: 31 * day + 1 });
    expect([...restored.paymentsApplied.keys()]).toEqual(["C:pay_new"]);
    expect(restored.apply({ type: "CreditCash", tsUs: 32 * day, accountId: 5, currency: "EUR", amountMinor: 10, paymentId: "pay_old" })[0]).toMatchObject({ type: "BalanceChanged" });
  });

  it("an engine without payments snapshots exactly as before (no payments field)", () => {
    const s = Scenario.create();
    s.apply(account(5));
    deposit(s, 5, 10);
    expect(new TextDecoder().decode(encodeSnapshot(s.engine))).not.toContain('"payments"');
  });
});

describe("securities", () => {
  it("deposit and withdraw lots; reserved lots cannot be withdrawn", () => {
    const s = Scenario.create();
    s.apply(account(5));
    expect(ofType(s.apply({ type: "DepositSecurities", tsUs: 0, accountId: 5, instrumentId: 1, qtyLots: 10 }), "PositionChanged")).toEqual([
      expect.objectContaining({ accountId: 5, instrumentId: 1, positionLots: 10, reservedLots: 0, reason: "deposit" }),
    ]);
    s.order(5, "sell", 10_100, 4);
    const out = (qtyLots: number): string | null => rejection(s.apply({ type: "WithdrawSecurities", tsUs: 0, accountId: 5, instrumentId: 1, qtyLots }));
    expect(out(7)).toBe("insufficient_position");
    expect(out(6)).toBeNull();
    expect(s.position(5)).toEqual([4, 4]);
    expect(out(1)).toBe("insufficient_position");
    expect(rejection(s.apply({ type: "WithdrawSecurities", tsUs: 0, accountId: 5, instrumentId: 2, qtyLots: 1 }))).toBe("unknown_instrument");
  });
});

describe("fees", () => {
  // Maker 10 bps, taker 20 bps, each floor(notional × bps / 10 000); one minor unit per tick and lot.
  it.each([
    { price: 199, qty: 1, notional: 199, makerFee: 0, takerFee: 0 }, // 0.199 and 0.398
    { price: 200, qty: 5, notional: 1_000, makerFee: 1, takerFee: 2 },
    { price: 210, qty: 5, notional: 1_050, makerFee: 1, takerFee: 2 }, // 1.05 and 2.1
    { price: 200, qty: 49, notional: 9_800, makerFee: 9, takerFee: 19 }, // 9.8 and 19.6
  ])("$qty @ $price: notional $notional, maker fee $makerFee, taker fee $takerFee", ({ price, qty, notional, makerFee, takerFee }) => {
    // Reference 200: collar 180 … 220, circuit band 190 … 210.
    const s = Scenario.create({ instrument: { referencePriceTicks: 200, makerFeeBps: 10, takerFeeBps: 20 } });
    const maker = s.order(2, "sell", price, qty).id;
    const { events, id } = s.order(1, "buy", price, qty);
    expect(ofType(events, "TradeExecuted")).toEqual([
      expect.objectContaining({ makerOrderId: maker, takerOrderId: id, notionalMinor: notional, makerFeeMinor: makerFee, takerFeeMinor: takerFee }),
    ]);
    expect(s.cash(1)).toEqual([cash0 - notional - takerFee, 0]);
    expect(s.cash(2)).toEqual([cash0 + notional - makerFee, 0]);
    expect(s.engine.feesCollected.get("EUR")).toBe(makerFee + takerFee);
  });

  it("a seller taking a bid pays the taker fee and the resting buyer the maker fee", () => {
    const s = Scenario.create({ instrument: { makerFeeBps: 10, takerFeeBps: 20 } });
    s.order(1, "buy", 10_000, 3);
    s.order(2, "sell", 10_000, 3);
    // Notional 30 000: maker (buyer) fee 30, taker (seller) fee 60.
    expect(s.cash(1)).toEqual([cash0 - 30_030, 0]);
    expect(s.cash(2)).toEqual([cash0 + 29_940, 0]);
    expect(s.engine.feesCollected.get("EUR")).toBe(90);
  });

  it("a partly filled buy keeps reserving for its open lots with the larger fee", () => {
    const s = Scenario.create({ instrument: { makerFeeBps: 10, takerFeeBps: 20 } });
    s.order(2, "sell", 10_000, 3);
    const { id } = s.order(1, "buy", 10_000, 10);
    // Paid 30 000 + floor(30 000 × 20 / 10 000) = 30 060; 7 lots left need 70 000 + floor(70 000 × 20 / 10 000) = 70 140.
    expect(s.cash(1)).toEqual([cash0 - 30_060, 70_140]);
    // The rest fills as maker: 7 × 10 000 = 70 000 plus floor(70 000 × 10 / 10 000) = 70.
    s.order(3, "sell", 10_000, 7);
    expect(s.open(id)).toBeNull();
    expect(s.cash(1)).toEqual([cash0 - 30_060 - 70_070, 0]);
  });

  it("an order pays the fee schedule in force when it was entered", () => {
    const s = Scenario.create({ instrument: { makerFeeBps: 10, takerFeeBps: 20 } });
    s.order(2, "sell", 10_000, 5);
    s.apply({ type: "UpdateInstrument", tsUs: 0, instrumentId: 1, priceBandBps: 1_000, circuitBandBps: 500, maxOrderQtyLots: 1_000_000, maxOrderNotionalMinor: 100_000_000_000, makerFeeBps: 50, takerFeeBps: 40 });
    const { events } = s.order(1, "buy", 10_000, 5);
    // Notional 50 000: the resting sell pays its entry maker fee 10 bps = 50; the new buy pays 40 bps = 200.
    expect(ofType(events, "TradeExecuted")[0]).toMatchObject({ makerFeeMinor: 50, takerFeeMinor: 200 });
  });

  it("a self trade (STP none) costs the account both fees and nothing else", () => {
    const s = Scenario.create({ stpMode: "none", instrument: { makerFeeBps: 10, takerFeeBps: 20 } });
    s.order(1, "sell", 10_000, 5);
    s.order(1, "buy", 10_000, 5);
    // Notional 50 000: maker fee 50, taker fee 100.
    expect(s.cash(1)).toEqual([cash0 - 150, 0]);
    expect(s.position(1)).toEqual([1_000_000, 0]);
  });

  it("cash plus fee income is conserved by a busy session", () => {
    const s = Scenario.create({ instrument: { makerFeeBps: 7, takerFeeBps: 13 } });
    const before = totalCash(s.engine).get("EUR");
    // 6 accounts × 10^10 deposited.
    expect(before).toBe(6 * cash0);
    s.order(2, "sell", 10_000, 7, { displayQtyLots: 2 });
    s.order(3, "sell", 10_010, 5);
    s.order(1, "buy", 10_010, 11);
    s.order(4, "buy", 9_990, 4);
    s.order(2, "sell", 9_990, 6);
    expect(totalCash(s.engine).get("EUR")).toBe(before);
    expect(s.engine.feesCollected.get("EUR") ?? 0).toBeGreaterThan(0);
  });
});

describe("mass cancel", () => {
  // Accounts 1 and 2 each have one bid in instrument 1 and one in instrument 2.
  it.each([
    { name: "one account, every instrument", accountId: 1, instrumentId: 0, gone: ["a1i1", "a1i2"] },
    { name: "every account, one instrument", accountId: 0, instrumentId: 2, gone: ["a1i2", "a2i2"] },
    { name: "one account in one instrument", accountId: 1, instrumentId: 2, gone: ["a1i2"] },
    { name: "everything", accountId: 0, instrumentId: 0, gone: ["a1i1", "a1i2", "a2i1", "a2i2"] },
  ])("$name", ({ accountId, instrumentId, gone }) => {
    const s = Scenario.create();
    s.apply(instrument({ instrumentId: 2, symbol: "BETA", isin: "DE000BETA001" }));
    const ids: Record<string, number> = {
      a1i1: s.order(1, "buy", 9_990, 1).id,
      a1i2: s.order(1, "buy", 9_990, 1, { instrumentId: 2 }).id,
      a2i1: s.order(2, "buy", 9_990, 1).id,
      a2i2: s.order(2, "buy", 9_990, 1, { instrumentId: 2 }).id,
    };
    const events = s.apply({ type: "MassCancel", tsUs: 0, accountId, instrumentId });
    expect(cancels(events)).toEqual(gone.map((name) => [ids[name], 1, 0, "mass_cancel"]));
    for (const [name, id] of Object.entries(ids)) expect(s.open(id), name).toEqual(gone.includes(name) ? null : [1, 0]);
  });

  it("names an unknown account or instrument → rejected", () => {
    const s = Scenario.create();
    expect(rejection(s.apply({ type: "MassCancel", tsUs: 0, accountId: 77, instrumentId: 0 }))).toBe("unknown_account");
    expect(rejection(s.apply({ type: "MassCancel", tsUs: 0, accountId: 0, instrumentId: 77 }))).toBe("unknown_instrument");
  });
});

describe("sessions and cancel-on-disconnect", () => {
  it.each([
    { cancelOnDisconnect: true, cancelled: true },
    { cancelOnDisconnect: false, cancelled: false },
  ])("cancelOnDisconnect $cancelOnDisconnect: closing the session cancels its orders = $cancelled", ({ cancelOnDisconnect, cancelled }) => {
    const s = Scenario.create();
    expect(s.apply({ type: "OpenSession", tsUs: 0, sessionId: 7, accountId: 1, cancelOnDisconnect })).toEqual([
      expect.objectContaining({ type: "SessionOpened", sessionId: 7, accountId: 1, cancelOnDisconnect }),
    ]);
    const viaSession = s.order(1, "buy", 9_990, 2, { sessionId: 7 }).id;
    const stopViaSession = s.order(1, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_050, sessionId: 7 }).id;
    const direct = s.order(1, "buy", 9_980, 3).id;
    const events = s.apply({ type: "CloseSession", tsUs: 0, sessionId: 7 });
    expect(cancels(events)).toEqual(
      cancelled
        ? [
            [viaSession, 2, 0, "session_disconnect"],
            [stopViaSession, 1, 0, "session_disconnect"],
          ]
        : [],
    );
    expect(ofType(events, "SessionClosed")).toEqual([expect.objectContaining({ sessionId: 7 })]);
    expect(s.open(viaSession)).toEqual(cancelled ? null : [2, 0]);
    expect(s.open(direct)).toEqual([3, 0]);
    // The session is gone: new orders on it and closing it again are unknown_session.
    expect(rejection(s.order(1, "buy", 9_990, 1, { sessionId: 7 }).events)).toBe("unknown_session");
    expect(rejection(s.apply({ type: "CloseSession", tsUs: 0, sessionId: 7 }))).toBe("unknown_session");
  });

  it("an order naming an unknown session or another account's session → unknown_session", () => {
    const s = Scenario.create();
    s.apply({ type: "OpenSession", tsUs: 0, sessionId: 8, accountId: 2, cancelOnDisconnect: true });
    expect(rejection(s.order(1, "buy", 9_990, 1, { sessionId: 9 }).events)).toBe("unknown_session");
    expect(rejection(s.order(1, "buy", 9_990, 1, { sessionId: 8 }).events)).toBe("unknown_session");
    expect(rejection(s.order(2, "buy", 9_990, 1, { sessionId: 8 }).events)).toBeNull();
    expect(rejection(s.apply({ type: "OpenSession", tsUs: 0, sessionId: 8, accountId: 1, cancelOnDisconnect: false }))).toBe("session_exists");
  });

  it("a session id is not reusable while orders of its earlier session are open", () => {
    const s = Scenario.create();
    s.apply({ type: "OpenSession", tsUs: 0, sessionId: 7, accountId: 1, cancelOnDisconnect: false });
    const first = s.order(1, "buy", 9_990, 1, { sessionId: 7 }).id;
    s.apply({ type: "CloseSession", tsUs: 0, sessionId: 7 });
    // Reopening (for any account) would let the new session's disconnect reach the old order.
    const again = s.apply({ type: "OpenSession", tsUs: 0, sessionId: 7, accountId: 1, cancelOnDisconnect: true });
    expect(again).toMatchObject([{ type: "CommandRejected", reason: "session_exists" }]);
    expect(s.open(first)).toEqual([1, 0]);
    s.apply({ type: "CancelOrder", tsUs: 0, accountId: 1, orderId: first });
    const reopened = s.apply({ type: "OpenSession", tsUs: 0, sessionId: 7, accountId: 2, cancelOnDisconnect: true });
    expect(reopened).toMatchObject([{ type: "SessionOpened", sessionId: 7, accountId: 2 }]);
    const second = s.order(2, "buy", 9_980, 1, { sessionId: 7 }).id;
    const events = s.apply({ type: "CloseSession", tsUs: 0, sessionId: 7 });
    expect(cancels(events)).toEqual([[second, 1, 0, "session_disconnect"]]);
  });
});

describe("event stamping", () => {
  it("events carry consecutive seq across commands (rejections included) and their command's tsUs", () => {
    const engine = new Engine();
    const stream = [
      engine.apply({ ...instrument(), tsUs: 10 }),
      engine.apply({ ...account(1), tsUs: 20 }),
      engine.apply({ ...account(2), tsUs: 20 }),
      engine.apply({ type: "DepositCash", tsUs: 30, accountId: 1, currency: "EUR", amountMinor: 1_000_000 }),
      engine.apply({ type: "DepositSecurities", tsUs: 40, accountId: 2, instrumentId: 1, qtyLots: 10 }),
      engine.apply({ ...limit(2, "sell", 10_000, 10), tsUs: 50 }),
      engine.apply({ ...limit(1, "buy", 99_999, 1), tsUs: 55 }), // outside the collar
      engine.apply({ ...limit(1, "buy", 10_000, 4), tsUs: 60 }),
    ];
    const flat = stream.flat();
    expect(flat.map((e) => e.seq)).toEqual(flat.map((_, i) => i + 1));
    expect(stream.map((events) => [...new Set(events.map((e) => e.tsUs))])).toEqual([[10], [20], [20], [30], [40], [50], [55], [60]]);
    // The crossing order: accepted, traded, then one event per changed balance, position and level.
    expect(stream[7]?.map((e) => e.type)).toEqual([
      "OrderAccepted",
      "TradeExecuted",
      "BalanceChanged",
      "BalanceChanged",
      "PositionChanged",
      "PositionChanged",
      "BookLevelChanged",
    ]);
    expect(trades(stream[7] ?? [])).toEqual([[10_000, 4, 1, 2]]);
    expect(invariantViolations(engine)).toEqual([]);
  });
});
