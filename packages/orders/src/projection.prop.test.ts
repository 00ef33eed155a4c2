/**
 * The orders read model over generated command streams through the real
 * engine, checked after every command:
 * - every changed order is reported once, and qty = filled + leaves +
 *   cancelled + expired; it is open exactly while leaves > 0; its quantities
 *   agree with an independent tracker of the events; a cancelled order has a
 *   reason, an expired one expired quantity;
 * - each account's open orders (listed page by page) are exactly the
 *   engine's, with the engine's leaves and filled quantities; the open order
 *   count, kill switch, balances and positions equal the engine's;
 * - the fills reported for an order add up to its filled quantity, notional and fees.
 * At the end, a second projection with small (generated) eviction limits keeps
 * exactly the newest finished orders and fills, identical to the unbounded one.
 * PROP_RUNS sets the number of runs; a failure is minimized and printed with
 * fast-check's seed.
 */
import type { Command, EngineEvent } from "@tradestream/contracts";
import { Engine } from "@tradestream/engine";
import { type GeneratedStream, OrderTracker, type StreamCase, type StreamFailure, describeFailure, materialize, streamCaseArbitrary, trackedLeaves } from "@tradestream/engine/generators";
import fc from "fast-check";
import { describe, it } from "vitest";
import { isOpenStatus, OrdersProjection } from "./projection.ts";
import type { AccountUpdate, Fill, OrderQuery, OrderRecord, Page } from "./types.ts";

interface Limits {
  readonly terminalOrdersMax: number;
  readonly fillsMax: number;
  readonly pageLimit: number;
}

const limitsArbitrary: fc.Arbitrary<Limits> = fc.record({
  terminalOrdersMax: fc.integer({ min: 0, max: 40 }),
  fillsMax: fc.integer({ min: 0, max: 60 }),
  pageLimit: fc.integer({ min: 1, max: 30 }),
});

function walk<T>(list: (cursor: string | undefined) => Page<T>): T[] {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = list(cursor);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    cursor = page.nextCursor;
  }
}

function listAll(projection: OrdersProjection, query: Omit<OrderQuery, "limit" | "cursor">, limit: number): OrderRecord[] {
  return walk((cursor) => projection.listOrders({ ...query, limit, cursor }));
}

function orderProblems(order: OrderRecord, tracker: OrderTracker): string[] {
  const problems: string[] = [];
  const id = order.orderId;
  if (order.qtyLots !== order.filledQtyLots + order.leavesQtyLots + order.cancelledQtyLots + order.expiredQtyLots) {
    problems.push(`order ${id}: qty ${order.qtyLots} ≠ ${order.filledQtyLots} + ${order.leavesQtyLots} + ${order.cancelledQtyLots} + ${order.expiredQtyLots}`);
  }
  if (isOpenStatus(order.status) !== order.leavesQtyLots > 0) problems.push(`order ${id} is ${order.status} with ${order.leavesQtyLots} open`);
  if ((order.status === "cancelled") !== (order.cancelReason !== null)) problems.push(`order ${id} is ${order.status} with reason ${order.cancelReason}`);
  if ((order.status === "expired") !== order.expiredQtyLots > 0) problems.push(`order ${id} is ${order.status} with ${order.expiredQtyLots} expired`);
  if (order.status === "filled" && order.filledQtyLots === 0) problems.push(`order ${id} filled without a fill`);
  const tracked = tracker.orders.get(id);
  if (tracked === undefined) return [...problems, `order ${id} unknown to the tracker`];
  const mine = [order.qtyLots, order.filledQtyLots, order.cancelledQtyLots + order.expiredQtyLots, order.leavesQtyLots, order.priceTicks, isOpenStatus(order.status)];
  const theirs = [tracked.qtyLots, tracked.filledLots, tracked.removedLots, trackedLeaves(tracked), tracked.priceTicks, tracker.live.has(id)];
  if (mine.join() !== theirs.join()) problems.push(`order ${id} [qty, filled, removed, leaves, price, open] ${mine.join()}, tracker ${theirs.join()}`);
  return problems;
}

function checkStream(stream: GeneratedStream, limits: Limits): StreamFailure | null {
  const engine = new Engine();
  const projection = new OrdersProjection();
  const bounded = new OrdersProjection({ terminalOrdersMax: limits.terminalOrdersMax, fillsMax: limits.fillsMax });
  const tracker = new OrderTracker();
  let updates: AccountUpdate[] = [];
  projection.onUpdate((u) => updates.push(u));
  const fillsByOrder = new Map<number, Fill[]>();
  const allFills: Fill[] = [];
  /** Order ids in the order they finished, from the events alone. */
  const finishedOrder: number[] = [];
  for (let index = 0; index < stream.commands.length; index += 1) {
    const command = stream.commands[index] as Command;
    const events: EngineEvent[] = engine.apply(command);
    updates = [];
    for (const event of events) {
      const ids = event.type === "TradeExecuted" ? [event.makerOrderId, event.takerOrderId] : event.type === "OrderCancelled" || event.type === "OrderExpired" ? [event.orderId] : [];
      const live = ids.filter((id) => tracker.live.has(id));
      tracker.observe([event]);
      for (const id of live) if (!tracker.live.has(id)) finishedOrder.push(id);
    }
    const fail = (problems: readonly string[]): StreamFailure => ({ commandIndex: index, message: `${problems.join("\n")}\n(command ${JSON.stringify(command)})` });
    try {
      projection.apply(events);
      bounded.apply(events);
    } catch (error) {
      // The projection asserts its own invariants; a broken one is a failure to minimize like any other.
      return fail([`the projection threw: ${String(error)}`]);
    }
    const problems: string[] = [];
    const reported = new Set<number>();
    const touchedAccounts = new Set<number>();
    for (const u of updates) {
      touchedAccounts.add(u.accountId);
      if (u.kind === "order") {
        if (reported.has(u.order.orderId)) problems.push(`order ${u.order.orderId} reported twice by one command`);
        reported.add(u.order.orderId);
        problems.push(...orderProblems(u.order, tracker));
      }
      if (u.kind === "fill") {
        allFills.push(u.fill);
        fillsByOrder.set(u.fill.orderId, [...(fillsByOrder.get(u.fill.orderId) ?? []), u.fill]);
      }
    }
    for (const orderId of reported) {
      const order = projection.order(orderId);
      const fills = fillsByOrder.get(orderId) ?? [];
      const sums = [fills.reduce((s, f) => s + f.qtyLots, 0), fills.reduce((s, f) => s + f.notionalMinor, 0), fills.reduce((s, f) => s + f.feeMinor, 0)];
      const recorded = [order?.filledQtyLots, order?.filledNotionalMinor, order?.feesMinor];
      if (sums.join() !== recorded.join()) problems.push(`order ${orderId} [filled, notional, fees] ${recorded.join()}, its fills add up to ${sums.join()}`);
    }
    for (const accountId of touchedAccounts) {
      const account = engine.accounts.get(accountId);
      if (account === undefined) {
        problems.push(`update for account ${accountId}, unknown to the engine`);
        continue;
      }
      const open = listAll(projection, { accounts: [accountId], status: "open" }, limits.pageLimit).map((o) => [o.orderId, o.leavesQtyLots, o.filledQtyLots]);
      const engineOpen = [...engine.orders.values()].filter((o) => o.accountId === accountId).map((o) => [o.id, o.leaves, o.filled]).sort((a, b) => (b[0] ?? 0) - (a[0] ?? 0));
      if (JSON.stringify(open) !== JSON.stringify(engineOpen)) problems.push(`account ${accountId} open [id, leaves, filled] ${JSON.stringify(open)}, engine ${JSON.stringify(engineOpen)}`);
      const record = projection.account(accountId);
      const killed = account.killed || engine.killedFirms.has(account.firmId);
      if (record?.openOrders !== account.openOrders || record.killSwitch !== killed) problems.push(`account ${accountId} ${JSON.stringify(record)}, engine ${account.openOrders} open, kill switch ${killed}`);
      const balances = projection.balances(accountId).map((b) => [b.currency, b.balanceMinor, b.reservedMinor]);
      const engineBalances = [...account.cash.values()].map((c) => [c.currency, c.balance, c.reserved]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      if (JSON.stringify(balances) !== JSON.stringify(engineBalances)) problems.push(`account ${accountId} balances ${JSON.stringify(balances)}, engine ${JSON.stringify(engineBalances)}`);
      const positions = projection.positions(accountId).map((p) => [p.instrumentId, p.positionLots, p.reservedLots]);
      const enginePositions = [...account.positions.values()].map((p) => [p.instrumentId, p.position, p.reserved]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
      if (JSON.stringify(positions) !== JSON.stringify(enginePositions)) problems.push(`account ${accountId} positions ${JSON.stringify(positions)}, engine ${JSON.stringify(enginePositions)}`);
    }
    if (problems.length > 0) return fail(problems);
  }
  const end = stream.commands.length - 1;
  const keptFinished = new Set(finishedOrder.slice(Math.max(0, finishedOrder.length - limits.terminalOrdersMax)));
  const expectedKept = listAll(projection, { accounts: "all" }, 1_000).filter((o) => isOpenStatus(o.status) || keptFinished.has(o.orderId));
  const kept = listAll(bounded, { accounts: "all" }, limits.pageLimit);
  if (JSON.stringify(kept) !== JSON.stringify(expectedKept)) {
    return { commandIndex: end, message: `bounded projection keeps orders ${kept.map((o) => o.orderId).join()}, expected ${expectedKept.map((o) => o.orderId).join()}` };
  }
  const expectedFills = allFills.slice(Math.max(0, allFills.length - limits.fillsMax)).reverse();
  const keptFills = walk((cursor) => bounded.fills({ accounts: "all", limit: limits.pageLimit, cursor }));
  if (JSON.stringify(keptFills) !== JSON.stringify(expectedFills)) {
    return { commandIndex: end, message: `bounded projection keeps ${keptFills.length} fills, expected the newest ${expectedFills.length}` };
  }
  for (const accountId of engine.accounts.keys()) {
    const mine = walk((cursor) => bounded.fills({ accounts: [accountId], limit: limits.pageLimit, cursor }));
    const expected = expectedFills.filter((f) => f.accountId === accountId);
    if (JSON.stringify(mine) !== JSON.stringify(expected)) return { commandIndex: end, message: `account ${accountId}: bounded projection lists ${mine.length} fills, expected ${expected.length}` };
  }
  return null;
}

const runs = Number(process.env["PROP_RUNS"] ?? 30);

describe("orders read model over generated streams", () => {
  it("agrees with the engine and with itself after every command", () => {
    fc.assert(
      fc.property(streamCaseArbitrary({ actionsMin: 300, actionsMax: 1_500 }), limitsArbitrary, (streamCase: StreamCase, limits: Limits) => {
        const check = (stream: GeneratedStream): StreamFailure | null => checkStream(stream, limits);
        if (check(materialize(streamCase)) !== null) {
          const stopAtMs = performance.now() + 12_000;
          const report = describeFailure(streamCase, check, { shouldStop: () => performance.now() > stopAtMs });
          throw new Error(`${report}\n(limits ${JSON.stringify(limits)})`);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
  });
});
