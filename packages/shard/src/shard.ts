/**
 * A shard: sequencer + command log + engine. `submit` stamps a command with the
 * time, appends it to the log and applies it to the engine at once, but its
 * events are released (to the caller and to subscribers) only after the log
 * reports the command durable — durable before acknowledged. If the process dies
 * first, the command and its unreleased events vanish together, and a restart
 * replays exactly what was acknowledged.
 *
 * Start-up loads the newest valid snapshot and replays the log's tail. A
 * snapshot is written only once every command it covers is durable, so it can
 * never get ahead of the log. The event-stream hash is a running hash over
 * every event in order (see event-hash.ts) whose value is its whole state, so it
 * can be stored in a snapshot and continued after a restart; the state hash is
 * SHA-256 of the canonical engine snapshot.
 */
import { createHash } from "node:crypto";
import { CommandEncoder, type Command, type EngineEvent } from "@tradestream/contracts";
import { Engine, captureSnapshot, encodeSnapshot, restoreEngineFrom, snapshotVersion, type EngineOptions, type EngineSnapshot } from "@tradestream/engine";
import { JournalBacklogFullError, type CommandLog, type JournalLogger, type SnapshotStore } from "@tradestream/journal";
import { SystemClock, type Clock } from "./clock.ts";
import { EventStreamHash } from "./event-hash.ts";
import { Replayer } from "./replayer.ts";
import { runInSlices, type SliceTiming } from "./slices.ts";

/** A command as a client submits it: the sequencer adds the timestamp. */
export type CommandInput = Command extends infer C ? (C extends Command ? Omit<C, "tsUs"> : never) : never;

export interface Applied {
  /** The command's position in the log. */
  readonly seq: number;
  readonly command: Command;
  readonly events: readonly EngineEvent[];
  /** The event-stream hash after this command. */
  readonly eventHash: string;
}

/** An applied command; the event-stream hash's text is made only when read (most never are). */
class AppliedCommand implements Applied {
  constructor(
    readonly seq: number,
    readonly command: Command,
    readonly events: readonly EngineEvent[],
    private readonly lane1: number,
    private readonly lane2: number,
  ) {}

  get eventHash(): string {
    return EventStreamHash.valueOf(this.lane1, this.lane2);
  }
}

export interface ShardOptions {
  readonly log: CommandLog;
  readonly snapshots?: SnapshotStore;
  /** Take a snapshot after every this many commands (0 = only on demand). */
  readonly snapshotEvery?: number;
  readonly clock?: Clock;
  readonly logger?: JournalLogger;
  readonly engine?: EngineOptions;
  /**
   * Told of every snapshot the shard takes, as it takes it: the command the state follows
   * and the snapshot's bytes (which `readShardSnapshot` reads), which are written in slices
   * after the call (the promise never rejects: null if writing them failed, which is logged).
   * Called on the sequencer's thread right after command `seq`, before it is durable; the
   * bytes are the caller's to keep.
   */
  readonly onSnapshot?: (seq: number, bytes: Promise<Uint8Array | null>) => void;
  /** How a snapshot's client order ids are written after its capture: ids per step, and steps per turn of the event loop by time. */
  readonly snapshotSlices?: { readonly idsPerStep: number; readonly sliceMs: number };
}

export const snapshotEveryDefault = 100_000;
/** Commands applied but not yet durable; past this, submit refuses (back-pressure). */
export const inFlightCommandsMax = 200_000;

export class ShardOverloadedError extends Error {
  override readonly name = "ShardOverloadedError";
}

interface ShardSnapshot {
  readonly seq: number;
  readonly eventHash: string;
  readonly lastTsUs: number;
  /** The engine's snapshot JSON in place; earlier releases wrote it as one string (of a version 1 snapshot). */
  readonly engine: EngineSnapshot | string;
}

/**
 * A shard snapshot's bytes: its fields, then the engine's snapshot bytes as they are (not
 * decoded and escaped into a string: with a day of client order ids that copy alone held
 * the sequencer's thread for tens of milliseconds).
 */
function* shardSnapshotSteps(head: Omit<ShardSnapshot, "engine">, engineSteps: Generator<void, Uint8Array[], void>): Generator<void, Uint8Array, void> {
  const engine = yield* engineSteps;
  const before = new TextEncoder().encode(`{"seq":${JSON.stringify(head.seq)},"eventHash":${JSON.stringify(head.eventHash)},"lastTsUs":${JSON.stringify(head.lastTsUs)},"engine":`);
  let length = before.length + 1;
  for (const chunk of engine) length += chunk.length;
  const bytes = new Uint8Array(length);
  bytes.set(before, 0);
  let at = before.length;
  let inStep = 0;
  for (const chunk of engine) {
    // Megabytes when clients send UUIDs: copied a step at a time too.
    if (inStep >= joinBytesPerStep) {
      yield;
      inStep = 0;
    }
    bytes.set(chunk, at);
    at += chunk.length;
    inStep += chunk.length;
  }
  bytes[at] = 0x7d; // }
  return bytes;
}

/** Bytes of a snapshot copied into place per step. */
const joinBytesPerStep = 1 << 20;

/** A shard's state as a snapshot holds it. */
export interface ShardState {
  /** The last command applied. */
  readonly seq: number;
  readonly eventHash: string;
  readonly lastTsUs: number;
  readonly engine: Engine;
}

/**
 * The state in a shard snapshot's bytes, or null (with a warning) for a snapshot of an
 * earlier scheme, which a replay from the start must replace.
 */
export function readShardSnapshot(bytes: Uint8Array, options: { readonly engine?: EngineOptions; readonly logger?: JournalLogger } = {}): ShardState | null {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as ShardSnapshot;
  if (parsed.eventHash.length !== EventStreamHash.zero.length) {
    // Written before the current event-stream hash: replay once from the start so that the
    // hash is the one a replay from zero (`tradestream verify`) computes; later snapshots carry it.
    options.logger?.warn("snapshot has an event-stream hash of an earlier scheme; ignoring it and replaying from the start", { snapshotSeq: parsed.seq });
    return null;
  }
  if (typeof parsed.engine === "string" || parsed.engine.version !== snapshotVersion) {
    // An earlier engine snapshot (earlier releases wrote it as one string) lists client order ids
    // one by one, not in the order (and with the run) the engine keeps them: the restored state
    // would answer the same but could hash differently from a replay from zero. Replay once; the
    // snapshots after that are current. The string is not parsed: its version is known.
    options.logger?.warn("snapshot has an earlier engine snapshot version; ignoring it and replaying from the start", { snapshotSeq: parsed.seq, current: snapshotVersion });
    return null;
  }
  return { seq: parsed.seq, eventHash: parsed.eventHash, lastTsUs: parsed.lastTsUs, engine: restoreEngineFrom(parsed.engine, options.engine) };
}

interface Pending {
  readonly applied: Applied;
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: unknown) => void;
}

export class Shard {
  private readonly encoder = new CommandEncoder();
  /** Applied commands waiting for the log, oldest first from `pendingHead`; released slots are emptied at once. */
  private readonly pending: Array<Pending | undefined> = [];
  private pendingHead = 0;
  private readonly listeners = new Set<(applied: Applied) => void>();
  private lastTsUs: number;
  private readonly eventStream: EventStreamHash;
  private appliedSeq: number;
  private failure: unknown = null;
  private snapshotting: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  private constructor(
    private engineValue: Engine,
    private readonly options: ShardOptions & { readonly clock: Clock; readonly snapshotEvery: number },
    start: { seq: number; eventHash: string; lastTsUs: number },
  ) {
    this.appliedSeq = start.seq;
    this.eventStream = EventStreamHash.fromValue(start.eventHash);
    this.lastTsUs = start.lastTsUs;
    this.unsubscribe = options.log.onDurable((durableSeq) => this.release(durableSeq));
  }

  /** Opens a shard on a log: newest valid snapshot, then the tail of the log. */
  static async open(options: ShardOptions): Promise<Shard> {
    const full = { ...options, clock: options.clock ?? new SystemClock(), snapshotEvery: options.snapshotEvery ?? snapshotEveryDefault };
    let engine = new Engine(options.engine);
    let start = { seq: 0, eventHash: EventStreamHash.zero, lastTsUs: 0 };
    const saved = await options.snapshots?.loadLatest();
    if (saved !== null && saved !== undefined) {
      if (saved.seq > options.log.durableSeq) {
        options.logger?.warn("snapshot is ahead of the log; ignoring it and replaying from the start", { snapshotSeq: saved.seq, logSeq: options.log.durableSeq });
      } else {
        const restored = readShardSnapshot(saved.state, options);
        if (restored !== null) {
          engine = restored.engine;
          start = { seq: restored.seq, eventHash: restored.eventHash, lastTsUs: restored.lastTsUs };
        }
      }
    }
    const shard = new Shard(engine, full, start);
    const replayed = await shard.replayTail();
    options.logger?.info("shard ready", { snapshotSeq: start.seq, replayedCommands: replayed, seq: shard.appliedSeq });
    return shard;
  }

  private async replayTail(): Promise<number> {
    const from = this.appliedSeq;
    const replayer = new Replayer(this.engineValue, this.eventStream, from, this.lastTsUs);
    await this.options.log.replay(from + 1, (seq, record) => replayer.push(seq, record));
    replayer.flush();
    this.appliedSeq = replayer.seq;
    this.lastTsUs = replayer.lastTsUs;
    return replayer.seq - from;
  }

  /** The command log the shard writes to. */
  get log(): CommandLog {
    return this.options.log;
  }

  /** The engine, for reads (book, balances). Never mutate it directly. */
  get engine(): Engine {
    return this.engineValue;
  }

  /** The last command applied (acknowledged or not yet durable). */
  get seq(): number {
    return this.appliedSeq;
  }

  /** The time stamped on the last command applied (µs; 0 before the first). */
  get lastCommandTsUs(): number {
    return this.lastTsUs;
  }

  get durableSeq(): number {
    return this.options.log.durableSeq;
  }

  /** Applied commands waiting for durability. */
  get inFlight(): number {
    return this.pending.length - this.pendingHead;
  }

  get eventHash(): string {
    return this.eventStream.value;
  }

  stateHash(): string {
    return createHash("sha256").update(encodeSnapshot(this.engineValue)).digest("hex");
  }

  /** Subscribes to applied commands and their events, released in log order once durable. */
  subscribe(listener: (applied: Applied) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Sequences, journals and applies a command; resolves with its events once it is
   * durable. Throws CodecError for a command that cannot be encoded (nothing is
   * journaled or applied), ShardOverloadedError under back-pressure.
   */
  submit(input: CommandInput): Promise<Applied> {
    if (this.failure !== null) return Promise.reject(this.failure instanceof Error ? this.failure : new Error("the command log failed"));
    if (this.inFlight >= inFlightCommandsMax) return Promise.reject(new ShardOverloadedError("too many commands waiting for the journal"));
    const now = this.options.clock.nowUs();
    this.lastTsUs = now > this.lastTsUs ? now : this.lastTsUs;
    const command = { ...input, tsUs: this.lastTsUs } as Command;
    const record = this.encoder.encodeView(command);
    let seq: number;
    try {
      seq = this.options.log.append(record);
    } catch (error) {
      // The journal's backlog is full: refuse the command (nothing was applied) and let the caller retry.
      if (error instanceof JournalBacklogFullError) return Promise.reject(new ShardOverloadedError("the journal is behind; retry shortly"));
      throw error;
    }
    if (seq !== this.appliedSeq + 1) throw new Error(`log assigned seq ${seq} after ${this.appliedSeq}`);
    const events = this.engineValue.apply(command);
    const stream = this.eventStream;
    stream.add(events, events.length);
    this.appliedSeq = seq;
    const applied: Applied = new AppliedCommand(seq, command, events, stream.lane1, stream.lane2);
    const promise = new Promise<Applied>((resolve, reject) => this.pending.push({ applied, resolve, reject }));
    if (this.inFlight === 1) this.watchForFailure(seq);
    if (this.options.snapshotEvery > 0 && seq % this.options.snapshotEvery === 0) void this.snapshotAt(seq);
    if (this.options.log.durableSeq >= seq) this.release(this.options.log.durableSeq);
    return promise;
  }

  private release(durableSeq: number): void {
    while (this.pendingHead < this.pending.length) {
      const next = this.pending[this.pendingHead];
      if (next === undefined || next.applied.seq > durableSeq) break;
      // Drop the reference now: a released command and its events kept here until the array
      // was next compacted outlived the young generation (copied, promoted, marked for nothing).
      this.pending[this.pendingHead] = undefined;
      this.pendingHead += 1;
      for (const listener of this.listeners) listener(next.applied);
      next.resolve(next.applied);
    }
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    } else if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    const head = this.pending[this.pendingHead];
    if (head !== undefined) this.watchForFailure(head.applied.seq);
  }

  /**
   * One watcher per in-flight batch: if the log fails (an I/O error) the
   * oldest waiting command's promise rejects, and the shard fails every waiter.
   */
  private watchForFailure(seq: number): void {
    this.options.log.waitDurable(seq).catch((error: unknown) => {
      this.options.logger?.error("command log failed; the shard stops accepting commands", { error: String(error) });
      this.fail(error);
    });
  }

  /**
   * Captures the state now, writes its bytes in slices (a day of client order ids can be
   * megabytes: written at once they held every command up for 50–100 ms), and stores them
   * once the log has made command `seq` durable.
   */
  private snapshotAt(seq: number): Promise<void> {
    const store = this.options.snapshots;
    if (store === undefined) return Promise.resolve();
    const head = { seq, eventHash: this.eventStream.value, lastTsUs: this.lastTsUs };
    const slices = this.options.snapshotSlices;
    const started = performance.now();
    const steps = shardSnapshotSteps(head, captureSnapshot(this.engineValue, slices?.idsPerStep));
    const captureMs = performance.now() - started;
    const timing: SliceTiming = { longestSliceMs: 0, slices: 0 };
    const written = runInSlices(steps, slices?.sliceMs, timing);
    this.options.onSnapshot?.(
      seq,
      written.catch(() => null),
    );
    this.snapshotting = this.snapshotting
      .then(() => written)
      .then(async (bytes) => {
        await this.options.log.waitDurable(seq);
        await store.save(seq, bytes);
        // The pauses it cost every command: the capture, then the longest slice of the writing.
        const ms = (value: number): number => Math.round(value * 10) / 10;
        this.options.logger?.info("engine snapshot written", { seq, bytes: bytes.length, captureMs: ms(captureMs), longestSliceMs: ms(timing.longestSliceMs), slices: timing.slices });
      })
      .catch((error: unknown) => this.options.logger?.error("snapshot failed", { seq, error: String(error) }));
    return this.snapshotting;
  }

  /** Takes a snapshot of the current state (on demand); resolves when it is stored. */
  snapshot(): Promise<void> {
    return this.snapshotAt(this.appliedSeq);
  }

  /** Waits for in-flight commands and snapshots, then closes the log. */
  async close(): Promise<void> {
    if (this.appliedSeq > 0) await this.options.log.waitDurable(this.appliedSeq).catch(() => undefined);
    await this.snapshotting;
    this.unsubscribe();
    await this.options.log.close();
  }

  /** Marks the shard failed (log I/O error): every waiting and future submit rejects. Crash-only. */
  fail(error: unknown): void {
    this.failure = error;
    for (let i = this.pendingHead; i < this.pending.length; i += 1) this.pending[i]?.reject(error);
    this.pending.length = 0;
    this.pendingHead = 0;
  }
}

/** Replays a whole log from the first command into a fresh engine: the reference for restart checks. */
export async function replayFromZero(log: CommandLog, engineOptions?: EngineOptions): Promise<{ seq: number; stateHash: string; eventHash: string; engine: Engine }> {
  const engine = new Engine(engineOptions);
  const events = new EventStreamHash();
  const replayer = new Replayer(engine, events, 0, 0);
  await log.replay(1, (seq, record) => replayer.push(seq, record));
  replayer.flush();
  return { seq: replayer.seq, eventHash: events.value, engine, stateHash: createHash("sha256").update(encodeSnapshot(engine)).digest("hex") };
}
