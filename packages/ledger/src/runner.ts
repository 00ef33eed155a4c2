/**
 * Keeps the projection running beside the engine without ever slowing it down.
 * `push` only appends the events to a bounded in-memory buffer and returns; one loop
 * commits them in batches through the projector. When the database is unreachable
 * the loop retries the same batch with exponential back-off (50 ms doubling to 5 s)
 * while the buffer keeps filling; when it returns, the loop catches up.
 *
 * Bounded: past `bufferEventsMax` the runner stops buffering and remembers only the
 * newest seq; once the buffer has drained it reads the missed events from `source`
 * (the event log) until it has caught up. Without a source an overflow stops the
 * runner: the platform restarts it, and the projector resumes from its offset.
 * A gap, a divergence from the engine or an integrity error is not retried either
 * (crash-only: the smallest scope stops and restarts through normal start-up).
 */
import type { EngineEvent } from "@tradestream/contracts";
import { InvariantError } from "@tradestream/kernel";
import { projectorBatchEventsMax, runnerBackoffMsInitial, runnerBackoffMsMax, runnerBufferEventsMaxDefault } from "./limits.ts";
import type { LedgerLogger } from "./logger.ts";
import { LedgerDivergenceError, LedgerGapError, LedgerOffsetConflictError, type LedgerProjector } from "./projector.ts";

export interface RunnerOptions {
  readonly bufferEventsMax?: number;
  readonly batchEventsMax?: number;
  /**
   * After a commit, wait until this many ms have passed since it started (or a full batch
   * is buffered) before the next one, so that under a steady flow each transaction's fixed
   * cost is shared by more events. 0 (the default) commits as soon as anything is buffered.
   */
  readonly batchIntervalMs?: number;
  readonly backoffMsInitial?: number;
  readonly backoffMsMax?: number;
  /** The ledger's logger unless given. */
  readonly logger?: LedgerLogger;
  /** Reads up to `maxEvents` events from `fromSeq` on (the event log), to catch up after an overflow or a gap. */
  readonly source?: (fromSeq: number, maxEvents: number) => Promise<readonly EngineEvent[]>;
  /** Called after each committed batch with the new offset. */
  readonly onCommitted?: (offset: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type RunnerPush = "buffered" | "overflow" | "stopped";

export interface RunnerState {
  readonly offset: number;
  readonly bufferedEvents: number;
  /** Consecutive failed attempts of the current batch. */
  readonly failures: number;
  readonly lastError: string | null;
  /** The newest seq seen while the buffer was full (null when not overflowed). */
  readonly overflowedUpTo: number | null;
  /** Why the runner stopped for good, or null while it runs. */
  readonly stopped: string | null;
}

export class ProjectionRunner {
  readonly #projector: LedgerProjector;
  readonly #options: RunnerOptions;
  readonly #bufferEventsMax: number;
  readonly #batchEventsMax: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: LedgerLogger;
  /** Pushed arrays not yet committed, oldest first; the head may be partly committed (`#headIndex`). */
  readonly #chunks: (readonly EngineEvent[])[] = [];
  #headIndex = 0;
  #buffered = 0;
  #failures = 0;
  #lastError: string | null = null;
  #overflowedUpTo: number | null = null;
  #stopped: string | null = null;
  #closing = false;
  #wake: (() => void) | null = null;
  /** Ends the pause between commits early (a full batch is buffered, an overflow, a close). */
  #wakeFull: (() => void) | null = null;
  #idleWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly #loop: Promise<void>;

  constructor(projector: LedgerProjector, options: RunnerOptions = {}) {
    this.#projector = projector;
    this.#options = options;
    this.#bufferEventsMax = options.bufferEventsMax ?? runnerBufferEventsMaxDefault;
    this.#batchEventsMax = Math.min(options.batchEventsMax ?? projectorBatchEventsMax, projectorBatchEventsMax);
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#logger = options.logger ?? projector.ledger.logger;
    this.#loop = this.#run();
  }

  /** Hands events to the projection without waiting; never blocks the engine. */
  push(events: readonly EngineEvent[]): RunnerPush {
    if (this.#stopped !== null || this.#closing) return "stopped";
    if (events.length === 0) return "buffered";
    const last = (events[events.length - 1] as EngineEvent).seq;
    if (this.#overflowedUpTo !== null || this.#buffered + events.length > this.#bufferEventsMax) {
      if (this.#overflowedUpTo === null) this.#logger.warn("ledger projection buffer full: reading from the event log once drained", { bufferEventsMax: this.#bufferEventsMax, seq: last });
      this.#overflowedUpTo = Math.max(this.#overflowedUpTo ?? 0, last);
      this.#signal();
      this.#signalFull();
      return "overflow";
    }
    this.#chunks.push(events);
    this.#buffered += events.length;
    this.#signal();
    if (this.#buffered >= this.#batchEventsMax) this.#signalFull();
    return "buffered";
  }

  get state(): RunnerState {
    return {
      offset: this.#projector.offset,
      bufferedEvents: this.#buffered,
      failures: this.#failures,
      lastError: this.#lastError,
      overflowedUpTo: this.#overflowedUpTo,
      stopped: this.#stopped,
    };
  }

  /** Resolves once everything pushed so far is committed; rejects if the runner stopped for good. */
  drained(): Promise<void> {
    if (this.#stopped !== null) return Promise.reject(new Error(`The ledger projection stopped: ${this.#stopped}`));
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
  }

  /** Stops after the batch in flight; events still buffered are redelivered from the log on restart. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#signal();
    this.#signalFull();
    await this.#loop;
  }

  #isIdle(): boolean {
    return this.#buffered === 0 && this.#overflowedUpTo === null;
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #signalFull(): void {
    const wake = this.#wakeFull;
    this.#wakeFull = null;
    wake?.();
  }

  /** The pause between commits: `ms`, or until `#signalFull`. */
  #gather(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeFull = null;
        resolve();
      }, ms);
      this.#wakeFull = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    let backoffMs = this.#options.backoffMsInitial ?? runnerBackoffMsInitial;
    while (!this.#closing && this.#stopped === null) {
      const batch = this.#next();
      if (batch === null) {
        this.#settleIdle();
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      const startedMs = performance.now();
      try {
        const events = batch.fromSource ? await this.#read() : batch.events;
        await this.#projector.apply(events);
        if (!batch.fromSource) this.#drop(events.length);
        else if (this.#projector.offset >= (this.#overflowedUpTo ?? 0)) this.#endOverflow();
        else if (events.length === 0) throw new Error(`the event log has nothing after ${this.#projector.offset} yet`);
        if (this.#failures > 0) this.#logger.info("ledger projection resumed", { offset: this.#projector.offset, failures: this.#failures });
        this.#failures = 0;
        this.#lastError = null;
        backoffMs = this.#options.backoffMsInitial ?? runnerBackoffMsInitial;
        this.#options.onCommitted?.(this.#projector.offset);
        const pauseMs = (this.#options.batchIntervalMs ?? 0) - (performance.now() - startedMs);
        if (pauseMs > 0 && this.#buffered < this.#batchEventsMax && this.#overflowedUpTo === null && !this.#closing) await this.#gather(pauseMs);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof LedgerGapError && this.#options.source !== undefined) {
          // Events went missing between the engine and us: fetch them from the log.
          this.#overflowedUpTo = Math.max(this.#overflowedUpTo ?? 0, error.receivedSeq);
          this.#dropThrough(error.receivedSeq);
          continue;
        }
        if (isFatal(error)) {
          this.#stop(message);
          return;
        }
        this.#failures += 1;
        this.#lastError = message;
        if (this.#failures === 1 || this.#failures % 10 === 0) {
          this.#logger.warn("ledger projection failed; retrying", { failures: this.#failures, backoffMs, error: message, buffered: this.#buffered });
        }
        await this.#sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.#options.backoffMsMax ?? runnerBackoffMsMax);
      }
    }
  }

  /** The next batch: buffered events first; after an overflow, the log. */
  #next(): { readonly fromSource: false; readonly events: readonly EngineEvent[] } | { readonly fromSource: true } | null {
    if (this.#buffered > 0) {
      const events: EngineEvent[] = [];
      let chunkIndex = 0;
      let index = this.#headIndex;
      while (events.length < this.#batchEventsMax && chunkIndex < this.#chunks.length) {
        const chunk = this.#chunks[chunkIndex] as readonly EngineEvent[];
        const take = Math.min(chunk.length - index, this.#batchEventsMax - events.length);
        for (let i = 0; i < take; i += 1) events.push(chunk[index + i] as EngineEvent);
        index += take;
        if (index === chunk.length) {
          chunkIndex += 1;
          index = 0;
        }
      }
      return { fromSource: false, events };
    }
    if (this.#overflowedUpTo !== null) {
      if (this.#options.source === undefined) {
        this.#stop(`the buffer of ${this.#bufferEventsMax} events overflowed and no event source is configured; restart from the ledger's offset`);
        return null;
      }
      return { fromSource: true };
    }
    return null;
  }

  async #read(): Promise<readonly EngineEvent[]> {
    const source = this.#options.source;
    if (source === undefined) return [];
    return source(this.#projector.offset + 1, this.#batchEventsMax);
  }

  #endOverflow(): void {
    this.#overflowedUpTo = null;
    this.#logger.info("ledger projection caught up from the event log", { offset: this.#projector.offset });
  }

  /**
   * Forgets the first `count` buffered events (committed). The chunks used up leave in
   * one `splice`: a batch spans thousands of small chunks (one per command), and
   * shifting them off one at a time moved the rest of the array each time.
   */
  #drop(count: number): void {
    let left = count;
    let chunksDone = 0;
    while (left > 0) {
      const head = this.#chunks[chunksDone];
      if (head === undefined) break;
      const available = head.length - this.#headIndex;
      if (left >= available) {
        chunksDone += 1;
        this.#headIndex = 0;
        left -= available;
        this.#buffered -= available;
      } else {
        this.#headIndex += left;
        this.#buffered -= left;
        left = 0;
      }
    }
    if (chunksDone > 0) this.#chunks.splice(0, chunksDone);
  }

  /** Forgets buffered events up to and including `seq` (they will be read from the log). */
  #dropThrough(seq: number): void {
    let count = 0;
    let chunkIndex = 0;
    let index = this.#headIndex;
    for (;;) {
      const chunk = this.#chunks[chunkIndex];
      if (chunk === undefined) break;
      const event = chunk[index];
      if (event === undefined) {
        chunkIndex += 1;
        index = 0;
        continue;
      }
      if (event.seq > seq) break;
      count += 1;
      index += 1;
    }
    this.#drop(count);
  }

  #settleIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #stop(reason: string): void {
    this.#stopped = reason;
    this.#logger.error("ledger projection stopped", { reason, offset: this.#projector.offset });
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error(`The ledger projection stopped: ${reason}`));
  }
}

/** Errors that retrying cannot fix: broken invariants and integrity violations. */
function isFatal(error: unknown): boolean {
  if (error instanceof InvariantError || error instanceof LedgerDivergenceError || error instanceof LedgerGapError || error instanceof LedgerOffsetConflictError) return true;
  if (error instanceof RangeError || error instanceof TypeError) return true;
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  // SQLSTATE class 23 (integrity constraint violation) and P0 (raised by the ledger's triggers).
  return typeof code === "string" && (code.startsWith("23") || code.startsWith("P0"));
}
