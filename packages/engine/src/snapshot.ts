/**
 * Engine snapshots: the whole state of a shard as canonical JSON. Canonical
 * means the same state always gives the same bytes (fields in a fixed order,
 * collections in insertion or priority order), so a hash of the snapshot is the
 * state hash: the state restored from a snapshot and then fed the journal's tail
 * must hash equal to the live state. Transient bookkeeping (event-dedupe marks)
 * is not state and is left out.
 */
import type { InstrumentSpec, OrderType, Side, StpMode, TimeInForce, TradingState } from "@tradestream/contracts";
import { assert } from "@tradestream/kernel";
import { Account } from "./account.ts";
import { ChunkWriter } from "./chunk-writer.ts";
import { type ClientOrderIdsCapture, type ClientOrderIdsRow, rowTextSteps } from "./client-order-ids.ts";
import { Engine, type EngineOptions, type Session } from "./engine.ts";
import { Instrument } from "./instrument.ts";
import { totalCash, totalPositions } from "./invariants.ts";
import { Order, type OrderStatus } from "./order.ts";

/**
 * 2: an account's client order ids as the set keeps them (`ClientOrderIdsRow`) instead of
 * one string per id. A shard replays its journal from the start past a version 1 snapshot.
 */
export const snapshotVersion = 2;

type OrderRow = [
  id: number,
  accountId: number,
  instrumentId: number,
  clientOrderId: string,
  side: Side,
  orderType: OrderType,
  tif: TimeInForce,
  price: number,
  stopPrice: number,
  qty: number,
  leaves: number,
  displayQty: number,
  postOnly: boolean,
  sessionId: number,
  makerFeeBps: number,
  takerFeeBps: number,
  filled: number,
  visible: number,
  priority: number,
  reservedCash: number,
  reservedLots: number,
  status: OrderStatus,
];

interface InstrumentRow {
  spec: InstrumentSpec;
  state: TradingState;
  lastPriceTicks: number;
  referencePriceTicks: number;
  priceBandBps: number;
  circuitBandBps: number;
  maxOrderQtyLots: number;
  maxOrderNotionalMinor: number;
  makerFeeBps: number;
  takerFeeBps: number;
  /** Order ids in priority order, best first. */
  bids: number[];
  asks: number[];
  stops: number[];
}

interface AccountRow {
  id: number;
  firmId: number;
  stpMode: StpMode;
  openOrdersMax: number;
  ordersPerSecondMax: number;
  openOrders: number;
  killed: boolean;
  rateWindowStartUs: number;
  rateCount: number;
  cash: Array<[currency: string, balance: number, reserved: number]>;
  positions: Array<[instrumentId: number, position: number, reserved: number]>;
  clientOrderIds: ClientOrderIdsRow;
}

export interface EngineSnapshot {
  version: number;
  eventSeq: number;
  nextOrderId: number;
  nextTradeId: number;
  prioritySeq: number;
  instruments: InstrumentRow[];
  accounts: AccountRow[];
  killedFirms: number[];
  sessions: Session[];
  feesCollected: Array<[currency: string, amountMinor: number]>;
  orders: OrderRow[];
  /** Applied payment ids with their timestamps; absent when there are none (so older snapshots read the same). */
  payments?: Array<[key: string, tsUs: number]>;
}

function instrumentRowOf(instrument: Instrument): InstrumentRow {
  const ids = (side: Side): number[] => {
    const out: number[] = [];
    instrument.book.forEach(side, (order) => out.push(order.id));
    return out;
  };
  const i = instrument;
  return {
    spec: i.spec,
    state: i.state,
    lastPriceTicks: i.lastPriceTicks,
    referencePriceTicks: i.referencePriceTicks,
    priceBandBps: i.priceBandBps,
    circuitBandBps: i.circuitBandBps,
    maxOrderQtyLots: i.maxOrderQtyLots,
    maxOrderNotionalMinor: i.maxOrderNotionalMinor,
    makerFeeBps: i.makerFeeBps,
    takerFeeBps: i.takerFeeBps,
    bids: ids("buy"),
    asks: ids("sell"),
    stops: i.stops.map((o) => o.id),
  };
}

/** An account's row but its client order ids (the row's last field). */
function accountFieldsOf(a: Account): Omit<AccountRow, "clientOrderIds"> {
  return {
    id: a.id,
    firmId: a.firmId,
    stpMode: a.stpMode,
    openOrdersMax: a.openOrdersMax,
    ordersPerSecondMax: a.ordersPerSecondMax,
    openOrders: a.openOrders,
    killed: a.killed,
    rateWindowStartUs: a.rateWindowStartUs,
    rateCount: a.rateCount,
    cash: [...a.cash.values()].map((s) => [s.currency, s.balance, s.reserved]),
    positions: [...a.positions.values()].map((s) => [s.instrumentId, s.position, s.reserved]),
  };
}

/** The snapshot's fields before `accounts`. */
function headOf(engine: Engine): Pick<EngineSnapshot, "version" | "eventSeq" | "nextOrderId" | "nextTradeId" | "prioritySeq" | "instruments"> {
  return {
    version: snapshotVersion,
    eventSeq: engine.eventSeq,
    nextOrderId: engine.nextOrderId,
    nextTradeId: engine.nextTradeId,
    prioritySeq: engine.prioritySeq,
    instruments: [...engine.instruments.values()].map(instrumentRowOf),
  };
}

/** The snapshot's fields after `accounts`. */
function tailOf(engine: Engine): Pick<EngineSnapshot, "killedFirms" | "sessions" | "feesCollected" | "orders" | "payments"> {
  return {
    killedFirms: [...engine.killedFirms],
    sessions: [...engine.sessions.values()].map((s) => ({ sessionId: s.sessionId, accountId: s.accountId, cancelOnDisconnect: s.cancelOnDisconnect })),
    feesCollected: [...engine.feesCollected.entries()],
    orders: [...engine.orders.values()].map((o) => [
      o.id, o.accountId, o.instrumentId, o.clientOrderId, o.side, o.orderType, o.tif, o.price, o.stopPrice, o.qty, o.leaves,
      o.displayQty, o.postOnly, o.sessionId, o.makerFeeBps, o.takerFeeBps, o.filled, o.visible, o.priority, o.reservedCash,
      o.reservedLots, o.status,
    ]),
    ...(engine.paymentsApplied.size === 0 ? {} : { payments: [...engine.paymentsApplied.entries()] }),
  };
}

/** The snapshot as a value: the definition of its canonical JSON, which `captureSnapshot` writes in steps. */
export function snapshotOf(engine: Engine): EngineSnapshot {
  return {
    ...headOf(engine),
    accounts: [...engine.accounts.values()].map((a) => ({ ...accountFieldsOf(a), clientOrderIds: a.clientOrderIds.toRow() })),
    ...tailOf(engine),
  };
}

/** Client order ids a snapshot's step writes. */
export const snapshotIdsPerStepDefault = 4_096;

/**
 * The snapshot of `engine` as it is now, in steps. Everything but the day's client order ids
 * is written at once; the ids, which only grow until the end of day and are most of a
 * snapshot when clients send UUIDs (12.7 MB at 320,000 ids), are written by the returned
 * steps, about `idsPerStep` at a time, and the engine may apply commands between steps. The
 * steps end with the bytes, in pieces, that `encodeSnapshot` gives at this point.
 */
export function captureSnapshot(engine: Engine, idsPerStep: number = snapshotIdsPerStepDefault): Generator<void, Uint8Array[], void> {
  assert(Number.isSafeInteger(idsPerStep) && idsPerStep >= 1, `idsPerStep must be a positive integer, got ${String(idsPerStep)}`);
  const head = JSON.stringify(headOf(engine));
  const accounts = [...engine.accounts.values()].map((a) => ({ fields: JSON.stringify(accountFieldsOf(a)), ids: a.clientOrderIds.capture() }));
  const tail = JSON.stringify(tailOf(engine));
  return snapshotTextSteps(head, accounts, tail, idsPerStep);
}

function* snapshotTextSteps(
  head: string,
  accounts: ReadonlyArray<{ readonly fields: string; readonly ids: ClientOrderIdsCapture }>,
  tail: string,
  idsPerStep: number,
): Generator<void, Uint8Array[], void> {
  const out = new ChunkWriter();
  // `head` and each account's fields are objects: their text without the closing brace is followed by the next field.
  out.text(head.slice(0, -1));
  out.text(',"accounts":[');
  for (let i = 0; i < accounts.length; i += 1) {
    const account = accounts[i] as (typeof accounts)[number];
    if (i > 0) out.text(",");
    out.text(account.fields.slice(0, -1));
    out.text(',"clientOrderIds":');
    yield* rowTextSteps(account.ids, out, idsPerStep);
    out.text("}");
  }
  out.text("],");
  out.text(tail.slice(1));
  out.flush();
  return out.chunks;
}

/** `chunks` as one array. */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The canonical snapshot bytes (UTF-8 JSON). */
export function encodeSnapshot(engine: Engine): Uint8Array {
  const steps = captureSnapshot(engine, Number.MAX_SAFE_INTEGER);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return joinChunks(step.value);
  }
}

export function restoreEngine(bytes: Uint8Array, options: EngineOptions = {}): Engine {
  return restoreEngineFrom(JSON.parse(new TextDecoder().decode(bytes)) as EngineSnapshot, options);
}

/** An engine from a snapshot already parsed (a shard's snapshot holds it inside its own JSON). */
export function restoreEngineFrom(snapshot: EngineSnapshot, options: EngineOptions = {}): Engine {
  assert(snapshot.version === snapshotVersion, `unsupported snapshot version ${snapshot.version}`);
  const engine = new Engine(options);
  engine.eventSeq = snapshot.eventSeq;
  engine.nextOrderId = snapshot.nextOrderId;
  engine.nextTradeId = snapshot.nextTradeId;
  engine.prioritySeq = snapshot.prioritySeq;
  for (const row of snapshot.accounts) {
    const account = new Account(row.id, row.firmId, row.stpMode, row.openOrdersMax, row.ordersPerSecondMax);
    account.openOrders = row.openOrders;
    account.killed = row.killed;
    account.rateWindowStartUs = row.rateWindowStartUs;
    account.rateCount = row.rateCount;
    for (const [currency, balance, reserved] of row.cash) {
      const slot = account.cashSlot(currency);
      slot.balance = balance;
      slot.reserved = reserved;
    }
    for (const [instrumentId, position, reserved] of row.positions) {
      const slot = account.positionSlot(instrumentId);
      slot.position = position;
      slot.reserved = reserved;
    }
    account.clientOrderIds.restoreFrom(row.clientOrderIds);
    engine.accounts.set(row.id, account);
  }
  for (const firm of snapshot.killedFirms) engine.killedFirms.add(firm);
  for (const session of snapshot.sessions) engine.sessions.set(session.sessionId, session);
  for (const [currency, amount] of snapshot.feesCollected) engine.feesCollected.set(currency, amount);
  for (const [key, tsUs] of snapshot.payments ?? []) engine.paymentsApplied.set(key, tsUs);
  // The outstanding totals are derived state: balances plus fee income, and positions.
  for (const [currency, total] of totalCash(engine)) engine.cashOutstanding.set(currency, total);
  for (const [instrumentId, total] of totalPositions(engine)) engine.lotsOutstanding.set(instrumentId, total);
  const byId = new Map<number, Order>();
  for (const row of snapshot.orders) {
    const [id, accountId, instrumentId, clientOrderId, side, orderType, tif, price, stopPrice, qty, leaves, displayQty, postOnly, sessionId, makerFeeBps, takerFeeBps, filled, visible, priority, reservedCash, reservedLots, status] = row;
    const account = engine.accounts.get(accountId);
    const spec = snapshot.instruments.find((i) => i.spec.instrumentId === instrumentId)?.spec;
    assert(account !== undefined && spec !== undefined, `snapshot order ${id} names an unknown account or instrument`);
    const order = new Order().open(id, accountId, instrumentId, clientOrderId, side, orderType, tif, price, stopPrice, qty, leaves, displayQty, postOnly, sessionId, makerFeeBps, takerFeeBps, account.cashSlot(spec.currency), account.positionSlot(instrumentId));
    order.filled = filled;
    order.visible = visible;
    order.priority = priority;
    order.reservedCash = reservedCash;
    order.reservedLots = reservedLots;
    order.status = status;
    byId.set(id, order);
    engine.orders.set(id, order);
  }
  for (const row of snapshot.instruments) {
    const instrument = new Instrument(row.spec, engine.bookFor(row.spec.instrumentId));
    instrument.state = row.state;
    instrument.lastPriceTicks = row.lastPriceTicks;
    instrument.referencePriceTicks = row.referencePriceTicks;
    instrument.priceBandBps = row.priceBandBps;
    instrument.circuitBandBps = row.circuitBandBps;
    instrument.maxOrderQtyLots = row.maxOrderQtyLots;
    instrument.maxOrderNotionalMinor = row.maxOrderNotionalMinor;
    instrument.makerFeeBps = row.makerFeeBps;
    instrument.takerFeeBps = row.takerFeeBps;
    for (const id of [...row.bids, ...row.asks]) {
      const order = byId.get(id);
      assert(order !== undefined, `snapshot book names unknown order ${id}`);
      instrument.book.insert(order);
    }
    for (const id of row.stops) {
      const order = byId.get(id);
      assert(order !== undefined, `snapshot stop list names unknown order ${id}`);
      instrument.stops.push(order);
    }
    engine.instruments.set(row.spec.instrumentId, instrument);
  }
  return engine;
}
