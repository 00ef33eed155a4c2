/**
 * The orders read model through the real engine, with hand-derived
 * expectations. The demo instrument: reference 10 000 ticks, collar ±10 %,
 * circuit band ±5 %, one minor unit per tick and lot; here with a maker fee of
 * 10 bps and a taker fee of 20 bps. Accounts 1–4 share firm 1 and use
 * self-trade prevention cancel_newest.
 */
import { fixtures } from "@tradestream/engine";
import { InvariantError } from "@tradestream/kernel";
import { describe, expect, it } from "vitest";
import { OrdersProjection } from "./projection.ts";
import { Desk, summary } from "./scenario.ts";
import type { AccountUpdate, OrderRecord } from "./types.ts";

const fees = { instrument: { makerFeeBps: 10, takerFeeBps: 20 } };
const cash0 = 10_000_000_000;
const lots0 = 1_000_000;

function quantities(order: OrderRecord | undefined): Record<string, unknown> {
  if (order === undefined) return {};
  const { status, qtyLots, filledQtyLots, leavesQtyLots, cancelledQtyLots, expiredQtyLots, cancelReason } = order;
  return { status, qtyLots, filledQtyLots, leavesQtyLots, cancelledQtyLots, expiredQtyLots, cancelReason };
}

describe("order lifecycle", () => {
  it("fills a resting order in part and a taker in full on entry, with a fill per side; a cancel ends the rest", () => {
    const d = Desk.create(fees);
    const a = d.order(2, "sell", 10_000, 10);
    expect(summary(d.lastUpdates)).toEqual([`order ${a} new`, "position 2 1"]);
    expect(d.projection.order(a)).toMatchObject({ accountId: 2, instrumentId: 1, side: "sell", orderType: "limit", tif: "GTC", priceTicks: 10_000, qtyLots: 10, leavesQtyLots: 10, createdAtUs: d.nowUs - 1 });

    const b = d.order(1, "buy", 10_000, 4);
    const placed = d.eventBatches[d.eventBatches.length - 1] ?? [];
    // 4 × 10 000 = 40 000; the maker pays 10 bps (40), the taker 20 bps (80).
    expect(summary(d.lastUpdates)).toEqual([
      `order ${b} filled`,
      `order ${a} partially_filled`,
      `fill ${a} maker 4`,
      `fill ${b} taker 4`,
      "balance 1 EUR",
      "balance 2 EUR",
      "position 2 1",
      "position 1 1",
    ]);
    expect(quantities(d.projection.order(b))).toEqual({ status: "filled", qtyLots: 4, filledQtyLots: 4, leavesQtyLots: 0, cancelledQtyLots: 0, expiredQtyLots: 0, cancelReason: null });
    expect(d.projection.order(b)).toMatchObject({ filledNotionalMinor: 40_000, feesMinor: 80 });
    expect(d.projection.order(a)).toMatchObject({ status: "partially_filled", filledQtyLots: 4, leavesQtyLots: 6, filledNotionalMinor: 40_000, feesMinor: 40 });
    const fillOfB = { tradeId: 1, orderId: b, accountId: 1, instrumentId: 1, side: "buy", priceTicks: 10_000, qtyLots: 4, notionalMinor: 40_000, feeMinor: 80, liquidity: "taker", tsUs: d.nowUs - 1 };
    const fillOfA = { ...fillOfB, orderId: a, accountId: 2, side: "sell", feeMinor: 40, liquidity: "maker" };
    expect(OrdersProjection.fillsOf(placed, b)).toEqual([fillOfB]);
    expect(OrdersProjection.fillsOf(placed, a)).toEqual([fillOfA]);
    expect(OrdersProjection.fillsOf(placed, 999)).toEqual([]);
    expect(d.projection.balances(1)).toEqual([{ accountId: 1, currency: "EUR", balanceMinor: cash0 - 40_080, reservedMinor: 0, availableMinor: cash0 - 40_080 }]);
    expect(d.projection.balances(2)).toEqual([{ accountId: 2, currency: "EUR", balanceMinor: cash0 + 39_960, reservedMinor: 0, availableMinor: cash0 + 39_960 }]);
    expect(d.projection.positions(2)).toEqual([{ accountId: 2, instrumentId: 1, positionLots: lots0 - 4, reservedLots: 6, availableLots: lots0 - 10 }]);
    expect(d.projection.account(2)?.openOrders).toBe(1);

    d.cancel(2, a);
    expect(summary(d.lastUpdates)).toEqual([`order ${a} cancelled`, "position 2 1"]);
    expect(quantities(d.projection.order(a))).toEqual({ status: "cancelled", qtyLots: 10, filledQtyLots: 4, leavesQtyLots: 0, cancelledQtyLots: 6, expiredQtyLots: 0, cancelReason: "user_request" });
    expect(d.projection.account(2)?.openOrders).toBe(0);
    expect(d.projection.order(a)?.updatedAtUs).toBe(d.nowUs - 1);
  });

  it("replaces price and quantity, keeping what is filled: qty = filled + leaves", () => {
    const d = Desk.create();
    const c = d.order(3, "buy", 9_900, 5);
    d.replace(3, c, 9_950, 8);
    expect(d.projection.order(c)).toMatchObject({ status: "new", priceTicks: 9_950, qtyLots: 8, leavesQtyLots: 8 });
    d.order(2, "sell", 9_950, 3);
    expect(quantities(d.projection.order(c))).toMatchObject({ status: "partially_filled", qtyLots: 8, filledQtyLots: 3, leavesQtyLots: 5 });
    d.replace(3, c, 9_950, 6);
    expect(quantities(d.projection.order(c))).toEqual({ status: "partially_filled", qtyLots: 6, filledQtyLots: 3, leavesQtyLots: 3, cancelledQtyLots: 0, expiredQtyLots: 0, cancelReason: null });
    // A rejected replace changes nothing and emits nothing.
    d.replace(3, c, 9_950, 3);
    expect(d.lastUpdates).toEqual([]);
    expect(d.projection.order(c)?.qtyLots).toBe(6);
  });

  it("reduces an order that a self-trade-prevention decrement leaves open, and fills it later", () => {
    const d = Desk.create({ extraAccounts: [{ accountId: 5, stpMode: "decrement_and_cancel" }] });
    const maker = d.order(5, "sell", 10_000, 10);
    const taker = d.order(5, "buy", 10_000, 4);
    expect(quantities(d.projection.order(maker))).toEqual({ status: "new", qtyLots: 10, filledQtyLots: 0, leavesQtyLots: 6, cancelledQtyLots: 4, expiredQtyLots: 0, cancelReason: null });
    expect(quantities(d.projection.order(taker))).toEqual({ status: "cancelled", qtyLots: 4, filledQtyLots: 0, leavesQtyLots: 0, cancelledQtyLots: 4, expiredQtyLots: 0, cancelReason: "self_trade_prevention" });
    expect(summary(d.lastUpdates).slice(0, 2)).toEqual([`order ${taker} cancelled`, `order ${maker} new`]);
    d.order(1, "buy", 10_000, 6);
    expect(quantities(d.projection.order(maker))).toEqual({ status: "filled", qtyLots: 10, filledQtyLots: 6, leavesQtyLots: 0, cancelledQtyLots: 4, expiredQtyLots: 0, cancelReason: null });
  });

  it("holds a stop as pending_trigger until the last price reaches it, then triggers and fills it in the same command", () => {
    const d = Desk.create(fees);
    const ask = d.order(2, "sell", 10_150, 2);
    const stop = d.order(4, "buy", 0, 2, { orderType: "stop", stopPriceTicks: 10_100 });
    expect(d.projection.order(stop)).toMatchObject({ status: "pending_trigger", priceTicks: 0, stopPriceTicks: 10_100, leavesQtyLots: 2 });
    expect(d.projection.listOrders({ accounts: [4], status: "pending_trigger", limit: 10 }).items.map((o) => o.orderId)).toEqual([stop]);
    const seller = d.order(2, "sell", 10_100, 1);
    const buyer = d.order(3, "buy", 10_100, 1);
    // The print at 10 100 triggers the stop, which takes the ask at 10 150: 20 300 notional, taker fee floor(40.6) = 40.
    expect(summary(d.lastUpdates).slice(0, 8)).toEqual([
      `order ${buyer} filled`,
      `order ${seller} filled`,
      `order ${stop} filled`,
      `order ${ask} filled`,
      `fill ${seller} maker 1`,
      `fill ${buyer} taker 1`,
      `fill ${ask} maker 2`,
      `fill ${stop} taker 2`,
    ]);
    expect(d.projection.order(stop)).toMatchObject({ status: "filled", filledQtyLots: 2, filledNotionalMinor: 20_300, feesMinor: 40 });
    expect(d.projection.account(4)?.openOrders).toBe(0);
  });

  it("expires a DAY order's open rest at the end of the day; its client order id may then be reused", () => {
    const d = Desk.create();
    const day = d.order(1, "buy", 9_800, 5, { tif: "DAY" });
    d.order(2, "sell", 9_800, 2);
    d.apply({ type: "EndOfDay", tsUs: 0 });
    expect(quantities(d.projection.order(day))).toEqual({ status: "expired", qtyLots: 5, filledQtyLots: 2, leavesQtyLots: 0, cancelledQtyLots: 0, expiredQtyLots: 3, cancelReason: null });
    expect(summary(d.lastUpdates)).toEqual([`order ${day} expired`, "balance 1 EUR"]);
    const clientOrderId = d.projection.order(day)?.clientOrderId ?? "";
    expect(d.projection.orderByClientId(1, clientOrderId)?.orderId).toBe(day);
    const again = d.order(1, "buy", 9_800, 1, { clientOrderId });
    expect(d.projection.orderByClientId(1, clientOrderId)?.orderId).toBe(again);
    expect(d.projection.orderByClientId(2, clientOrderId)).toBeUndefined();
    expect(d.projection.orderByClientId(77, clientOrderId)).toBeUndefined();
  });

  it("cancels a market order the empty book cannot fill, and honours kill switches of accounts and firms", () => {
    const d = Desk.create();
    const events = d.apply(fixtures.market(1, "sell", 3));
    const market = events.find((e) => e.type === "OrderAccepted")?.orderId ?? 0;
    expect(quantities(d.projection.order(market))).toMatchObject({ status: "cancelled", cancelledQtyLots: 3, cancelReason: "market_no_liquidity" });
    const k1 = d.order(1, "buy", 9_900, 1);
    const k3 = d.order(3, "buy", 9_900, 1);
    d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 1, active: true });
    expect(d.projection.order(k1)?.cancelReason).toBe("kill_switch");
    expect(d.projection.order(k3)?.status).toBe("new");
    expect([d.projection.account(1)?.killSwitch, d.projection.account(3)?.killSwitch]).toEqual([true, false]);
    d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 1, active: true });
    expect(d.projection.order(k3)?.cancelReason).toBe("kill_switch");
    expect(d.projection.accounts().map((a) => a.killSwitch)).toEqual([true, true, true, true]);
    d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 1, active: false });
    expect(d.projection.accounts().map((a) => a.killSwitch)).toEqual([true, false, false, false]);
    d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 1, active: false });
    expect(d.projection.account(1)).toEqual({ accountId: 1, firmId: 1, stpMode: "cancel_newest", openOrdersMax: 10_000, ordersPerSecondMax: 100_000, killSwitch: false, openOrders: 0 });
    expect(d.projection.account(99)).toBeUndefined();
  });
});

describe("balances and positions", () => {
  it("are listed per account by currency and by instrument", () => {
    const d = Desk.create();
    d.apply(fixtures.instrument({ instrumentId: 2, symbol: "BETA", isin: "DE000BETA001", currency: "USD" }));
    d.apply({ type: "DepositCash", tsUs: 0, accountId: 2, currency: "USD", amountMinor: 500 });
    d.apply({ type: "DepositSecurities", tsUs: 0, accountId: 2, instrumentId: 2, qtyLots: 7 });
    d.apply({ type: "DepositCash", tsUs: 0, accountId: 2, currency: "CHF", amountMinor: 9 });
    expect(d.projection.balances(2).map((b) => [b.currency, b.balanceMinor])).toEqual([
      ["CHF", 9],
      ["EUR", cash0],
      ["USD", 500],
    ]);
    d.order(2, "sell", 10_000, 3, { instrumentId: 2 });
    expect(d.projection.positions(2)).toEqual([
      { accountId: 2, instrumentId: 1, positionLots: lots0, reservedLots: 0, availableLots: lots0 },
      { accountId: 2, instrumentId: 2, positionLots: 7, reservedLots: 3, availableLots: 4 },
    ]);
    expect(d.projection.balances(42)).toEqual([]);
    expect(d.projection.positions(42)).toEqual([]);
  });
});

describe("bounded history", () => {
  it("evicts the oldest finished orders beyond terminalOrdersMax and never an open one", () => {
    const d = Desk.create({ terminalOrdersMax: 2 });
    const finished = (): number => {
      const id = d.order(1, "buy", 9_900, 1);
      d.cancel(1, id);
      return id;
    };
    const first = finished();
    const open = d.order(1, "buy", 9_800, 1);
    const second = finished();
    const cid = d.projection.order(first)?.clientOrderId ?? "";
    // At the limit: both finished orders are kept.
    expect([first, second].map((id) => d.projection.order(id)?.status)).toEqual(["cancelled", "cancelled"]);
    const third = finished();
    expect(d.lastUpdates.map((u) => (u.kind === "order" ? u.order.status : u.kind))).toContain("cancelled");
    expect(d.projection.order(first)).toBeUndefined();
    expect(d.projection.orderByClientId(1, cid)).toBeUndefined();
    expect(d.projection.listOrders({ accounts: [1], limit: 10 }).items.map((o) => o.orderId)).toEqual([third, second, open]);
    expect(d.projection.listOrders({ accounts: "all", status: "closed", limit: 10 }).items.map((o) => o.orderId)).toEqual([third, second]);
  });

  it("keeps exactly fillsMax fills at the limit", () => {
    const d = Desk.create({ fillsMax: 2 });
    d.order(2, "sell", 10_000, 5);
    d.order(1, "buy", 10_000, 1);
    expect(d.projection.fills({ accounts: "all", limit: 10 }).items.map((f) => f.liquidity)).toEqual(["taker", "maker"]);
  });

  it("evicts the oldest fills beyond fillsMax", () => {
    const d = Desk.create({ fillsMax: 3 });
    d.order(2, "sell", 10_000, 5);
    const t1 = d.order(1, "buy", 10_000, 1);
    const t2 = d.order(3, "buy", 10_000, 1);
    d.order(4, "buy", 10_000, 1);
    const page = (): Array<[number, string]> => d.projection.fills({ accounts: "all", limit: 10 }).items.map((f) => [f.tradeId, f.liquidity]);
    // Three trades, six fills: the newest three are kept (trade 3 maker and taker, trade 2 taker).
    expect(page()).toEqual([
      [3, "taker"],
      [3, "maker"],
      [2, "taker"],
    ]);
    expect(d.projection.fills({ accounts: [2], limit: 10 }).items.map((f) => f.tradeId)).toEqual([3]);
    expect(d.projection.fills({ accounts: [1], orderId: t1, limit: 10 }).items).toEqual([]);
    expect(d.projection.fills({ accounts: [3], orderId: t2, limit: 10 }).items.map((f) => f.tradeId)).toEqual([2]);
    // The order records keep their totals whatever happened to their fills.
    expect(d.projection.order(t1)?.filledQtyLots).toBe(1);
  });

  it("with a limit of zero keeps no finished order but still reports its final state", () => {
    const d = Desk.create({ terminalOrdersMax: 0 });
    d.order(2, "sell", 10_000, 5);
    const taker = d.order(1, "buy", 10_000, 5);
    expect(summary(d.lastUpdates).slice(0, 2)).toEqual([`order ${taker} filled`, `order ${taker - 1} filled`]);
    expect(d.projection.order(taker)).toBeUndefined();
    expect(d.projection.fills({ accounts: [1], orderId: taker, limit: 5 }).items).toHaveLength(1);
  });

  it("rejects negative limits", () => {
    expect(() => new OrdersProjection({ terminalOrdersMax: -1 })).toThrow(InvariantError);
    expect(() => new OrdersProjection({ fillsMax: 1.5 })).toThrow(InvariantError);
  });
});

describe("delivery", () => {
  function session(): Desk {
    const d = Desk.create();
    d.order(2, "sell", 10_000, 5);
    d.order(3, "sell", 10_010, 5);
    d.order(1, "buy", 10_010, 7);
    return d;
  }

  it("skips events already applied and refuses a gap before changing anything", () => {
    const d = session();
    const replica = new OrdersProjection();
    const updates: AccountUpdate[] = [];
    replica.onUpdate((u) => updates.push(u));
    const batches = d.eventBatches;
    const last = batches.length - 1;
    const prefix = batches.slice(0, last - 1);
    prefix.forEach((batch, i) => {
      replica.apply(batch);
      replica.apply(batch);
      const next = prefix[i + 1];
      if (next !== undefined) replica.apply([...batch.slice(1), ...next]);
    });
    const before = replica.lastEventSeq;
    expect(() => replica.apply(batches[last] ?? [])).toThrow(InvariantError);
    expect(replica.lastEventSeq).toBe(before);
    replica.apply(batches[last - 1] ?? []);
    replica.apply(batches[last] ?? []);
    expect(replica.lastEventSeq).toBe(d.engine.eventSeq);
    expect(updates).toEqual(d.batches.flat());
    expect(replica.listOrders({ accounts: "all", limit: 100 })).toEqual(d.projection.listOrders({ accounts: "all", limit: 100 }));
    expect(replica.fills({ accounts: "all", limit: 100 })).toEqual(d.projection.fills({ accounts: "all", limit: 100 }));
    expect(() => new OrdersProjection().apply(batches[1] ?? [])).toThrow(InvariantError);
  });

  it("isolates a throwing listener; unsubscribing stops updates", () => {
    const d = session();
    const errors: unknown[] = [];
    const replica = new OrdersProjection({ onListenerError: (error) => errors.push(error) });
    replica.onUpdate(() => {
      throw new Error("listener bug");
    });
    const seen: string[] = [];
    const stop = replica.onUpdate((u) => seen.push(u.kind));
    d.eventBatches.slice(0, -1).forEach((batch) => replica.apply(batch));
    const emitted = d.batches.slice(0, -1).flat().length;
    expect([seen.length, errors.length]).toEqual([emitted, emitted]);
    stop();
    replica.apply(d.eventBatches[d.eventBatches.length - 1] ?? []);
    expect(seen.length).toBe(emitted);
    expect(replica.listOrders({ accounts: "all", limit: 100 })).toEqual(d.projection.listOrders({ accounts: "all", limit: 100 }));
  });
});
