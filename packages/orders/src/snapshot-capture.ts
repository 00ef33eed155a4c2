/**
 * A snapshot of the orders projection gathered in slices. Taking it costs the
 * gateway's thread only what is small (the accounts, the ids below the orders'
 * window, the client-order-id maps' values, a view of the fills' ring); the half
 * million orders are read afterwards, a few thousand per step, while commands
 * keep changing the projection, and the million fills are read from the ring's
 * buffers when the snapshot is encoded (the ring writes elsewhere rather than over
 * a slot the view reads, until it is released).
 *
 * The snapshot must still be the state at the moment it was taken. Records are
 * immutable, so what can change under it is which record an id names: the
 * projection tells the capture before it replaces an order's record
 * (`saveOrder`, on every update) or drops an order (eviction), and the capture
 * keeps the first record it is told of. Orders created later have higher ids
 * than any it reads. The finished-order
 * queue is only appended to (its compaction makes a new array), so the range it
 * had is read later as it was.
 *
 * The projection stops telling the capture once gathering is done, finishes a
 * capture still gathering when a new one is taken, and after
 * `captureCommandsMax` commands, so a caller that never finishes its steps
 * costs a bounded amount of memory.
 */
import { assert } from "@tradestream/kernel";
import type { OrdersState } from "./snapshot.ts";
import type { FillView } from "./fill-ring.ts";
import type { OrderRecord } from "./types.ts";

/** Records read per step by default: a step takes a few milliseconds at most. */
export const captureRecordsPerStepDefault = 16_384;

/** Where the projection's state was when the capture was taken: the small parts of the state as they were, and where to read the rest. */
export interface CapturePoint extends Pick<OrdersState, "lastSeq" | "nextFillSeq" | "oldestFillSeq" | "accounts" | "killedFirms"> {
  /** The kept fills, read from the ring's buffers as they were (the ring writes elsewhere until the view is released). */
  readonly fills: FillView;
  /** How many orders the projection held. */
  readonly orderCount: number;
  /** Order ids kept below the orders' window, ascending. */
  readonly belowIds: readonly number[];
  /** The orders' window: ids from `windowFrom` up to (not including) `windowTo`; some are gaps. */
  readonly windowFrom: number;
  readonly windowTo: number;
  /** The finished-order queue and the range of it that was kept. */
  readonly finishedQueue: readonly number[];
  readonly finishedFrom: number;
  readonly finishedTo: number;
  /** Each account's client-order-id map values, in the map's order, account after account. */
  readonly clientOrderIdParts: ReadonlyArray<readonly number[]>;
}

/** How the capture reads the projection's current records. */
export interface CaptureSources {
  order(orderId: number): OrderRecord | undefined;
}

export class SnapshotCapture {
  /** Commands the projection applied since the capture was taken. */
  commands = 0;
  /** The highest order id the capture reads; orders accepted later are not in it. */
  readonly maxOrderId: number;
  private readonly savedOrders = new Map<number, OrderRecord>();
  private readonly gathering: Generator<void, OrdersState, void>;
  private state: OrdersState | null = null;

  constructor(
    private readonly sources: CaptureSources,
    private readonly point: CapturePoint,
    private readonly recordsPerStep = captureRecordsPerStepDefault,
  ) {
    this.maxOrderId = Math.max(point.windowTo - 1, point.belowIds[point.belowIds.length - 1] ?? 0);
    this.gathering = this.gather();
  }

  /** The order's record is about to change or go: keeps it, if it is the first change the capture sees. */
  saveOrder(orderId: number, record: OrderRecord | undefined): void {
    if (record === undefined || orderId > this.maxOrderId || this.state !== null || this.savedOrders.has(orderId)) return;
    this.savedOrders.set(orderId, record);
  }

  /** The fills the snapshot holds (released once it is encoded). */
  get fills(): FillView {
    return this.point.fills;
  }

  /** Gathers up to a few thousand records; true once everything is gathered. */
  step(): boolean {
    if (this.state !== null) return true;
    const step = this.gathering.next();
    if (step.done !== true) return false;
    this.settle(step.value);
    return true;
  }

  /** The state at the capture's moment, gathering whatever is left now. */
  finish(): OrdersState {
    while (!this.step());
    assert(this.state !== null, "a finished capture holds its state");
    return this.state;
  }

  private settle(state: OrdersState): void {
    this.state = state;
    this.savedOrders.clear();
  }

  private *gather(): Generator<void, OrdersState, void> {
    const { point, sources, savedOrders, recordsPerStep } = this;
    let read = 0;
    // Sized up front: growing arrays this long copies them several times over.
    const orders = new Array<OrderRecord>(point.orderCount);
    let kept = 0;
    const orderAt = (orderId: number): OrderRecord | undefined => (savedOrders.size === 0 ? undefined : savedOrders.get(orderId)) ?? sources.order(orderId);
    for (const orderId of point.belowIds) {
      const record = orderAt(orderId);
      assert(record !== undefined && kept < orders.length, `order ${String(orderId)} left the projection while a snapshot was gathered`);
      orders[kept++] = record;
      if (++read % recordsPerStep === 0) yield;
    }
    for (let orderId = point.windowFrom; orderId < point.windowTo; orderId += 1) {
      // A gap in the window (an order dropped before the capture) stays a gap: ids are never reused.
      const record = orderAt(orderId);
      if (record !== undefined) {
        assert(kept < orders.length, "more orders than the projection held when the snapshot was taken");
        orders[kept++] = record;
      }
      if (++read % recordsPerStep === 0) yield;
    }
    assert(kept === orders.length, `${String(kept)} orders gathered, the projection held ${String(orders.length)}`);
    // The fills are read where the ring keeps them, when the snapshot is encoded: nothing to gather.
    const fills = point.fills;
    assert(fills.length === point.nextFillSeq - point.oldestFillSeq && (fills.length === 0 || fills.first === point.oldestFillSeq), "the fills' view is not the capture's");
    const finished = point.finishedQueue.slice(point.finishedFrom, point.finishedTo);
    const clientOrderIdEntries: number[] = [];
    for (const part of point.clientOrderIdParts) {
      for (const orderId of part) {
        clientOrderIdEntries.push(orderId);
        if (++read % recordsPerStep === 0) yield;
      }
    }
    return {
      lastSeq: point.lastSeq,
      nextFillSeq: point.nextFillSeq,
      oldestFillSeq: point.oldestFillSeq,
      accounts: point.accounts,
      killedFirms: point.killedFirms,
      orders,
      finished,
      clientOrderIdEntries,
      fills,
    };
  }
}
