/**
 * Orders, fills, balances, positions and accounts as a pure projection of the
 * engine's events. It reads no clock and no randomness; replaying the event
 * stream from seq 1 rebuilds it exactly.
 *
 * Invariants, asserted on every change (a broken one is a bug upstream or
 * here, and stops the projection): for every order, qty = filled + leaves +
 * cancelled + expired with each part ≥ 0; an order is open (pending_trigger,
 * new, partially_filled) exactly while leaves > 0; a finished order never
 * changes again. Open orders are never evicted; finished orders beyond
 * `terminalOrdersMax` are, oldest to finish first, as are fills beyond
 * `fillsMax`, oldest first.
 *
 * Listing is served from indexes, never by scanning every order: per account,
 * per account and instrument, and for the whole shard (with and without the
 * instrument), each once for all orders and once for open orders. A page walks
 * an index newest first from the cursor and filters only what remains
 * (side, an exact status).
 *
 * `apply` takes the events of one command. Events already applied are skipped,
 * so redelivery is harmless; a gap in the sequence throws before anything
 * changes. Updates go out after the whole batch: each changed order once with
 * its final state, then the fills, then changed balances, then changed positions.
 *
 * `snapshot` and `restore` save and load the whole state (see snapshot.ts), so
 * a restart replays only the journal after the snapshot.
 */
import type { CancelReason, EngineEvent, OrderAccepted, Side, StpMode, TradeExecuted } from "@tradestream/contracts";
import { assert, InvariantError, isSafeNonNegativeInteger, isSafePositiveInteger, Listeners, unseenBySeq } from "@tradestream/kernel";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { IdIndex } from "./id-index.ts";
import { FillRing } from "./fill-ring.ts";
import { IdWindowMap } from "./id-window-map.ts";
import { SnapshotCapture } from "./snapshot-capture.ts";
import { decodeOrdersState, encodeOrdersStateSteps, OrdersSnapshotError, type OrdersState } from "./snapshot.ts";
import type {
  AccountRecord,
  AccountScope,
  AccountUpdate,
  BalanceRecord,
  Fill,
  FillQuery,
  OrderQuery,
  OrderRecord,
  OrderStatus,
  OrderStatusFilter,
  OrdersOptions,
  Page,
  PositionRecord,
} from "./types.ts";

export const terminalOrdersMaxDefault = 500_000;
export const fillsMaxDefault = 1_000_000;
/**
 * Commands a snapshot may stay in gathering (`snapshotSteps` not driven to its end) before the
 * projection gathers the rest at once: what the capture keeps for it grows with the commands.
 */
export const captureCommandsMaxDefault = 100_000;
/** The most items one page may ask for. */
export const pageLimitMax = 1_000;

export function isOpenStatus(status: OrderStatus): boolean {
  return status === "pending_trigger" || status === "new" || status === "partially_filled";
}

function statusMatches(status: OrderStatus, filter: OrderStatusFilter | undefined): boolean {
  switch (filter) {
    case undefined:
      return true;
    case "open":
      return isOpenStatus(status);
    case "closed":
      return !isOpenStatus(status);
    case "pending_trigger":
    case "new":
    case "partially_filled":
    case "filled":
    case "cancelled":
    case "expired":
      return status === filter;
  }
}

function opposite(side: Side): Side {
  return side === "buy" ? "sell" : "buy";
}

function makerFill(trade: TradeExecuted): Fill {
  return {
    tradeId: trade.tradeId,
    orderId: trade.makerOrderId,
    accountId: trade.makerAccountId,
    instrumentId: trade.instrumentId,
    side: opposite(trade.takerSide),
    priceTicks: trade.priceTicks,
    qtyLots: trade.qtyLots,
    notionalMinor: trade.notionalMinor,
    feeMinor: trade.makerFeeMinor,
    liquidity: "maker",
    tsUs: trade.tsUs,
  };
}

function takerFill(trade: TradeExecuted): Fill {
  return {
    tradeId: trade.tradeId,
    orderId: trade.takerOrderId,
    accountId: trade.takerAccountId,
    instrumentId: trade.instrumentId,
    side: trade.takerSide,
    priceTicks: trade.priceTicks,
    qtyLots: trade.qtyLots,
    notionalMinor: trade.notionalMinor,
    feeMinor: trade.takerFeeMinor,
    liquidity: "taker",
    tsUs: trade.tsUs,
  };
}

function newOrder(event: OrderAccepted): OrderRecord {
  const isStop = event.orderType === "stop" || event.orderType === "stop_limit";
  return {
    orderId: event.orderId,
    accountId: event.accountId,
    instrumentId: event.instrumentId,
    clientOrderId: event.clientOrderId,
    side: event.side,
    orderType: event.orderType,
    tif: event.tif,
    priceTicks: event.priceTicks,
    stopPriceTicks: event.stopPriceTicks,
    qtyLots: event.qtyLots,
    displayQtyLots: event.displayQtyLots,
    postOnly: event.postOnly,
    filledQtyLots: 0,
    leavesQtyLots: event.qtyLots,
    cancelledQtyLots: 0,
    expiredQtyLots: 0,
    filledNotionalMinor: 0,
    feesMinor: 0,
    status: isStop ? "pending_trigger" : "new",
    cancelReason: null,
    createdAtUs: event.tsUs,
    updatedAtUs: event.tsUs,
  };
}

/**
 * Asserts the quantity and status invariants of an order record; returns it. It runs
 * for every change of every order, so the messages are only built when one fails.
 */
function checked(order: OrderRecord): OrderRecord {
  const { filledQtyLots: filled, leavesQtyLots: leaves, cancelledQtyLots: cancelled, expiredQtyLots: expired } = order;
  if (!(isSafeNonNegativeInteger(filled) && isSafeNonNegativeInteger(leaves) && isSafeNonNegativeInteger(cancelled) && isSafeNonNegativeInteger(expired) && isSafePositiveInteger(order.qtyLots))) {
    throw new InvariantError(`order ${String(order.orderId)} has a negative or inexact quantity`);
  }
  if (order.qtyLots !== filled + leaves + cancelled + expired) {
    throw new InvariantError(`order ${String(order.orderId)}: qty ${String(order.qtyLots)} ≠ filled + leaves + cancelled + expired (${[filled, leaves, cancelled, expired].join(" + ")})`);
  }
  if (isOpenStatus(order.status) !== leaves > 0) throw new InvariantError(`order ${String(order.orderId)} is ${order.status} with ${String(leaves)} lots open`);
  if ((order.status === "cancelled") !== (order.cancelReason !== null)) throw new InvariantError(`order ${String(order.orderId)} is ${order.status} with cancel reason ${String(order.cancelReason)}`);
  if (!(isSafeNonNegativeInteger(order.filledNotionalMinor) && isSafeNonNegativeInteger(order.feesMinor))) throw new InvariantError(`order ${String(order.orderId)} has an inexact notional or fee`);
  return order;
}

/** The parts of an order record that change after acceptance. */
interface OrderChange {
  priceTicks?: number;
  qtyLots?: number;
  filledQtyLots?: number;
  leavesQtyLots?: number;
  cancelledQtyLots?: number;
  expiredQtyLots?: number;
  filledNotionalMinor?: number;
  feesMinor?: number;
  status?: OrderStatus;
  cancelReason?: CancelReason | null;
  updatedAtUs: number;
}

/**
 * A new record for a changed order (records are immutable: listeners may hold the
 * old one). Every field written in one literal, in one order, so all records share
 * one shape and no spread runs on this path.
 */
function revised(order: OrderRecord, change: OrderChange): OrderRecord {
  return {
    orderId: order.orderId,
    accountId: order.accountId,
    instrumentId: order.instrumentId,
    clientOrderId: order.clientOrderId,
    side: order.side,
    orderType: order.orderType,
    tif: order.tif,
    priceTicks: change.priceTicks ?? order.priceTicks,
    stopPriceTicks: order.stopPriceTicks,
    qtyLots: change.qtyLots ?? order.qtyLots,
    displayQtyLots: order.displayQtyLots,
    postOnly: order.postOnly,
    filledQtyLots: change.filledQtyLots ?? order.filledQtyLots,
    leavesQtyLots: change.leavesQtyLots ?? order.leavesQtyLots,
    cancelledQtyLots: change.cancelledQtyLots ?? order.cancelledQtyLots,
    expiredQtyLots: change.expiredQtyLots ?? order.expiredQtyLots,
    filledNotionalMinor: change.filledNotionalMinor ?? order.filledNotionalMinor,
    feesMinor: change.feesMinor ?? order.feesMinor,
    status: change.status ?? order.status,
    cancelReason: change.cancelReason === undefined ? order.cancelReason : change.cancelReason,
    createdAtUs: order.createdAtUs,
    updatedAtUs: change.updatedAtUs,
  };
}

/** All orders and open orders of one slice (an account, an instrument, both, or everything). */
class OrderIndexes {
  readonly all = new IdIndex();
  readonly open = new IdIndex();
}

/** All fills of one slice. */
class FillIndexes {
  readonly all = new IdIndex();
  readonly byInstrument = new Map<number, IdIndex>();

  instrument(instrumentId: number): IdIndex {
    let index = this.byInstrument.get(instrumentId);
    if (index === undefined) {
      index = new IdIndex();
      this.byInstrument.set(instrumentId, index);
    }
    return index;
  }
}

class OrderSlices {
  readonly whole = new OrderIndexes();
  readonly byInstrument = new Map<number, OrderIndexes>();

  instrument(instrumentId: number): OrderIndexes {
    let indexes = this.byInstrument.get(instrumentId);
    if (indexes === undefined) {
      indexes = new OrderIndexes();
      this.byInstrument.set(instrumentId, indexes);
    }
    return indexes;
  }
}

/** What an account is created with. */
export interface AccountSpec {
  readonly accountId: number;
  readonly firmId: number;
  readonly stpMode: StpMode;
  readonly openOrdersMax: number;
  readonly ordersPerSecondMax: number;
}

class AccountState {
  killed = false;
  openOrders = 0;
  readonly balances = new Map<string, BalanceRecord>();
  readonly positions = new Map<number, PositionRecord>();
  readonly orders = new OrderSlices();
  readonly fills = new FillIndexes();
  /** Client order id → the latest order that used it (ids may be reused on a later day). */
  readonly clientOrderIds = new Map<string, number>();

  constructor(readonly spec: AccountSpec) {}
}

/** What one command changed, gathered before anything is emitted. */
interface Changes {
  readonly orders: Map<number, OrderRecord>;
  readonly fills: Fill[];
  readonly balances: Map<string, BalanceRecord>;
  readonly positions: Map<string, PositionRecord>;
}

function pageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > pageLimitMax) throw new RangeError(`page limit must be an integer from 1 to ${String(pageLimitMax)}, got ${String(limit)}`);
  return limit;
}

/** Merges per-source id lists (each newest first, up to `limit` + 1 long) into one page, with a cursor when more remain. */
function mergePage<T>(page: { readonly lists: ReadonlyArray<readonly number[]>; readonly limit: number; readonly kind: "o" | "f"; readonly item: (id: number) => T }): Page<T> {
  const { lists, limit, kind, item } = page;
  const ids = lists.length === 1 ? [...(lists[0] ?? [])] : lists.flat().sort((a, b) => b - a);
  const more = ids.length > limit;
  const shown = ids.slice(0, limit);
  const last = shown[shown.length - 1];
  return { items: shown.map(item), nextCursor: more && last !== undefined ? encodeCursor(kind, last) : null };
}

export class OrdersProjection {
  /** By order id (see IdWindowMap: a Map this size stalled the thread each time it rebuilt its table). */
  private readonly orders = new IdWindowMap<OrderRecord>();
  private readonly accountsById = new Map<number, AccountState>();
  private readonly killedFirms = new Set<number>();
  private readonly shardOrders = new OrderSlices();
  /** Finished orders in the order they finished; `terminalHead` is the oldest still kept. */
  private terminalQueue: number[] = [];
  private terminalHead = 0;
  /** The kept fills by sequence number, as columns outside the collector's heap. */
  private readonly fillsBySeq: FillRing;
  private readonly shardFills = new FillIndexes();
  private readonly fillsByOrder = new IdWindowMap<IdIndex>();
  private nextFillSeq = 1;
  private oldestFillSeq = 1;
  private readonly terminalOrdersMax: number;
  private readonly fillsMax: number;
  private readonly listeners: Listeners<AccountUpdate>;
  private lastSeq = 0;
  /** A snapshot still gathering its records (see snapshot-capture.ts), told of every record that changes or goes. */
  private capture: SnapshotCapture | null = null;
  private readonly captureCommandsMax: number;
  private readonly captureRecordsPerStep: number | undefined;

  constructor(options: OrdersOptions = {}) {
    this.terminalOrdersMax = options.terminalOrdersMax ?? terminalOrdersMaxDefault;
    this.fillsMax = options.fillsMax ?? fillsMaxDefault;
    this.captureCommandsMax = options.captureCommandsMax ?? captureCommandsMaxDefault;
    this.captureRecordsPerStep = options.captureRecordsPerStep;
    this.fillsBySeq = new FillRing(options.fillSlotsInitial);
    assert(isSafeNonNegativeInteger(this.terminalOrdersMax) && isSafeNonNegativeInteger(this.fillsMax), "terminalOrdersMax and fillsMax must be non-negative integers");
    assert(isSafeNonNegativeInteger(this.captureCommandsMax), "captureCommandsMax must be a non-negative integer");
    assert(this.captureRecordsPerStep === undefined || isSafePositiveInteger(this.captureRecordsPerStep), "captureRecordsPerStep must be a positive integer");
    this.listeners = new Listeners<AccountUpdate>(options.onListenerError);
  }

  get lastEventSeq(): number {
    return this.lastSeq;
  }

  onUpdate(listener: (update: AccountUpdate) => void): () => void {
    return this.listeners.add(listener);
  }

  /** The fills one command's events gave an order (to answer a placement with its immediate fills). */
  static fillsOf(events: readonly EngineEvent[], orderId: number): Fill[] {
    const fills: Fill[] = [];
    for (const event of events) {
      if (event.type !== "TradeExecuted") continue;
      if (event.makerOrderId === orderId) fills.push(makerFill(event));
      else if (event.takerOrderId === orderId) fills.push(takerFill(event));
    }
    return fills;
  }

  // ── Snapshots ───────────────────────────────────────────────────────────

  /** The whole state as bytes (see snapshot.ts); listeners are not state. The same state always gives the same bytes. */
  snapshot(): Uint8Array {
    const steps = this.snapshotSteps();
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /**
   * `snapshot` in steps: the state is taken now, at the cost of what is small (the
   * accounts, the client-order-id maps' values), and each `next()` reads or encodes a
   * few thousand records, so the caller can apply commands and answer requests in
   * between; the generator returns the bytes `snapshot` would have given now (see
   * snapshot-capture.ts for how later commands leave them unchanged).
   */
  snapshotSteps(): Generator<void, Uint8Array, void> {
    this.finishCapture();
    const accounts = [...this.accountsById.values()];
    const layout = this.orders.layout();
    const capture = new SnapshotCapture(
      this.captureSources,
      {
        lastSeq: this.lastSeq,
        nextFillSeq: this.nextFillSeq,
        oldestFillSeq: this.oldestFillSeq,
        fills: this.fillsBySeq.view(),
        accounts: accounts.map((account) => ({
          spec: account.spec,
          killed: account.killed,
          openOrders: account.openOrders,
          balances: [...account.balances.values()],
          positions: [...account.positions.values()],
        })),
        killedFirms: [...this.killedFirms],
        orderCount: this.orders.size,
        belowIds: layout.belowIds,
        windowFrom: layout.from,
        windowTo: layout.to,
        finishedQueue: this.terminalQueue,
        finishedFrom: this.terminalHead,
        finishedTo: this.terminalQueue.length,
        clientOrderIdParts: accounts.map((account) => Array.from(account.clientOrderIds.values())),
      },
      this.captureRecordsPerStep,
    );
    this.capture = capture;
    return this.encodeCaptured(capture);
  }

  private readonly captureSources = {
    order: (orderId: number): OrderRecord | undefined => this.orders.get(orderId),
  };

  private *encodeCaptured(capture: SnapshotCapture): Generator<void, Uint8Array, void> {
    try {
      while (!capture.step()) yield;
      if (this.capture === capture) this.capture = null;
      return yield* encodeOrdersStateSteps(capture.finish());
    } finally {
      // The snapshot has read its fills (or was given up): the ring may write over their slots again.
      capture.fills.release();
    }
  }

  /** Gathers the rest of a snapshot still gathering, now, and stops telling it of changes. */
  private finishCapture(): void {
    const capture = this.capture;
    if (capture === null) return;
    this.capture = null;
    capture.finish();
  }

  /**
   * A projection equal to the one that took the snapshot, with no listeners.
   * Limits below what the snapshot holds evict at once, by the usual rules.
   * Throws OrdersSnapshotError for bytes that are not a consistent snapshot of
   * this version; nothing half-restored is ever returned.
   */
  static restore(bytes: Uint8Array, options: OrdersOptions = {}): OrdersProjection {
    const projection = new OrdersProjection(options);
    const state = decodeOrdersState(bytes);
    try {
      projection.load(state);
      projection.evict();
    } catch (error) {
      if (!(error instanceof InvariantError)) throw error;
      throw new OrdersSnapshotError(`orders snapshot is inconsistent: ${error.message}`, { cause: error });
    }
    return projection;
  }

  /**
   * Loads a decoded snapshot into this new projection, rebuilding the indexes
   * from the orders in id order and the fills in sequence order, and checking
   * what the decoder does not: every order and fill of a known account, every
   * order sound, the open order counts, the client-order-id entries naming
   * kept orders.
   */
  private load(state: OrdersState): void {
    for (const snapshot of state.accounts) {
      assert(!this.accountsById.has(snapshot.spec.accountId), `account ${String(snapshot.spec.accountId)} twice`);
      const account = new AccountState(snapshot.spec);
      account.killed = snapshot.killed;
      for (const balance of snapshot.balances) account.balances.set(balance.currency, balance);
      for (const position of snapshot.positions) account.positions.set(position.instrumentId, position);
      this.accountsById.set(snapshot.spec.accountId, account);
    }
    for (const firmId of state.killedFirms) this.killedFirms.add(firmId);
    for (const order of state.orders) {
      const account = this.accountState(checked(order).accountId);
      this.orders.set(order.orderId, order);
      this.accepting = order.orderId;
      if (isOpenStatus(order.status)) {
        account.openOrders += 1;
        this.eachSlice(order, account, this.addNew);
      } else {
        this.eachSlice(order, account, this.addFinished);
      }
    }
    for (const snapshot of state.accounts) {
      const open = this.accountState(snapshot.spec.accountId).openOrders;
      assert(open === snapshot.openOrders, `account ${String(snapshot.spec.accountId)} counts ${String(snapshot.openOrders)} open orders, the snapshot holds ${String(open)}`);
    }
    this.terminalQueue = [...state.finished];
    for (const orderId of state.clientOrderIdEntries) {
      const order = this.orders.get(orderId);
      assert(order !== undefined, `client order id entry for order ${String(orderId)}, which is not kept`);
      const entries = this.accountState(order.accountId).clientOrderIds;
      assert(!entries.has(order.clientOrderId), `account ${String(order.accountId)} has two entries for one client order id`);
      entries.set(order.clientOrderId, orderId);
    }
    this.oldestFillSeq = state.oldestFillSeq;
    this.nextFillSeq = state.oldestFillSeq;
    this.fillsBySeq.reserve(state.fills.length);
    for (const fill of state.fills) this.storeFill(fill);
    this.lastSeq = state.lastSeq;
  }

  // ── Events ──────────────────────────────────────────────────────────────

  apply(events: readonly EngineEvent[]): void {
    const fresh = unseenBySeq(events, this.lastSeq);
    if (fresh.length === 0) return;
    if (this.capture !== null && (this.capture.commands += 1) > this.captureCommandsMax) this.finishCapture();
    const changes: Changes = { orders: new Map(), fills: [], balances: new Map(), positions: new Map() };
    for (const event of fresh) this.applyEvent(event, changes);
    this.lastSeq = fresh[fresh.length - 1]?.seq ?? this.lastSeq;
    this.evict();
    this.emit(changes);
  }

  private applyEvent(event: EngineEvent, changes: Changes): void {
    switch (event.type) {
      case "AccountCreated":
        assert(!this.accountsById.has(event.accountId), `account ${String(event.accountId)} created twice`);
        this.accountsById.set(event.accountId, new AccountState({ accountId: event.accountId, firmId: event.firmId, stpMode: event.stpMode, openOrdersMax: event.openOrdersMax, ordersPerSecondMax: event.ordersPerSecondMax }));
        break;
      case "KillSwitchSet":
        if (event.scope === "account") this.accountState(event.id).killed = event.active;
        else if (event.active) this.killedFirms.add(event.id);
        else this.killedFirms.delete(event.id);
        break;
      case "OrderAccepted":
        this.accept(event, changes);
        break;
      case "OrderTriggered": {
        const order = this.openOrder(event.orderId);
        assert(order.status === "pending_trigger", `order ${String(event.orderId)} triggered while ${order.status}`);
        this.update(checked(revised(order, { status: "new", updatedAtUs: event.tsUs })), changes);
        break;
      }
      case "TradeExecuted":
        this.fill(makerFill(event), changes);
        this.fill(takerFill(event), changes);
        break;
      case "OrderCancelled": {
        const order = this.openOrder(event.orderId);
        if (event.leavesQtyLots !== order.leavesQtyLots - event.cancelledQtyLots) {
          throw new InvariantError(`order ${String(event.orderId)}: cancel leaves ${String(event.leavesQtyLots)} of ${String(order.leavesQtyLots)} after ${String(event.cancelledQtyLots)}`);
        }
        const gone = event.leavesQtyLots === 0;
        this.update(
          checked(
            revised(order, {
            leavesQtyLots: event.leavesQtyLots,
            cancelledQtyLots: order.cancelledQtyLots + event.cancelledQtyLots,
            // A self-trade-prevention decrement that leaves quantity open only reduces the order.
            status: gone ? "cancelled" : order.status,
            cancelReason: gone ? event.reason : null,
            updatedAtUs: event.tsUs,
            }),
          ),
          changes,
        );
        break;
      }
      case "OrderReplaced": {
        const order = this.openOrder(event.orderId);
        // The engine keeps what is done (filled and cancelled) and derives the open quantity from the new total.
        this.update(checked(revised(order, { priceTicks: event.priceTicks, qtyLots: event.qtyLots, leavesQtyLots: event.leavesQtyLots, updatedAtUs: event.tsUs })), changes);
        break;
      }
      case "OrderExpired": {
        const order = this.openOrder(event.orderId);
        this.update(
          checked(revised(order, { leavesQtyLots: order.leavesQtyLots - event.expiredQtyLots, expiredQtyLots: order.expiredQtyLots + event.expiredQtyLots, status: "expired", updatedAtUs: event.tsUs })),
          changes,
        );
        break;
      }
      case "BalanceChanged": {
        const balance: BalanceRecord = {
          accountId: event.accountId,
          currency: event.currency,
          balanceMinor: event.balanceMinor,
          reservedMinor: event.reservedMinor,
          availableMinor: event.balanceMinor - event.reservedMinor,
        };
        this.accountState(event.accountId).balances.set(event.currency, balance);
        changes.balances.set(`${String(event.accountId)}:${event.currency}`, balance);
        break;
      }
      case "PositionChanged": {
        const position: PositionRecord = {
          accountId: event.accountId,
          instrumentId: event.instrumentId,
          positionLots: event.positionLots,
          reservedLots: event.reservedLots,
          availableLots: event.positionLots - event.reservedLots,
        };
        this.accountState(event.accountId).positions.set(event.instrumentId, position);
        changes.positions.set(`${String(event.accountId)}:${String(event.instrumentId)}`, position);
        break;
      }
      // Reference data, sessions and public market events: nothing an account's orders show.
      case "CommandRejected":
      case "InstrumentCreated":
      case "InstrumentUpdated":
      case "ReferencePriceSet":
      case "TradingStateChanged":
      case "SessionOpened":
      case "SessionClosed":
      case "BookLevelChanged":
      case "DayEnded":
        break;
    }
  }

  private accountState(accountId: number): AccountState {
    const account = this.accountsById.get(accountId);
    if (account === undefined) throw new InvariantError(`event for unknown account ${String(accountId)}`);
    return account;
  }

  private openOrder(orderId: number): OrderRecord {
    const order = this.orders.get(orderId);
    if (order === undefined || !isOpenStatus(order.status)) throw new InvariantError(`event for order ${String(orderId)}, which is ${order?.status ?? "unknown"}`);
    return order;
  }

  /**
   * The four order slices an order belongs to: its account, its account and
   * instrument, the shard, the shard's instrument. Written out rather than returned
   * as an array: this runs for every order accepted and finished.
   */
  private eachSlice(order: OrderRecord, account: AccountState, visit: (slice: OrderIndexes) => void): void {
    visit(account.orders.whole);
    visit(account.orders.instrument(order.instrumentId));
    visit(this.shardOrders.whole);
    visit(this.shardOrders.instrument(order.instrumentId));
  }

  private accept(event: OrderAccepted, changes: Changes): void {
    if (this.orders.has(event.orderId)) throw new InvariantError(`order ${String(event.orderId)} accepted twice`);
    const order = checked(newOrder(event));
    const account = this.accountState(order.accountId);
    // Ids only grow, so a capture never reads a new order; were one to come below its highest id, finish the capture first.
    if (this.capture !== null && order.orderId <= this.capture.maxOrderId) this.finishCapture();
    this.orders.set(order.orderId, order);
    this.accepting = order.orderId;
    this.eachSlice(order, account, this.addNew);
    account.clientOrderIds.set(order.clientOrderId, order.orderId);
    account.openOrders += 1;
    changes.orders.set(order.orderId, order);
  }

  private fill(fill: Fill, changes: Changes): void {
    const order = this.openOrder(fill.orderId);
    if (order.accountId !== fill.accountId || order.instrumentId !== fill.instrumentId || order.side !== fill.side) {
      throw new InvariantError(`fill of trade ${String(fill.tradeId)} does not match order ${String(fill.orderId)}`);
    }
    const leaves = order.leavesQtyLots - fill.qtyLots;
    const filledQtyLots = order.filledQtyLots + fill.qtyLots;
    const status: OrderStatus = leaves === 0 ? "filled" : order.status === "pending_trigger" ? "pending_trigger" : filledQtyLots > 0 ? "partially_filled" : "new";
    const change = { filledQtyLots, leavesQtyLots: leaves, filledNotionalMinor: order.filledNotionalMinor + fill.notionalMinor, feesMinor: order.feesMinor + fill.feeMinor, status, updatedAtUs: fill.tsUs };
    this.update(checked(revised(order, change)), changes);
    this.storeFill(fill);
    changes.fills.push(fill);
  }

  private storeFill(fill: Fill): void {
    const seq = this.nextFillSeq;
    this.nextFillSeq += 1;
    this.fillsBySeq.push(seq, fill);
    const account = this.accountState(fill.accountId);
    account.fills.all.push(seq);
    account.fills.instrument(fill.instrumentId).push(seq);
    this.shardFills.all.push(seq);
    this.shardFills.instrument(fill.instrumentId).push(seq);
    let byOrder = this.fillsByOrder.get(fill.orderId);
    if (byOrder === undefined) {
      byOrder = new IdIndex();
      this.fillsByOrder.set(fill.orderId, byOrder);
    }
    byOrder.push(seq);
  }

  /** Removes the oldest kept fill from every index it is in: its account's and the shard's (whole and by instrument), and its order's. */
  private dropFill(seq: number, accountId: number, instrumentId: number, orderId: number): void {
    const account = this.accountState(accountId);
    account.fills.all.dropOldest(seq);
    account.fills.instrument(instrumentId).dropOldest(seq);
    this.shardFills.all.dropOldest(seq);
    this.shardFills.instrument(instrumentId).dropOldest(seq);
    const byOrder = this.fillsByOrder.get(orderId);
    if (byOrder === undefined) return;
    byOrder.dropOldest(seq);
    if (byOrder.size === 0) this.fillsByOrder.delete(orderId);
  }

  /** Whether an order is still open (the open indexes keep only these when they compact). */
  private readonly isOpen = (id: number): boolean => {
    const other = this.orders.get(id);
    return other !== undefined && isOpenStatus(other.status);
  };

  /** Whether an order is still kept (the whole indexes keep only these when they compact). */
  private readonly isKept = (id: number): boolean => this.orders.has(id);

  private readonly retireOpen = (slice: OrderIndexes): void => slice.open.retire(this.isOpen);
  /** The order being accepted, for `addNew` (set just before the slices are visited). */
  private accepting = 0;
  private readonly addNew = (slice: OrderIndexes): void => {
    slice.all.push(this.accepting);
    slice.open.push(this.accepting);
  };
  private readonly retireKept = (slice: OrderIndexes): void => slice.all.retire(this.isKept);
  /** For `load`: a finished order is only in the whole indexes. */
  private readonly addFinished = (slice: OrderIndexes): void => slice.all.push(this.accepting);

  /** Stores an order's new state; an order that just finished leaves the open indexes. */
  private update(order: OrderRecord, changes: Changes): void {
    this.capture?.saveOrder(order.orderId, this.orders.get(order.orderId));
    this.orders.set(order.orderId, order);
    changes.orders.set(order.orderId, order);
    if (isOpenStatus(order.status)) return;
    const account = this.accountState(order.accountId);
    account.openOrders -= 1;
    if (account.openOrders < 0) throw new InvariantError(`account ${String(order.accountId)} has a negative open order count`);
    this.eachSlice(order, account, this.retireOpen);
    this.terminalQueue.push(order.orderId);
  }

  /** Drops the oldest finished orders and the oldest fills beyond their limits. */
  private evict(): void {
    while (this.terminalQueue.length - this.terminalHead > this.terminalOrdersMax) {
      const orderId = this.terminalQueue[this.terminalHead] as number;
      this.terminalHead += 1;
      const order = this.orders.get(orderId);
      assert(order !== undefined && !isOpenStatus(order.status), `evicting order ${String(orderId)}, which is not a kept finished order`);
      this.capture?.saveOrder(orderId, order);
      this.orders.delete(orderId);
      const account = this.accountState(order.accountId);
      this.eachSlice(order, account, this.retireKept);
      if (account.clientOrderIds.get(order.clientOrderId) === orderId) account.clientOrderIds.delete(order.clientOrderId);
    }
    if (this.terminalHead >= 1_024 && this.terminalHead * 2 >= this.terminalQueue.length) {
      this.terminalQueue = this.terminalQueue.slice(this.terminalHead);
      this.terminalHead = 0;
    }
    while (this.nextFillSeq - this.oldestFillSeq > this.fillsMax) {
      const seq = this.oldestFillSeq;
      this.oldestFillSeq += 1;
      assert(this.fillsBySeq.has(seq), `fill ${String(seq)} missing`);
      this.dropFill(seq, this.fillsBySeq.accountOf(seq), this.fillsBySeq.instrumentOf(seq), this.fillsBySeq.orderOf(seq));
      this.fillsBySeq.dropOldest(seq);
    }
  }

  private emit(changes: Changes): void {
    const updates: AccountUpdate[] = [];
    for (const order of changes.orders.values()) updates.push({ kind: "order", accountId: order.accountId, order });
    for (const fill of changes.fills) updates.push({ kind: "fill", accountId: fill.accountId, fill });
    for (const balance of changes.balances.values()) updates.push({ kind: "balance", accountId: balance.accountId, balance });
    for (const position of changes.positions.values()) updates.push({ kind: "position", accountId: position.accountId, position });
    this.listeners.emitAll(updates);
  }

  // ── Queries ─────────────────────────────────────────────────────────────

  order(orderId: number): OrderRecord | undefined {
    return this.orders.get(orderId);
  }

  /** The latest order of the account with this client order id (ids may be reused on a later trading day). */
  orderByClientId(accountId: number, clientOrderId: string): OrderRecord | undefined {
    const orderId = this.accountsById.get(accountId)?.clientOrderIds.get(clientOrderId);
    return orderId === undefined ? undefined : this.orders.get(orderId);
  }

  /** The accounts of a scope that exist, each once. */
  private scoped(scope: AccountScope): AccountState[] {
    if (scope === "all") return [];
    const out: AccountState[] = [];
    for (const accountId of new Set(scope)) {
      const account = this.accountsById.get(accountId);
      if (account !== undefined) out.push(account);
    }
    return out;
  }

  /** Orders newest first (by order id), one page at a time. */
  listOrders(query: OrderQuery): Page<OrderRecord> {
    const limit = pageLimit(query.limit);
    const beforeId = query.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor("o", query.cursor);
    // Only open orders can match: walk the open index, which holds nothing else.
    const openOnly = query.status === "open" || (query.status !== undefined && query.status !== "closed" && isOpenStatus(query.status));
    const pick = (slices: OrderSlices): IdIndex | undefined => {
      const indexes = query.instrumentId === undefined ? slices.whole : slices.byInstrument.get(query.instrumentId);
      return openOnly ? indexes?.open : indexes?.all;
    };
    const sources = query.accounts === "all" ? [pick(this.shardOrders)] : this.scoped(query.accounts).map((account) => pick(account.orders));
    const accept = (id: number): boolean => {
      const order = this.orders.get(id);
      return order !== undefined && statusMatches(order.status, query.status) && (query.side === undefined || order.side === query.side);
    };
    const lists = sources.flatMap((index) => (index === undefined ? [] : [index.collect(beforeId, limit + 1, accept)]));
    return mergePage({ lists, limit, kind: "o", item: (id) => this.orders.get(id) as OrderRecord });
  }

  /** Fills newest first, one page at a time. */
  fills(query: FillQuery): Page<Fill> {
    const limit = pageLimit(query.limit);
    const beforeSeq = query.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor("f", query.cursor);
    const accounts = this.scoped(query.accounts);
    const inScope = query.accounts === "all" ? (): boolean => true : (accountId: number): boolean => accounts.some((a) => a.spec.accountId === accountId);
    let sources: Array<IdIndex | undefined>;
    if (query.orderId !== undefined) sources = [this.fillsByOrder.get(query.orderId)];
    else if (query.accounts === "all") sources = [query.instrumentId === undefined ? this.shardFills.all : this.shardFills.byInstrument.get(query.instrumentId)];
    else sources = accounts.map((a) => (query.instrumentId === undefined ? a.fills.all : a.fills.byInstrument.get(query.instrumentId)));
    const fills = this.fillsBySeq;
    const accept = (seq: number): boolean => fills.has(seq) && inScope(fills.accountOf(seq)) && (query.instrumentId === undefined || fills.instrumentOf(seq) === query.instrumentId);
    const lists = sources.flatMap((index) => (index === undefined ? [] : [index.collect(beforeSeq, limit + 1, accept)]));
    return mergePage({ lists, limit, kind: "f", item: (seq) => this.fillsBySeq.get(seq) as Fill });
  }

  /** The account's cash, by currency. */
  balances(accountId: number): BalanceRecord[] {
    return [...(this.accountsById.get(accountId)?.balances.values() ?? [])].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
  }

  /** The account's positions, by instrument. */
  positions(accountId: number): PositionRecord[] {
    return [...(this.accountsById.get(accountId)?.positions.values() ?? [])].sort((a, b) => a.instrumentId - b.instrumentId);
  }

  account(accountId: number): AccountRecord | undefined {
    const account = this.accountsById.get(accountId);
    return account === undefined ? undefined : this.accountRecord(account);
  }

  /** Every account, by id. */
  accounts(): AccountRecord[] {
    return [...this.accountsById.values()].map((account) => this.accountRecord(account)).sort((a, b) => a.accountId - b.accountId);
  }

  private accountRecord(account: AccountState): AccountRecord {
    return { ...account.spec, killSwitch: account.killed || this.killedFirms.has(account.spec.firmId), openOrders: account.openOrders };
  }
}
