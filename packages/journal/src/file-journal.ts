// The file journal: the embedded, durable CommandLog. Records are framed (see
// framing.ts) into segment files named by their first seq, and made durable by group
// commit.
//
// Group commit and pipelining: `append` only encodes the record into the active
// in-memory batch and, when the log is idle, schedules a flush with setImmediate, so
// everything appended in the same tick lands in one batch. A flush writes one batch
// with one positional write (looping only on a short write) and one fdatasync; only
// then does `durableSeq` advance, listeners fire and waiters resolve. At most one
// batch is in flight; appends made meanwhile accumulate and go out, together, as soon
// as it completes. A batch is also cut at `groupCommitRecordsMax` records or
// `groupCommitBytesMax` bytes and at a segment boundary, so one batch always lives in
// one segment.
//
// Why the write is synchronous and only the fdatasync is not: the write is a copy
// into the page cache (tens of microseconds for a typical batch, bounded by
// `groupCommitBytesMax`, and the kernel has at most one batch of dirty pages to
// throttle on because every batch is synced), while every asynchronous step costs a
// trip through the event loop, which a busy producer delays by a whole turn. The same
// reasoning makes rollover synchronous (close, create), with the directory fsync
// that makes the new file's name durable running in parallel with the batch's own
// fdatasync; the batch is durable once both have completed.
//
// Crash-only: any I/O error fails the log for good. Pending and future waits reject,
// appends throw, and the process is expected to restart through recovery. fsync
// errors in particular cannot be retried (the kernel may already have dropped the
// dirty pages), so nothing after `durableSeq` is ever reported durable.
//
// Invariants: durableSeq <= lastSeq; batches are written in seq order and each
// starts where the previous durable byte of its segment ends; a new segment's
// directory entry is fsync'd before any record in it is reported durable.

import fs from "node:fs";
import { join, resolve } from "node:path";
import type { CommandLog, JournalLogger } from "./command-log.ts";
import { DurabilityTracker } from "./durability.ts";
import { JournalBacklogFullError, JournalClosedError, JournalCorruptError, JournalFailedError } from "./errors.ts";
import { closeFd, openFd, segmentFileName } from "./files.ts";
import { encodeFrame, frameBytesMax, recordBytesMax, recordHeaderBytes } from "./framing.ts";
import { stderrJsonLogger } from "./logger.ts";
import { recoverJournal, type SegmentState } from "./recovery.ts";
import { readSegmentFrames } from "./segment-reader.ts";

const mebibyte = 1_048_576;

/** Default size at which a segment is rolled over (64 MiB). */
export const segmentBytesMaxDefault = 64 * mebibyte;
/** Smallest allowed `segmentBytesMax`: a segment must hold the largest record. */
export const segmentBytesMaxFloor = frameBytesMax;
/** Largest allowed `segmentBytesMax` (1 GiB): recovery and replay read a segment into memory whole. */
export const segmentBytesMaxCeiling = 1024 * mebibyte;
/** Most records written by one write + fdatasync; bounds the latency a single flush adds. */
export const groupCommitRecordsMax = 65_536;
/** Most bytes written by one write + fdatasync (8 MiB); always holds at least one largest frame. */
export const groupCommitBytesMax = 8 * mebibyte;
/** Default cap on bytes appended but not yet durable (256 MiB); past it append refuses. */
export const backlogBytesMaxDefault = 256 * mebibyte;
/** Smallest allowed `backlogBytesMax`: the largest record must be acceptable. */
export const backlogBytesMaxFloor = frameBytesMax;
/** Largest allowed `backlogBytesMax` (4 GiB). */
export const backlogBytesMaxCeiling = 4096 * mebibyte;

const batchBytesInitial = 256 * 1024;
const spareBatchesMax = 2;

/**
 * The I/O calls on the write path, injectable so tests can delay or fail them. The
 * defaults are `fs.writeSync`, `fs.fdatasync` and `fs.fsync` (used on the directory).
 */
export interface JournalIo {
  /** Writes into the page cache; returns the bytes written and throws on error. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
}

const nodeIo: JournalIo = {
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  fdatasync: (fd, callback) => fs.fdatasync(fd, callback),
  fsync: (fd, callback) => fs.fsync(fd, callback),
};

/** Counters since open. Latencies are in microseconds. */
export interface JournalStats {
  /** Batches made durable; each took exactly one fdatasync. */
  readonly batches: number;
  /** fdatasync calls completed on segment files. */
  readonly fsyncs: number;
  /** fsync calls on the journal directory (new segments). */
  readonly directoryFsyncs: number;
  /** Records made durable. */
  readonly records: number;
  /** Bytes (frames) made durable. */
  readonly bytes: number;
  /** Segment files created by rollover. */
  readonly segmentsCreated: number;
  readonly fsyncLatencyUsLast: number;
  readonly fsyncLatencyUsMax: number;
  readonly fsyncLatencyUsTotal: number;
}

type MutableStats = { -readonly [K in keyof JournalStats]: JournalStats[K] };

export interface FileJournalOptions {
  readonly dir: string;
  /** Roll over to a new segment before one would exceed this many bytes. */
  readonly segmentBytesMax?: number;
  /** Refuse appends while more than this many bytes are buffered and not yet durable. */
  readonly backlogBytesMax?: number;
  readonly logger?: JournalLogger;
  readonly io?: JournalIo;
}

export type FileJournal = CommandLog & { readonly stats: JournalStats };

/**
 * Directories with an open journal in this process. Two writers on one journal would
 * interleave their frames, so a second open is refused until the first is closed or
 * has failed. (Another process is not detected; see the package README.)
 */
const openDirs = new Set<string>();

/** Opens (creating or recovering) the journal in `options.dir`. */
export async function openFileJournal(options: FileJournalOptions): Promise<FileJournal> {
  const segmentBytesMax = options.segmentBytesMax ?? segmentBytesMaxDefault;
  assertIntegerIn("segmentBytesMax", segmentBytesMax, segmentBytesMaxFloor, segmentBytesMaxCeiling);
  const backlogBytesMax = options.backlogBytesMax ?? backlogBytesMaxDefault;
  assertIntegerIn("backlogBytesMax", backlogBytesMax, backlogBytesMaxFloor, backlogBytesMaxCeiling);
  const logger = options.logger ?? stderrJsonLogger;
  const dir = resolve(options.dir);
  if (openDirs.has(dir)) throw new Error(`a journal is already open in ${dir} in this process`);
  openDirs.add(dir);
  try {
    const recovered = await recoverJournal({ dir, logger });
    const tail = recovered.segments.at(-1);
    if (tail === undefined) throw new Error("recovery returned no segment");
    const fd = await openFd(tail.path, "r+");
    let dirFd: number;
    try {
      dirFd = await openFd(dir, "r");
    } catch (error: unknown) {
      await closeFd(fd);
      throw error;
    }
    logger.info("journal opened", { dir, segments: recovered.segments.length, lastSeq: recovered.lastSeq });
    return new FileCommandLog({
      dir,
      segments: recovered.segments,
      lastSeq: recovered.lastSeq,
      fd,
      dirFd,
      segmentBytesMax,
      backlogBytesMax,
      logger,
      io: options.io ?? nodeIo,
    });
  } catch (error: unknown) {
    openDirs.delete(dir);
    throw error;
  }
}

function assertIntegerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${String(min)}..${String(max)}, got ${String(value)}`);
  }
}

/** Records appended together, encoded back to back exactly as they will lie on disk. */
class Batch {
  buffer: Uint8Array;
  bytes = 0;
  records = 0;
  firstSeq = 0;
  lastSeq = 0;
  /** The batch's first record starts a new segment file. */
  opensSegment = false;

  constructor() {
    this.buffer = new Uint8Array(batchBytesInitial);
  }

  ensureCapacity(bytes: number): void {
    if (bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.min(groupCommitBytesMax, Math.max(bytes, this.buffer.length * 2)));
    grown.set(this.buffer.subarray(0, this.bytes));
    this.buffer = grown;
  }

  reset(): void {
    this.bytes = 0;
    this.records = 0;
    this.firstSeq = 0;
    this.lastSeq = 0;
    this.opensSegment = false;
  }
}

type LogState = "open" | "closing" | "closed" | "failed";

class FileCommandLog implements FileJournal {
  readonly stats: MutableStats = {
    batches: 0,
    fsyncs: 0,
    directoryFsyncs: 0,
    records: 0,
    bytes: 0,
    segmentsCreated: 0,
    fsyncLatencyUsLast: 0,
    fsyncLatencyUsMax: 0,
    fsyncLatencyUsTotal: 0,
  };

  private state: LogState = "open";
  private appendedSeq: number;
  private readonly tracker: DurabilityTracker;
  private readonly dir: string;
  private readonly segments: SegmentState[];
  private readonly segmentBytesMax: number;
  private readonly backlogBytesMax: number;
  private readonly logger: JournalLogger;
  private readonly io: JournalIo;
  private fd: number;
  /** The journal directory, kept open so a rollover's directory fsync is one call. */
  private dirFd: number;

  private active = new Batch();
  /** Batches cut before they could be flushed, oldest first. */
  private readonly sealed: Batch[] = [];
  private readonly spares: Batch[] = [];
  private inFlight: Batch | null = null;
  /** fsyncs the in-flight batch still waits for (its fdatasync, plus the directory's on rollover). */
  private syncsPending = 0;
  private syncStartedMs = 0;
  private flushScheduled = false;
  /** Bytes the tail segment will hold once everything buffered is written. */
  private tailBytes: number;
  /** The next record appended must start a new segment. */
  private rollPending = false;
  /** Bytes appended and not yet durable. */
  private backlogBytes = 0;
  private closing: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | null = null;

  constructor(options: {
    dir: string;
    segments: SegmentState[];
    lastSeq: number;
    fd: number;
    dirFd: number;
    segmentBytesMax: number;
    backlogBytesMax: number;
    logger: JournalLogger;
    io: JournalIo;
  }) {
    this.dir = options.dir;
    this.segments = options.segments;
    this.appendedSeq = options.lastSeq;
    this.fd = options.fd;
    this.dirFd = options.dirFd;
    this.segmentBytesMax = options.segmentBytesMax;
    this.backlogBytesMax = options.backlogBytesMax;
    this.logger = options.logger;
    this.io = options.io;
    this.tracker = new DurabilityTracker({ durableSeq: options.lastSeq, logger: options.logger });
    this.tailBytes = this.tailSegment().bytes;
  }

  get lastSeq(): number {
    return this.appendedSeq;
  }

  get durableSeq(): number {
    return this.tracker.durableSeq;
  }

  append(record: Uint8Array): number {
    if (this.state !== "open") throw this.tracker.terminalError ?? new JournalClosedError();
    const length = record.length;
    if (length < 1 || length > recordBytesMax) {
      throw new RangeError(`record length must be in 1..${String(recordBytesMax)}, got ${String(length)}`);
    }
    const frame = recordHeaderBytes + length;
    if (this.backlogBytes + frame > this.backlogBytesMax) throw new JournalBacklogFullError(this.backlogBytes);
    if (this.tailBytes + frame > this.segmentBytesMax) {
      this.sealActive();
      this.rollPending = true;
      this.tailBytes = 0;
    } else if (this.active.records >= groupCommitRecordsMax || this.active.bytes + frame > groupCommitBytesMax) {
      this.sealActive();
    }
    const batch = this.active;
    const seq = this.appendedSeq + 1;
    if (batch.records === 0) {
      batch.firstSeq = seq;
      batch.opensSegment = this.rollPending;
      this.rollPending = false;
    }
    batch.ensureCapacity(batch.bytes + frame);
    batch.bytes = encodeFrame(batch.buffer, batch.bytes, seq, record);
    batch.records++;
    batch.lastSeq = seq;
    this.appendedSeq = seq;
    this.tailBytes += frame;
    this.backlogBytes += frame;
    if (!this.flushScheduled && this.inFlight === null) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
    return seq;
  }

  waitDurable(seq: number): Promise<void> {
    const terminal = this.tracker.terminalError;
    if (terminal !== null) return Promise.reject(terminal);
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.appendedSeq) {
      return Promise.reject(new RangeError(`waitDurable(${String(seq)}): seq must be an integer in 0..lastSeq (${String(this.appendedSeq)})`));
    }
    return this.tracker.wait(seq);
  }

  onDurable(listener: (durableSeq: number) => void): () => void {
    return this.tracker.subscribe(listener);
  }

  async replay(fromSeq: number, onRecord: (seq: number, record: Uint8Array) => void): Promise<number> {
    const terminal = this.tracker.terminalError;
    if (terminal !== null) throw terminal;
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new RangeError(`replay fromSeq must be an integer >= 1, got ${String(fromSeq)}`);
    // Only what is durable now is replayed; records made durable meanwhile are the
    // caller's to fetch with another replay.
    const untilSeq = this.tracker.durableSeq;
    if (fromSeq > untilSeq) return fromSeq - 1;
    let lastDelivered = fromSeq - 1;
    const deliver = (seq: number, bytes: Uint8Array, start: number, end: number): void => {
      if (seq < fromSeq) return;
      onRecord(seq, bytes.subarray(start, end));
      lastDelivered = seq;
    };
    for (let index = this.segmentIndexFor(fromSeq); index < this.segments.length; index++) {
      const segment = this.segments[index];
      if (segment === undefined || segment.firstSeq > untilSeq) break;
      // `bytes` only ever covers durable frames, so a concurrent write is never read.
      await readSegmentFrames({ path: segment.path, length: segment.bytes, firstSeq: segment.firstSeq, untilSeq, onFrame: deliver });
    }
    if (lastDelivered !== untilSeq) {
      const tail = this.tailSegment();
      throw new JournalCorruptError({ file: tail.path, offset: tail.bytes, reason: `replay ended at seq ${String(lastDelivered)}, expected ${String(untilSeq)}` });
    }
    return lastDelivered;
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing.promise;
    let resolve: () => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const promise = new Promise<void>((resolvePromise, rejectPromise) => {
      resolve = resolvePromise;
      reject = rejectPromise;
    });
    this.closing = { promise, resolve, reject };
    const terminal = this.tracker.terminalError;
    if (this.state === "failed" && terminal !== null) {
      reject(terminal);
      return promise;
    }
    this.state = "closing";
    this.flush();
    return promise;
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Starts writing the next batch unless one is in flight; finishes a close once nothing is left. */
  private flush(): void {
    if (this.inFlight !== null || this.state === "failed" || this.state === "closed") return;
    const batch = this.takeNextBatch();
    if (batch === null) {
      if (this.state === "closing") this.finishClose();
      return;
    }
    this.inFlight = batch;
    this.syncsPending = 1;
    try {
      if (batch.opensSegment) this.rollSegment(batch.firstSeq);
      this.writeBatch(batch);
    } catch (error: unknown) {
      this.fail(batch.opensSegment ? "rollover" : "write", error);
      return;
    }
    this.syncStartedMs = performance.now();
    this.io.fdatasync(this.fd, this.onDataSynced);
  }

  private takeNextBatch(): Batch | null {
    const sealed = this.sealed.shift();
    if (sealed !== undefined) return sealed;
    if (this.active.records === 0) return null;
    const batch = this.active;
    this.active = this.spares.pop() ?? new Batch();
    return batch;
  }

  private sealActive(): void {
    if (this.active.records === 0) return;
    this.sealed.push(this.active);
    this.active = this.spares.pop() ?? new Batch();
  }

  /** Closes the full tail segment and creates the next; its directory fsync joins the batch's syncs. */
  private rollSegment(firstSeq: number): void {
    const path = join(this.dir, segmentFileName(firstSeq));
    // Every batch of the previous segment is durable: only one batch is ever in flight.
    const previousFd = this.fd;
    this.fd = -1;
    fs.closeSync(previousFd);
    this.fd = fs.openSync(path, "wx");
    this.segments.push({ firstSeq, path, bytes: 0 });
    this.stats.segmentsCreated++;
    this.syncsPending++;
    this.io.fsync(this.dirFd, this.onDirectorySynced);
    this.logger.info("journal segment created", { file: path, firstSeq });
  }

  private writeBatch(batch: Batch): void {
    const position = this.tailSegment().bytes;
    let written = 0;
    while (written < batch.bytes) {
      const bytesWritten = this.io.writeSync(this.fd, batch.buffer, written, batch.bytes - written, position + written);
      if (bytesWritten <= 0) throw new Error("write made no progress");
      written += bytesWritten;
    }
  }

  private readonly onDataSynced = (error: NodeJS.ErrnoException | null): void => {
    if (this.inFlight === null || this.state === "failed") return;
    if (error !== null) return this.fail("fdatasync", error);
    const latencyUs = (performance.now() - this.syncStartedMs) * 1000;
    const stats = this.stats;
    stats.fsyncs++;
    stats.fsyncLatencyUsLast = latencyUs;
    stats.fsyncLatencyUsTotal += latencyUs;
    if (latencyUs > stats.fsyncLatencyUsMax) stats.fsyncLatencyUsMax = latencyUs;
    this.syncCompleted();
  };

  private readonly onDirectorySynced = (error: NodeJS.ErrnoException | null): void => {
    if (this.inFlight === null || this.state === "failed") return;
    if (error !== null) return this.fail("directory fsync", error);
    this.stats.directoryFsyncs++;
    this.syncCompleted();
  };

  private syncCompleted(): void {
    const batch = this.inFlight;
    if (batch === null) throw new Error("sync completed with no batch in flight");
    this.syncsPending--;
    if (this.syncsPending > 0) return;
    const stats = this.stats;
    stats.batches++;
    stats.records += batch.records;
    stats.bytes += batch.bytes;
    this.tailSegment().bytes += batch.bytes;
    this.backlogBytes -= batch.bytes;
    const durableSeq = batch.lastSeq;
    this.inFlight = null;
    batch.reset();
    if (this.spares.length < spareBatchesMax) this.spares.push(batch);
    // Start the next write before telling anyone, so the disk is never idle while
    // listeners run; a close completes only after the final advance.
    const more = this.sealed.length > 0 || this.active.records > 0;
    if (more) this.flush();
    this.tracker.advance(durableSeq);
    if (!more && this.state === "closing") this.flush();
  }

  private finishClose(): void {
    if (this.state !== "closing") return;
    this.state = "closed";
    openDirs.delete(this.dir);
    this.tracker.stop(new JournalClosedError());
    const fd = this.fd;
    const dirFd = this.dirFd;
    this.fd = -1;
    this.dirFd = -1;
    Promise.all([closeFd(fd), closeFd(dirFd)]).then(
      () => this.closing?.resolve(),
      (error: unknown) => this.closing?.reject(new JournalFailedError("journal close failed", { cause: error })),
    );
  }

  private fail(operation: string, cause: unknown): void {
    if (this.state === "failed") return;
    this.state = "failed";
    openDirs.delete(this.dir);
    const error = new JournalFailedError(`journal ${operation} failed; the log has stopped`, { cause });
    this.logger.error("journal failed", { operation, error: String(cause), lastSeq: this.appendedSeq, durableSeq: this.tracker.durableSeq });
    this.tracker.stop(error);
    this.inFlight = null;
    this.sealed.length = 0;
    this.active.reset();
    // The descriptors are released on a best-effort basis; the log is already dead.
    for (const fd of [this.fd, this.dirFd]) if (fd >= 0) fs.close(fd, () => undefined);
    this.fd = -1;
    this.dirFd = -1;
    this.closing?.reject(error);
  }

  private tailSegment(): SegmentState {
    const tail = this.segments.at(-1);
    if (tail === undefined) throw new Error("journal has no segment");
    return tail;
  }

  /** Index of the segment holding `seq` (the last one whose first seq is <= seq). */
  private segmentIndexFor(seq: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      const segment = this.segments[middle];
      if (segment !== undefined && segment.firstSeq <= seq) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
