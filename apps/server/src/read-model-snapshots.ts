/**
 * Read-model snapshots: the gateway's read models (orders, market data) saved
 * together with the engine state they follow, so that a restart restores them
 * and replays only the journal after them instead of the whole journal.
 *
 * The read models follow the engine a little behind it (an applied command's
 * events reach them once the command is durable), so a read-model snapshot
 * cannot pair with the engine as it is when the snapshot is written. It pairs
 * with a shard snapshot instead: the shard hands over the bytes of each
 * snapshot it takes (engine state after command `seq`); when the read models
 * reach `seq`, their state is captured and saved with those bytes. At start-up
 * the engine is restored from them to compute the events of the commands after
 * `seq` for the read models.
 *
 * A snapshot is taken when the shard's periodic snapshot is at least
 * `readModelSnapshotEvery` commands after the previous one, and on a clean stop.
 * Capturing is synchronous (between two commands); encoding the orders (the
 * bulk) runs in slices between other work, and saving in the background. Files live in a SnapshotStore (checksummed, written to a temp
 * file, synced and renamed); the state bytes are:
 *
 *   offset  size  field
 *   0       8     magic    ASCII "TSREADMD"
 *   8       4     version  u32, currently 1
 *   12      8     day      f64, when the current trading day began (UTC µs; 0 before the first end of day)
 *   20      4×3   lengths  u32 each: the shard snapshot, the orders snapshot, the market-data snapshot
 *   32      …     the three parts, in that order
 *
 * A snapshot that cannot be used — unreadable, of another version, ahead of the
 * journal, or past what the ledger has settled (the ledger catches up from the
 * same replay) — is ignored with a warning, and the read models are rebuilt from
 * the start of the journal as before.
 */
import { MarketDataProjection } from "@tradestream/marketdata";
import { OrdersProjection } from "@tradestream/orders";
import type { JournalLogger, SnapshotStore } from "@tradestream/journal";
import { readShardSnapshot, runInSlices, type SliceTiming } from "@tradestream/shard";
import type { Engine } from "@tradestream/engine";

export const readModelSnapshotVersion = 1;
/** Commands between two read-model snapshots at least (each is taken with a shard snapshot). */
export const readModelSnapshotEveryDefault = 1_000_000;

const magic = new TextEncoder().encode("TSREADMD");
const headerBytes = 32;

/** What a read-model snapshot holds. */
export interface ReadModelParts {
  /** The shard snapshot the read models follow (the engine after the same command). */
  readonly shard: Uint8Array;
  readonly orders: Uint8Array;
  readonly market: Uint8Array;
  readonly dayStartUs: number;
}

export function encodeReadModels(parts: ReadModelParts): Uint8Array {
  const bytes = new Uint8Array(headerBytes + parts.shard.length + parts.orders.length + parts.market.length);
  const view = new DataView(bytes.buffer);
  bytes.set(magic, 0);
  view.setUint32(8, readModelSnapshotVersion, true);
  view.setFloat64(12, parts.dayStartUs, true);
  view.setUint32(20, parts.shard.length, true);
  view.setUint32(24, parts.orders.length, true);
  view.setUint32(28, parts.market.length, true);
  let at = headerBytes;
  for (const part of [parts.shard, parts.orders, parts.market]) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The parts of a read-model snapshot; throws an Error naming what is wrong with bytes that are not one of this version. */
export function decodeReadModels(bytes: Uint8Array): ReadModelParts {
  if (bytes.length < headerBytes || magic.some((byte, i) => bytes[i] !== byte)) throw new Error("not a read-model snapshot");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== readModelSnapshotVersion) throw new Error(`read-model snapshot version ${String(version)} is not supported (this release reads ${String(readModelSnapshotVersion)})`);
  const dayStartUs = view.getFloat64(12, true);
  if (!Number.isSafeInteger(dayStartUs) || dayStartUs < 0) throw new Error("read-model snapshot has an invalid day start");
  const lengths = [view.getUint32(20, true), view.getUint32(24, true), view.getUint32(28, true)] as const;
  if (headerBytes + lengths[0] + lengths[1] + lengths[2] !== bytes.length) throw new Error("read-model snapshot is truncated or has trailing bytes");
  const shardEnd = headerBytes + lengths[0];
  const ordersEnd = shardEnd + lengths[1];
  return { shard: bytes.subarray(headerBytes, shardEnd), orders: bytes.subarray(shardEnd, ordersEnd), market: bytes.subarray(ordersEnd), dayStartUs };
}

/** Read models restored from a snapshot, and the engine to replay the journal's tail with. */
export interface RestoredReadModels {
  /** The last command the read models (and the engine) have applied. */
  readonly seq: number;
  readonly engine: Engine;
  readonly orders: OrdersProjection;
  readonly market: MarketDataProjection;
  readonly dayStartUs: number;
}

export interface LoadOptions {
  /** The journal's last durable command: a snapshot past it is ignored (the journal was restored or cut). */
  readonly logSeq: number;
  /** The last event the ledger has settled: it catches up from the replay, so a snapshot past it is ignored. */
  readonly ledgerOffset: number;
  readonly logger: JournalLogger;
}

/** How every warning about an unusable snapshot ends. */
const rebuilding = "; rebuilding the read models from the start of the journal";

/** The newest usable read-model snapshot, restored; null when there is none (rebuild from the start). */
export async function loadReadModels(store: SnapshotStore, options: LoadOptions): Promise<RestoredReadModels | null> {
  const { logger } = options;
  let saved: { seq: number; state: Uint8Array } | null;
  try {
    saved = await store.loadLatest();
  } catch (error) {
    logger.warn(`read-model snapshots unreadable${rebuilding}`, { error: String(error) });
    return null;
  }
  if (saved === null) return null;
  if (saved.seq > options.logSeq) {
    logger.warn(`read-model snapshot is ahead of the journal${rebuilding}`, { snapshotSeq: saved.seq, logSeq: options.logSeq });
    return null;
  }
  try {
    const parts = decodeReadModels(saved.state);
    const shard = readShardSnapshot(parts.shard, { logger });
    if (shard === null) return null;
    if (shard.seq !== saved.seq) throw new Error(`its engine state follows command ${String(shard.seq)}, not ${String(saved.seq)}`);
    if (shard.engine.eventSeq > options.ledgerOffset) {
      logger.warn(`the ledger has not settled everything the read-model snapshot covers${rebuilding}`, { snapshotSeq: saved.seq, snapshotEventSeq: shard.engine.eventSeq, ledgerOffset: options.ledgerOffset });
      return null;
    }
    const orders = OrdersProjection.restore(parts.orders);
    const market = MarketDataProjection.restore(parts.market);
    if (orders.lastEventSeq !== shard.engine.eventSeq || market.lastEventSeq !== shard.engine.eventSeq) {
      throw new Error(`its read models end at events ${String(orders.lastEventSeq)} and ${String(market.lastEventSeq)}, its engine at ${String(shard.engine.eventSeq)}`);
    }
    return { seq: saved.seq, engine: shard.engine, orders, market, dayStartUs: parts.dayStartUs };
  } catch (error) {
    logger.warn(`read-model snapshot unusable${rebuilding}`, { snapshotSeq: saved.seq, error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/** What the read models hold at one command: the orders' state captured and encoded in steps (see `OrdersProjection.snapshotSteps`). */
export interface ReadModelCapture {
  readonly orders: Generator<void, Uint8Array, void>;
  readonly market: Uint8Array;
  readonly dayStartUs: number;
}

export interface CheckpointOptions {
  readonly store: SnapshotStore;
  /** Commands between two snapshots at least (a clean stop takes one regardless). */
  readonly every: number;
  /** The command of the newest snapshot on disk (0 for none). */
  readonly lastSeq: number;
  /** The read models' state now, when they have applied exactly the commands up to the shard snapshot's. */
  readonly capture: () => ReadModelCapture;
  readonly logger: JournalLogger;
}

/**
 * Pairs shard snapshots with the read models: `shardSnapshot` from the shard's
 * `onSnapshot`, `reached` after the read models applied a command. At most one
 * snapshot waits for the read models; a newer shard snapshot replaces it. The
 * state is taken at once at that command (the pause the gateway's thread takes:
 * the market data encoded, the orders' accounts and client-order-id values
 * copied, a few milliseconds); the orders and fills are gathered and encoded in
 * slices between other work while commands go on (the projection keeps what they
 * replace for the snapshot), and the file is written in the background.
 */
export class ReadModelCheckpoints {
  private waiting: { readonly seq: number; readonly shard: Promise<Uint8Array | null> } | null = null;
  private lastSeq: number;
  private readModelSeq = 0;
  private forced = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: CheckpointOptions) {
    this.lastSeq = options.lastSeq;
  }

  /** The next shard snapshot is taken regardless of `every` (a clean stop). */
  force(): void {
    this.forced = true;
  }

  /** The shard took a snapshot after command `seq` (its bytes once the shard has written them; null if that failed). */
  shardSnapshot(seq: number, shard: Promise<Uint8Array | null>): void {
    if (!this.forced && seq - this.lastSeq < this.options.every) return;
    this.forced = false;
    this.waiting = { seq, shard };
    if (this.readModelSeq >= seq) this.reached(this.readModelSeq);
  }

  /** The read models have applied every command up to `seq`. */
  reached(seq: number): void {
    this.readModelSeq = seq;
    const waiting = this.waiting;
    if (waiting === null || waiting.seq !== seq) return;
    this.waiting = null;
    this.lastSeq = seq;
    const { store, logger } = this.options;
    const started = performance.now();
    let capture: ReadModelCapture;
    try {
      capture = this.options.capture();
    } catch (error) {
      // A snapshot only speeds up the next start: losing one must not stop the live path it runs on.
      logger.error("read-model snapshot failed", { seq, error: String(error) });
      return;
    }
    const captureMs = Math.round(performance.now() - started);
    this.saving = this.saving
      .then(async () => {
        const shard = await waiting.shard;
        if (shard === null) throw new Error("the shard snapshot it pairs with could not be written");
        const encodeStarted = performance.now();
        const timing: SliceTiming = { longestSliceMs: 0, slices: 0 };
        const bytes = encodeReadModels({ shard, orders: await runInSlices(capture.orders, undefined, timing), market: capture.market, dayStartUs: capture.dayStartUs });
        const encodeMs = Math.round(performance.now() - encodeStarted);
        await store.save(seq, bytes);
        logger.info("read-model snapshot written", { seq, bytes: bytes.length, captureMs, encodeMs, longestSliceMs: Math.round(timing.longestSliceMs * 10) / 10, slices: timing.slices });
      })
      .catch((error: unknown) => logger.error("read-model snapshot failed", { seq, error: String(error) }));
  }

  /** Resolves once every snapshot captured so far is saved (or has failed and been logged). */
  drained(): Promise<void> {
    return this.saving;
  }
}
