/**
 * Read-model snapshots: a restored projection answers every query as the one
 * that took the snapshot and goes on alike; the encoding round-trips values of
 * every width; limits below what a snapshot holds evict on restore; and bytes
 * that are not a whole, consistent snapshot of this version are refused with a
 * clear error.
 */
import { fixtures } from "@tradestream/engine";
import { describe, expect, it } from "vitest";
import { OrdersProjection } from "./projection.ts";
import { answers, Desk, knownFrom } from "./scenario.ts";
import { decodeOrdersState, encodeOrdersState, encodeOrdersStateSteps, OrdersSnapshotError, ordersSnapshotVersion, type OrdersState, stringsText } from "./snapshot.ts";
import type { AccountUpdate, Fill, OrderRecord, OrdersOptions } from "./types.ts";

/**
 * Every kind of state: fills, a cancel, a replace, a pending and a triggered
 * stop, a self-trade-prevention decrement, an expired DAY order whose client
 * order id is reused, a resting GTC order whose client order id a later order
 * reuses the next day and finishes with (evicted under small limits, it takes
 * the id's entry with it while the older order stays), kill switches of an
 * account and of a firm, two instruments, and a client order id JSON must
 * escape (a lone surrogate too).
 */
function richDesk(options: OrdersOptions = {}): Desk {
  const d = Desk.create({ ...options, extraAccounts: [{ accountId: 5, stpMode: "decrement_and_cancel" }] });
  d.apply(fixtures.instrument({ instrumentId: 2, symbol: "BETA", isin: "DE000BETA001" }));
  for (const accountId of [1, 2, 3, 4, 5]) d.apply({ type: "DepositSecurities", tsUs: 0, accountId, instrumentId: 2, qtyLots: 1_000 });
  const a = d.order(2, "sell", 10_000, 10);
  d.order(1, "buy", 10_000, 4);
  d.cancel(2, a);
  const c = d.order(3, "buy", 9_900, 5);
  d.replace(3, c, 9_950, 8);
  d.order(2, "sell", 9_950, 3);
  d.order(2, "sell", 10_150, 2);
  d.order(4, "buy", 0, 2, { orderType: "stop", stopPriceTicks: 10_100 });
  d.order(4, "buy", 0, 1, { orderType: "stop", stopPriceTicks: 10_400 });
  d.order(2, "sell", 10_100, 1);
  d.order(3, "buy", 10_100, 1);
  d.order(5, "sell", 10_000, 10);
  d.order(5, "buy", 10_000, 4);
  const day = d.order(1, "buy", 9_800, 5, { tif: "DAY" });
  d.order(2, "sell", 9_800, 2);
  d.order(4, "buy", 9_500, 1, { clientOrderId: "reused" });
  d.apply({ type: "EndOfDay", tsUs: 0 });
  d.order(1, "buy", 9_800, 1, { clientOrderId: d.projection.order(day)?.clientOrderId ?? "" });
  d.cancel(4, d.order(4, "buy", 9_500, 1, { clientOrderId: "reused" }));
  d.order(1, "sell", 10_300, 3, { clientOrderId: 'é "quoted" \\ \ud800', instrumentId: 2, postOnly: true });
  d.order(2, "buy", 9_700, 2, { instrumentId: 2 });
  d.order(3, "sell", 9_700, 1, { instrumentId: 2 });
  d.order(3, "buy", 9_600, 1, { instrumentId: 2 });
  d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 3, active: true });
  d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "firm", id: 5, active: true });
  return d;
}

/** More trading after the snapshot, on the desk and on a restored copy fed the same events; the copy's updates. */
function continueBoth(d: Desk, restored: OrdersProjection): { live: AccountUpdate[]; copy: AccountUpdate[] } {
  const copy: AccountUpdate[] = [];
  restored.onUpdate((u) => copy.push(u));
  const from = d.batches.length;
  d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 3, active: false });
  d.order(3, "sell", 9_600, 1, { instrumentId: 2 });
  d.order(4, "sell", 10_000, 3);
  d.order(1, "buy", 10_450, 4);
  d.order(2, "buy", 9_900, 2, { instrumentId: 2 });
  for (const events of d.eventBatches.slice(from)) restored.apply(events);
  return { live: d.batches.slice(from).flat(), copy };
}

describe("a restored projection", () => {
  it.each([{}, { terminalOrdersMax: 3, fillsMax: 4 }])("answers every query alike and goes on alike (limits %j)", (limits) => {
    const d = richDesk(limits);
    const restored = OrdersProjection.restore(d.projection.snapshot(), limits);
    const known = knownFrom(d.eventBatches);
    expect(answers(restored, known, 3)).toEqual(answers(d.projection, known, 3));
    const { live, copy } = continueBoth(d, restored);
    expect(copy).toEqual(live);
    const later = knownFrom(d.eventBatches);
    expect(answers(restored, later, 2)).toEqual(answers(d.projection, later, 2));
  });

  it("keeps the state it was given: kill switches, a reused client order id, balances past 2^32", () => {
    const d = richDesk();
    const restored = OrdersProjection.restore(d.projection.snapshot());
    expect(restored.accounts().map((a) => [a.accountId, a.killSwitch, a.openOrders])).toEqual(d.projection.accounts().map((a) => [a.accountId, a.killSwitch, a.openOrders]));
    expect(restored.accounts().filter((a) => a.killSwitch).map((a) => a.accountId)).toEqual([3, 5]);
    expect(restored.orderByClientId(1, 'é "quoted" \\ \ud800')?.postOnly).toBe(true);
    expect(restored.balances(1)[0]?.balanceMinor).toBeGreaterThan(2 ** 32);
  });

  it("restores an empty projection, which then takes the stream from its start", () => {
    const empty = new OrdersProjection();
    const restored = OrdersProjection.restore(empty.snapshot());
    expect([restored.lastEventSeq, restored.accounts(), restored.listOrders({ accounts: "all", limit: 5 }).items]).toEqual([0, [], []]);
    expect(restored.snapshot()).toEqual(empty.snapshot());
    const d = richDesk();
    for (const events of d.eventBatches) restored.apply(events);
    expect(restored.snapshot()).toEqual(d.projection.snapshot());
  });

  it("evicts at once, by the usual rules, when its limits are below what the snapshot holds", () => {
    const limits = { terminalOrdersMax: 3, fillsMax: 4 };
    const unbounded = richDesk();
    const bounded = new OrdersProjection(limits);
    for (const events of unbounded.eventBatches) bounded.apply(events);
    const restored = OrdersProjection.restore(unbounded.projection.snapshot(), limits);
    expect(restored.listOrders({ accounts: "all", status: "closed", limit: 100 }).items).toHaveLength(3);
    expect(restored.fills({ accounts: "all", limit: 100 }).items).toHaveLength(4);
    expect(unbounded.projection.fills({ accounts: "all", limit: 100 }).items.length).toBeGreaterThan(4);
    const known = knownFrom(unbounded.eventBatches);
    expect(answers(restored, known, 2)).toEqual(answers(bounded, known, 2));
    expect(restored.snapshot()).toEqual(bounded.snapshot());
  });

  it("reads bytes at any offset, in a Buffer too", () => {
    const bytes = richDesk().projection.snapshot();
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(OrdersProjection.restore(shifted.subarray(3)).snapshot()).toEqual(bytes);
    expect(OrdersProjection.restore(Buffer.from(shifted.buffer, 3, bytes.length)).snapshot()).toEqual(bytes);
  });
});

describe("the encoding", () => {
  it("is deterministic: the same state gives the same bytes, also after a restore", () => {
    const d = richDesk();
    const bytes = d.projection.snapshot();
    expect(d.projection.snapshot()).toEqual(bytes);
    expect(OrdersProjection.restore(bytes).snapshot()).toEqual(bytes);
  });

  it("in steps, is the state at the call: later events change nothing, and the bytes are the snapshot's", () => {
    const d = richDesk();
    const bytes = d.projection.snapshot();
    const steps = d.projection.snapshotSteps();
    const live = d.projection.snapshot();
    d.apply({ type: "SetKillSwitch", tsUs: 0, scope: "account", id: 3, active: false });
    d.order(4, "sell", 10_000, 3);
    d.order(1, "buy", 10_450, 4);
    expect(d.projection.snapshot()).not.toEqual(live);
    let step = steps.next();
    let pauses = 0;
    for (; step.done !== true; step = steps.next()) pauses += 1;
    expect(pauses).toBeGreaterThan(0);
    expect(step.value).toEqual(bytes);
  });

  it("in steps, pauses every few thousand records", () => {
    const template = decodeOrdersState(richDesk().projection.snapshot()).orders[0];
    const orders = Array.from({ length: 40_000 }, (_, i) => ({ ...template, orderId: i + 1, clientOrderId: `c${String(i)}` }) as OrderRecord);
    const state: OrdersState = { ...decodeOrdersState(new OrdersProjection().snapshot()), orders, finished: [], clientOrderIdEntries: [] };
    let pauses = 0;
    const steps = encodeOrdersStateSteps(state);
    for (let step = steps.next(); step.done !== true; step = steps.next()) pauses += 1;
    // Two passes over 40,000 orders at 16,384 a step (2 pauses each), and the text of their 40,000 client order ids (3).
    expect(pauses).toBe(7);
  });

  it("round-trips values of every width: offsets of 1, 2 and 4 bytes, float64 past them, negatives, the largest safe integers", () => {
    const order = (orderId: number, values: Partial<OrderRecord>): OrderRecord => ({
      orderId,
      accountId: 7,
      instrumentId: 1,
      clientOrderId: `c${String(orderId)}`,
      side: "sell",
      orderType: "stop_limit",
      tif: "FOK",
      priceTicks: -5,
      stopPriceTicks: 70_000,
      qtyLots: 3,
      displayQtyLots: 1,
      postOnly: true,
      filledQtyLots: 0,
      leavesQtyLots: 0,
      cancelledQtyLots: 3,
      expiredQtyLots: 0,
      filledNotionalMinor: 0,
      feesMinor: 0,
      status: "cancelled",
      cancelReason: "instrument_halted",
      createdAtUs: 1,
      updatedAtUs: Number.MAX_SAFE_INTEGER,
      ...values,
    });
    const fill = (tradeId: number, tsUs: number): Fill => ({ tradeId, orderId: 2, accountId: 7, instrumentId: 1, side: "buy", priceTicks: 4_000_000_000, qtyLots: 1, notionalMinor: -(2 ** 40), feeMinor: 0, liquidity: "taker", tsUs });
    const state: OrdersState = {
      lastSeq: 2 ** 33,
      nextFillSeq: 3,
      oldestFillSeq: 1,
      accounts: [
        {
          spec: { accountId: 7, firmId: Number.MAX_SAFE_INTEGER, stpMode: "cancel_both", openOrdersMax: 0, ordersPerSecondMax: 65_536 },
          killed: true,
          openOrders: 1,
          balances: [{ accountId: 7, currency: "EUR", balanceMinor: -(2 ** 50), reservedMinor: 1, availableMinor: -(2 ** 50) - 1 }],
          positions: [{ accountId: 7, instrumentId: 1, positionLots: -3, reservedLots: 0, availableLots: -3 }],
        },
      ],
      killedFirms: [Number.MAX_SAFE_INTEGER],
      orders: [order(1, {}), order(2, { side: "buy", orderType: "market", tif: "IOC", postOnly: false, priceTicks: 300, filledQtyLots: 1, leavesQtyLots: 2, cancelledQtyLots: 0, status: "partially_filled", cancelReason: null }), order(2 ** 52, { createdAtUs: Number.MAX_SAFE_INTEGER, priceTicks: Number.MIN_SAFE_INTEGER })],
      finished: [2 ** 52, 1],
      clientOrderIdEntries: [1, 2 ** 52],
      fills: [fill(1, 0), fill(2 ** 31, Number.MAX_SAFE_INTEGER)],
    };
    const decoded = decodeOrdersState(encodeOrdersState(state));
    // The decoded fills are read from the snapshot's columns when asked.
    expect({ ...decoded, fills: [...decoded.fills] }).toEqual(state);
  });

  it("is much smaller than float64 columns would be", () => {
    const d = Desk.create();
    for (let i = 0; i < 300; i += 1) d.order(1 + (i % 4), i % 2 === 0 ? "buy" : "sell", 9_960 + (i % 80), 1 + (i % 7));
    const state = decodeOrdersState(d.projection.snapshot());
    const float64Bytes = 8 * (21 * state.orders.length + 11 * state.fills.length);
    expect(d.projection.snapshot().length).toBeLessThan(float64Bytes / 2);
  });
});

describe("bytes that are not a snapshot", () => {
  const valid = (): Uint8Array => richDesk().projection.snapshot();
  const restore = (bytes: Uint8Array) => (): OrdersProjection => OrdersProjection.restore(bytes);

  it("refuses garbage and a wrong magic tag", () => {
    expect(restore(new Uint8Array([1, 2, 3]))).toThrow(new OrdersSnapshotError("not an orders read-model snapshot"));
    expect(restore(new TextEncoder().encode("{\"orders\": []} and some more text to be long enough"))).toThrow("not an orders read-model snapshot");
    const bytes = valid();
    bytes[0] = "X".charCodeAt(0);
    expect(restore(bytes)).toThrow(OrdersSnapshotError);
    expect(restore(bytes)).toThrow("not an orders read-model snapshot");
  });

  it("refuses another version, naming both", () => {
    const bytes = valid();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, 7, true);
    expect(restore(bytes)).toThrow(`orders snapshot version 7 is not supported (this release reads ${String(ordersSnapshotVersion)})`);
  });

  it("refuses every truncation, and bytes after the end", () => {
    const bytes = valid();
    for (let length = 0; length < bytes.length; length += 1) {
      expect(restore(bytes.subarray(0, length)), `${String(length)} of ${String(bytes.length)} bytes`).toThrow(length < 8 ? /^not an orders read-model snapshot$/ : /^orders snapshot is truncated: /);
    }
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(restore(longer)).toThrow("orders snapshot is corrupt: 8 bytes after the last section");
  });

  it("refuses a snapshot at odds with itself, returning nothing half-restored", () => {
    const state = decodeOrdersState(valid());
    const miscounted = { ...state, accounts: state.accounts.map((a) => (a.spec.accountId === 2 ? { ...a, openOrders: a.openOrders + 1 } : a)) };
    expect(restore(encodeOrdersState(miscounted))).toThrow(/^orders snapshot is inconsistent: account 2 counts \d+ open orders, the snapshot holds \d+$/);
    const [first = 0, ...rest] = state.finished;
    expect(restore(encodeOrdersState({ ...state, finished: [first, first, ...rest.slice(1)] }))).toThrow(`orders snapshot is corrupt: order ${String(first)} is queued for eviction but is not a kept finished order, or is queued twice`);
    expect(restore(encodeOrdersState({ ...state, clientOrderIdEntries: [...state.clientOrderIdEntries, 999_999] }))).toThrow("orders snapshot is inconsistent: client order id entry for order 999999, which is not kept");
    expect(restore(encodeOrdersState({ ...state, fills: [...state.fills].map((f, i) => (i === 0 ? { ...f, accountId: 404 } : f)) }))).toThrow("orders snapshot is inconsistent: event for unknown account 404");
  });
});

describe("the snapshot's strings block", () => {
  it("made in steps, is the UTF-8 of one JSON.stringify, across step boundaries and for any text", () => {
    // Over two steps' worth of ids (16,384 a step): ASCII, accents, emoji, quotes, backslashes, control characters, lone surrogates, empty.
    const samples = ["o1", "é", "😀", 'a"b', "c\\d", "\u0001\n", "\ud800", "\udfff", "", "x".repeat(64)];
    const clientOrderIds = Array.from({ length: 40_000 }, (_, i) => `${samples[i % samples.length] ?? ""}${String(i)}`);
    for (const strings of [
      { clientOrderIds, currencies: ["EUR", "USD"] },
      { clientOrderIds: clientOrderIds.slice(0, 16_384), currencies: [] },
      { clientOrderIds: [], currencies: ["EUR"] },
    ]) {
      const steps = stringsText(strings);
      let step = steps.next();
      let count = 0;
      while (step.done !== true) {
        count += 1;
        step = steps.next();
      }
      expect(Buffer.from(step.value).toString("utf8")).toBe(JSON.stringify(strings));
      expect(count).toBe(Math.ceil(strings.clientOrderIds.length / 16_384));
    }
  });
});
