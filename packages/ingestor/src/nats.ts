/**
 * NATS adapters. `NatsFeed` reads records from a subject (wildcards allowed) —
 * as a JetStream ordered consumer of a stream when `stream` is given
 * (replayable; after a reconnect it resumes after the last message it saw, so
 * nothing is lost or repeated), else a core subscription. Its records are raw
 * (for the normalizer) or, with `format: "normalized"`, the ticks another
 * ingestor's `NatsBus` published (for the tick reader; `deliver:
 * "last_per_subject"` starts from each instrument's latest tick instead of the
 * whole stream). A message holds one record or a JSON array of them.
 *
 * `NatsBus` publishes the normalized ticks to `marketdata.<symbol>`: with
 * JetStream, publishes are pipelined (up to `inFlightMax` awaiting their acks)
 * from a bounded buffer, in order, so `publish` never blocks the ingestor;
 * past `bufferMax` a tick is dropped and counted as failed rather than letting
 * memory grow. With `batchMax` > 1, the ticks of one subject published in the
 * same turn of the event loop go out as one message holding a JSON array of up
 * to `batchMax` ticks — the turn is the only wait, so batching adds no timer
 * delay, and under load the batches grow instead of the queue.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { encodeTick, marketDataSubject, type MarketDataBus } from "./bus.ts";
import type { Feed, FeedFormat, FeedSink, FeedState, FeedStatus, IngestorLogger, NormalizedTick } from "./types.ts";

export const natsUrlDefault = "nats://127.0.0.1:4222";

const decoder = new TextDecoder();

function parse(data: Uint8Array): unknown {
  const text = decoder.decode(data);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url.split(",").map((server) => server.trim()), name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
}

export interface NatsFeedOptions {
  readonly url?: string | undefined;
  readonly subject: string;
  /** Read through this JetStream stream (created if missing, capturing `subject`); else a core subscription. */
  readonly stream?: string | undefined;
  /** Where a JetStream reader starts: the whole stream (default) or each subject's latest message. */
  readonly deliver?: "all" | "last_per_subject" | undefined;
  /** Raw records (default) or normalized ticks published by another ingestor. */
  readonly format?: FeedFormat | undefined;
  readonly source?: string | undefined;
  readonly logger?: IngestorLogger | undefined;
}

/** Messages a JetStream reader asks for at a time. */
export const natsFeedPullMax = 10_000;

export class NatsFeed implements Feed {
  readonly source: string;
  readonly format: FeedFormat;
  private connection: NatsConnection | null = null;
  private subscription: Subscription | null = null;
  private stopConsumer: (() => void) | null = null;
  private state: FeedState = "idle";
  private messages = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  private loops: Array<Promise<void>> = [];

  constructor(private readonly options: NatsFeedOptions) {
    this.source = options.source ?? `nats:${options.subject}`;
    this.format = options.format ?? "raw";
  }

  async start(sink: FeedSink): Promise<void> {
    this.state = "connecting";
    const nc = await connectNats(this.options.url ?? natsUrlDefault, "tradestream-ingestor-feed");
    this.connection = nc;
    this.loops.push(this.watch(nc));
    const stream = this.options.stream;
    if (stream === undefined) {
      const subscription = nc.subscribe(this.options.subject);
      this.subscription = subscription;
      this.loops.push(
        (async () => {
          for await (const message of subscription) this.deliver(sink, message.data);
        })(),
      );
      // A round trip to the server: once it answers, it has the subscription, so whatever is
      // published after start() resolves reaches this feed (core NATS keeps nothing for later).
      await nc.flush();
    } else {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.info(stream).catch(() => jsm.streams.add({ name: stream, subjects: [this.options.subject] }));
      // An ordered consumer of `subject` (one filter subject works on nats-server 2.9; several would need 2.10).
      const deliverPolicy = this.options.deliver === "last_per_subject" ? DeliverPolicy.LastPerSubject : DeliverPolicy.All;
      const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: this.options.subject, deliver_policy: deliverPolicy });
      const messages = await consumer.consume({ max_messages: natsFeedPullMax });
      this.stopConsumer = () => void messages.close();
      this.loops.push(
        (async () => {
          for await (const message of messages) this.deliver(sink, message.data);
        })(),
      );
    }
    this.state = "connected";
  }

  /** One message: a record, or an array of records (a batch). */
  private deliver(sink: FeedSink, data: Uint8Array): void {
    const raw = parse(data);
    if (Array.isArray(raw)) {
      this.messages += raw.length;
      for (const record of raw) sink.record(record);
      return;
    }
    this.messages += 1;
    sink.record(raw);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") this.state = "reconnecting";
      if (status.type === "reconnect") {
        this.reconnects += 1;
        this.state = "connected";
      }
      if (status.type === "error") this.lastError = String(status.error);
    }
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.stopConsumer?.();
    await this.connection?.drain().catch(() => undefined);
    this.connection = null;
    await Promise.allSettled(this.loops);
    this.state = "stopped";
  }

  status(): FeedStatus {
    return { source: this.source, state: this.state, reconnects: this.reconnects, messages: this.messages, lastError: this.lastError };
  }
}

export interface NatsBusOptions {
  readonly url?: string | undefined;
  /** Publish through JetStream into this stream (created if missing, capturing `<prefix>.>`); else core NATS. */
  readonly stream?: string | undefined;
  readonly subjectPrefix?: string | undefined;
  readonly inFlightMax?: number | undefined;
  readonly bufferMax?: number | undefined;
  readonly logger?: IngestorLogger | undefined;
  /** Ticks per message (default 1: one message per tick). */
  readonly batchMax?: number | undefined;
}

export const natsInFlightMaxDefault = 4_096;
/** Most ticks in one message: about 200 KB of JSON, well inside NATS's default 1 MB payload limit. */
export const natsBatchTicksMax = 1_000;
export const natsBufferMaxDefault = 200_000;

const encoder = new TextEncoder();

export class NatsBus implements MarketDataBus {
  readonly name: string;
  private readonly buffer: Array<{ subject: string; data: Uint8Array; ticks: number }> = [];
  private inFlight = 0;
  private count = 0;
  private failures = 0;
  private waiters: Array<() => void> = [];
  private failureLogged = false;
  /**
   * Ticks waiting for the end of this turn to be batched, by subject. They are
   * kept as objects and written with one `JSON.stringify` per message: one flat
   * string per batch instead of one per tick, so less for the collector.
   */
  private pending = new Map<string, NormalizedTick[]>();
  private pendingCount = 0;
  private batchTimer: NodeJS.Immediate | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient | null,
    private readonly options: NatsBusOptions,
  ) {
    this.name = js === null ? "nats" : "nats-jetstream";
  }

  static async open(options: NatsBusOptions = {}): Promise<NatsBus> {
    const batchMax = options.batchMax ?? 1;
    if (!Number.isSafeInteger(batchMax) || batchMax < 1 || batchMax > natsBatchTicksMax) throw new RangeError(`batchMax must be an integer from 1 to ${String(natsBatchTicksMax)}, got ${String(batchMax)}`);
    const nc = await connectNats(options.url ?? natsUrlDefault, "tradestream-ingestor-bus");
    if (options.stream === undefined) return new NatsBus(nc, null, options);
    const jsm = await jetstreamManager(nc);
    const prefix = options.subjectPrefix ?? "marketdata";
    await jsm.streams.info(options.stream).catch(() => jsm.streams.add({ name: options.stream ?? "MARKETDATA", subjects: [`${prefix}.>`], max_age: 3_600 * 1e9 }));
    return new NatsBus(nc, jetstream(nc), options);
  }

  get connection(): NatsConnection {
    return this.nc;
  }

  publish(tick: NormalizedTick): void {
    const subject = marketDataSubject(tick.symbol, this.options.subjectPrefix);
    if ((this.options.batchMax ?? 1) > 1) {
      this.batch(subject, tick);
      return;
    }
    this.enqueue(subject, encoder.encode(encodeTick(tick)), 1);
  }

  private batch(subject: string, tick: NormalizedTick): void {
    if (this.buffer.length + this.pendingCount >= (this.options.bufferMax ?? natsBufferMaxDefault)) {
      this.fail(new Error("publish buffer full"));
      return;
    }
    let list = this.pending.get(subject);
    if (list === undefined) this.pending.set(subject, (list = []));
    list.push(tick);
    this.pendingCount += 1;
    if (this.batchTimer === null) this.batchTimer = setImmediate(() => this.sendBatches());
  }

  private sendBatches(): void {
    if (this.batchTimer !== null) clearImmediate(this.batchTimer);
    this.batchTimer = null;
    const pending = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    const max = this.options.batchMax ?? 1;
    for (const [subject, ticks] of pending) {
      for (let from = 0; from < ticks.length; from += max) {
        const chunk = from === 0 && ticks.length <= max ? ticks : ticks.slice(from, from + max);
        this.enqueue(subject, encoder.encode(JSON.stringify(chunk)), chunk.length);
      }
    }
  }

  private enqueue(subject: string, data: Uint8Array, ticks: number): void {
    if (this.js === null) {
      try {
        this.nc.publish(subject, data);
        this.count += ticks;
      } catch (error) {
        this.fail(error, ticks);
      }
      return;
    }
    if (this.buffer.length >= (this.options.bufferMax ?? natsBufferMaxDefault)) {
      this.fail(new Error("publish buffer full"), ticks);
      return;
    }
    this.buffer.push({ subject, data, ticks });
    this.pump();
  }

  private pump(): void {
    const js = this.js;
    if (js === null) return;
    const max = this.options.inFlightMax ?? natsInFlightMaxDefault;
    while (this.inFlight < max && this.buffer.length > 0) {
      const next = this.buffer.shift();
      if (next === undefined) break;
      this.inFlight += 1;
      js.publish(next.subject, next.data).then(
        () => {
          this.count += next.ticks;
          this.settled();
        },
        (error: unknown) => {
          this.fail(error, next.ticks);
          this.settled();
        },
      );
    }
  }

  private settled(): void {
    this.inFlight -= 1;
    this.pump();
    if (this.inFlight === 0 && this.buffer.length === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private fail(error: unknown, ticks = 1): void {
    this.failures += ticks;
    if (!this.failureLogged) {
      this.failureLogged = true;
      this.options.logger?.warn("publishing market data to NATS failed (logged once; see the failed count)", { error: String(error) });
    }
  }

  get published(): number {
    return this.count;
  }

  get failed(): number {
    return this.failures;
  }

  async flush(): Promise<void> {
    if (this.batchTimer !== null) this.sendBatches();
    if (this.js === null) {
      await this.nc.flush();
      return;
    }
    if (this.inFlight === 0 && this.buffer.length === 0) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
  }
}
