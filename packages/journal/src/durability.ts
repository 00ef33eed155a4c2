// Durability bookkeeping shared by every CommandLog implementation: the durable
// watermark, the `onDurable` listeners and the `waitDurable` promises.
//
// Invariants: `durableSeq` only grows; a waiter resolves exactly when the watermark
// reaches its seq, or rejects once when the log fails or closes; listeners see every
// advance, in order, each with a strictly greater seq than the last. Waiters sit in a
// binary min-heap on seq, so resolving a batch costs O(k log n) for k ready waiters
// whatever order they were registered in.

import type { JournalLogger } from "./command-log.ts";

type DurableListener = (durableSeq: number) => void;

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class DurabilityTracker {
  private watermark: number;
  // Copy-on-write: (un)subscribing replaces the array, so an advance in progress keeps
  // iterating the listeners that were registered when it started.
  private listeners: readonly DurableListener[] = [];
  private readonly waiters: Waiter[] = [];
  private terminal: Error | null = null;
  private readonly logger: JournalLogger;

  constructor(options: { durableSeq: number; logger: JournalLogger }) {
    this.watermark = options.durableSeq;
    this.logger = options.logger;
  }

  get durableSeq(): number {
    return this.watermark;
  }

  /** The error every wait now rejects with, or null while the log is usable. */
  get terminalError(): Error | null {
    return this.terminal;
  }

  /** Resolves once `seq` is durable; the caller has already checked the seq is in range. */
  wait(seq: number): Promise<void> {
    if (this.terminal !== null) return Promise.reject(this.terminal);
    if (seq <= this.watermark) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.push({ seq, resolve, reject });
    });
  }

  subscribe(listener: DurableListener): () => void {
    this.listeners = [...this.listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.listeners = this.listeners.filter((candidate) => candidate !== listener);
    };
  }

  /** Moves the watermark to `seq`, then tells listeners and waiters. */
  advance(seq: number): void {
    if (this.terminal !== null) throw new Error("durability advanced after the log stopped");
    if (!(seq > this.watermark)) throw new Error(`durable seq must grow: ${String(this.watermark)} -> ${String(seq)}`);
    this.watermark = seq;
    for (const listener of this.listeners) {
      try {
        listener(seq);
      } catch (error: unknown) {
        // A throwing listener is a bug in the caller; it must not stop the others from
        // hearing about durability, nor leave waiters hanging.
        this.logger.error("onDurable listener threw", { durableSeq: seq, error: String(error) });
      }
    }
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      if (head === undefined || head.seq > seq) break;
      this.pop();
      head.resolve();
    }
  }

  /** Stops the tracker: pending and future waits reject with `error`; listeners hear nothing more. */
  stop(error: Error): void {
    if (this.terminal !== null) return;
    this.terminal = error;
    this.listeners = [];
    const pending = this.waiters.splice(0);
    for (const waiter of pending) waiter.reject(error);
  }

  private push(waiter: Waiter): void {
    const heap = this.waiters;
    heap.push(waiter);
    let index = heap.length - 1;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent === undefined || parent.seq <= waiter.seq) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = waiter;
  }

  private pop(): void {
    const heap = this.waiters;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let index = 0;
    const size = heap.length;
    while (true) {
      const leftIndex = 2 * index + 1;
      if (leftIndex >= size) break;
      const rightIndex = leftIndex + 1;
      const left = heap[leftIndex];
      const right = heap[rightIndex];
      if (left === undefined) break;
      const child = right !== undefined && right.seq < left.seq ? right : left;
      const childIndex = child === left ? leftIndex : rightIndex;
      if (child.seq >= last.seq) break;
      heap[index] = child;
      index = childIndex;
    }
    heap[index] = last;
  }
}
