/**
 * Listing orders and fills: filters, scopes, cursor pagination (newest first,
 * every item exactly once, also while new orders arrive between pages), page
 * limits at and past the maximum, and cursors that are not ours.
 */
import { fixtures } from "@tradestream/engine";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, InvalidCursorError } from "./cursor.ts";
import { isOpenStatus, OrdersProjection, pageLimitMax } from "./projection.ts";
import { Desk } from "./scenario.ts";
import type { Fill, FillQuery, OrderQuery, OrderRecord, Page } from "./types.ts";

/**
 * Forty orders of accounts 1–3 in two instruments, both sides, some traded by
 * account 4, some cancelled; the reference lists are rebuilt from the updates.
 */
function busyDesk(): { d: Desk; orders: () => OrderRecord[]; fills: () => Array<Fill & { seq: number }> } {
  const d = Desk.create();
  d.apply(fixtures.instrument({ instrumentId: 2, symbol: "BETA", isin: "DE000BETA001" }));
  for (const accountId of [1, 2, 3, 4]) d.apply({ type: "DepositSecurities", tsUs: 0, accountId, instrumentId: 2, qtyLots: 1_000 });
  const latest = new Map<number, OrderRecord>();
  const fills: Array<Fill & { seq: number }> = [];
  d.projection.onUpdate((u) => {
    if (u.kind === "order") latest.set(u.order.orderId, u.order);
    if (u.kind === "fill") fills.push({ ...u.fill, seq: fills.length });
  });
  for (let i = 0; i < 40; i += 1) {
    const accountId = 1 + (i % 3);
    const instrumentId = 1 + (Math.floor(i / 3) % 2);
    const side = i % 4 < 2 ? "buy" : "sell";
    const priceTicks = side === "buy" ? 9_900 - i : 10_100 + i;
    const id = d.order(accountId, side, priceTicks, 2 + (i % 3), { instrumentId });
    if (i % 5 === 0) d.cancel(accountId, id);
    else if (i % 7 === 1) d.order(4, side === "buy" ? "sell" : "buy", priceTicks, 1 + (i % 2), { instrumentId, tif: "IOC" });
  }
  return { d, orders: () => [...latest.values()].sort((a, b) => b.orderId - a.orderId), fills: () => [...fills].reverse() };
}

function walk<T>(list: (cursor: string | undefined) => Page<T>, between: () => void = () => undefined): { items: T[]; pages: number } {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages < 1_000; pages += 1) {
    const page = list(cursor);
    items.push(...page.items);
    if (page.nextCursor === null) return { items, pages };
    cursor = page.nextCursor;
    between();
  }
  throw new Error("pagination does not end");
}

describe("listOrders", () => {
  const queries: Array<Omit<OrderQuery, "limit" | "cursor">> = [
    { accounts: [1] },
    { accounts: [1, 3], status: "open" },
    { accounts: [3, 1, 3], status: "closed", side: "sell" },
    { accounts: "all", instrumentId: 2 },
    { accounts: [2], instrumentId: 1, status: "new" },
    { accounts: "all", status: "cancelled" },
    { accounts: [1, 2, 3], status: "partially_filled" },
    { accounts: "all", status: "filled", instrumentId: 1 },
    { accounts: [2, 99] },
    { accounts: [] },
    { accounts: [1], instrumentId: 7 },
  ];

  it.each(queries)("pages through %j newest first, each order once", (query) => {
    const { d, orders } = busyDesk();
    const scope = query.accounts;
    const expected = orders()
      .filter((o) => scope === "all" || scope.includes(o.accountId))
      .filter((o) => query.instrumentId === undefined || o.instrumentId === query.instrumentId)
      .filter((o) => query.side === undefined || o.side === query.side)
      .filter((o) => (query.status === "open" ? isOpenStatus(o.status) : query.status === "closed" ? !isOpenStatus(o.status) : query.status === undefined || o.status === query.status));
    const { items, pages } = walk((cursor) => d.projection.listOrders({ ...query, limit: 4, cursor }));
    expect(items).toEqual(expected);
    expect(pages).toBe(Math.max(1, Math.ceil(expected.length / 4)));
    // One page exactly as large as the list has no next page.
    if (expected.length > 0) expect(d.projection.listOrders({ ...query, limit: expected.length }).nextCursor).toBeNull();
  });

  it("the queries above see every status and both instruments", () => {
    const { orders } = busyDesk();
    expect(new Set(orders().map((o) => o.status))).toEqual(new Set(["new", "partially_filled", "filled", "cancelled"]));
    expect(new Set(orders().map((o) => o.instrumentId))).toEqual(new Set([1, 2]));
  });

  it("walks the orders that existed at the start exactly once while new orders arrive between pages", () => {
    const { d, orders } = busyDesk();
    const before = orders().filter((o) => o.accountId === 1 || o.accountId === 2);
    let added = 0;
    const { items } = walk(
      (cursor) => d.projection.listOrders({ accounts: [1, 2], limit: 3, cursor }),
      () => {
        added += 1;
        d.order(1 + (added % 2), "buy", 9_000 + added, 1);
      },
    );
    expect(added).toBeGreaterThan(3);
    expect(items).toEqual(before.map((o) => d.projection.order(o.orderId)));
  });

  it("serves a page at the largest limit and refuses one past it", () => {
    const { d } = busyDesk();
    expect(d.projection.listOrders({ accounts: "all", limit: pageLimitMax }).items.length).toBeGreaterThan(0);
    expect(() => d.projection.listOrders({ accounts: "all", limit: pageLimitMax + 1 })).toThrow(RangeError);
    expect(() => d.projection.listOrders({ accounts: "all", limit: 0 })).toThrow(RangeError);
    expect(() => d.projection.listOrders({ accounts: "all", limit: 2.5 })).toThrow(RangeError);
    expect(() => d.projection.fills({ accounts: "all", limit: pageLimitMax + 1 })).toThrow(RangeError);
  });

  it("throws InvalidCursorError for a cursor it did not issue for orders", () => {
    const { d } = busyDesk();
    const fillCursor = d.projection.fills({ accounts: "all", limit: 1 }).nextCursor ?? "";
    const orderCursor = d.projection.listOrders({ accounts: "all", limit: 1 }).nextCursor ?? "";
    const bad = ["", "!!", "abc=", "a".repeat(40), fillCursor, btoa("o:0"), btoa("o:-3"), btoa("o:9007199254740993"), btoa("o:12 "), `${orderCursor}A`];
    for (const cursor of bad) expect(() => d.projection.listOrders({ accounts: "all", limit: 5, cursor }), cursor).toThrow(InvalidCursorError);
    expect(() => d.projection.fills({ accounts: "all", limit: 5, cursor: orderCursor })).toThrow(InvalidCursorError);
    try {
      d.projection.listOrders({ accounts: "all", limit: 5, cursor: "!!" });
    } catch (error) {
      expect(error).toMatchObject({ name: "InvalidCursorError", code: "validation_failed" });
    }
  });
});

describe("cursors", () => {
  it("round-trip ids as base64url", () => {
    for (const id of [1, 63, 64, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      const cursor = encodeCursor("o", id);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor("o", cursor)).toBe(id);
      expect(() => decodeCursor("f", cursor)).toThrow(InvalidCursorError);
    }
  });
});

describe("fills", () => {
  const queries: Array<(orders: OrderRecord[]) => Omit<FillQuery, "limit" | "cursor">> = [
    () => ({ accounts: "all" }),
    () => ({ accounts: [4] }),
    () => ({ accounts: [1, 4], instrumentId: 2 }),
    () => ({ accounts: "all", instrumentId: 1 }),
    (orders) => ({ accounts: [4], orderId: orders.find((o) => o.accountId === 4 && o.filledQtyLots > 0)?.orderId }),
    // Another account's order: outside the scope, so nothing.
    (orders) => ({ accounts: [1], orderId: orders.find((o) => o.accountId === 4 && o.filledQtyLots > 0)?.orderId }),
    (orders) => ({ accounts: "all", orderId: orders.find((o) => o.accountId === 2 && o.filledQtyLots > 0)?.orderId, instrumentId: 2 }),
  ];

  it.each(queries.map((q, i) => [i, q] as const))("query %i pages newest first, each fill once", (_, makeQuery) => {
    const { d, orders, fills } = busyDesk();
    const query = makeQuery(orders());
    const scope = query.accounts;
    const expected = fills()
      .filter((f) => scope === "all" || scope.includes(f.accountId))
      .filter((f) => query.instrumentId === undefined || f.instrumentId === query.instrumentId)
      .filter((f) => query.orderId === undefined || f.orderId === query.orderId)
      .map(({ seq: _seq, ...fill }) => fill);
    const { items } = walk((cursor) => d.projection.fills({ ...query, limit: 3, cursor }));
    expect(items).toEqual(expected);
  });

  it("include both sides of every trade (and the orders the queries above name exist)", () => {
    const { fills, orders } = busyDesk();
    expect(orders().some((o) => o.accountId === 4 && o.filledQtyLots > 0)).toBe(true);
    expect(orders().some((o) => o.accountId === 2 && o.filledQtyLots > 0)).toBe(true);
    const all = fills();
    expect(all.length).toBeGreaterThan(4);
    expect(all.filter((f) => f.liquidity === "maker").length).toBe(all.filter((f) => f.liquidity === "taker").length);
    expect(new OrdersProjection().fills({ accounts: "all", limit: 5 })).toEqual({ items: [], nextCursor: null });
  });
});
