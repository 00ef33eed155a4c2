/**
 * Kafka / Redpanda adapters (kafkajs). `KafkaFeed` reads records from one or
 * more topics in a consumer group: raw records, or (`format: "normalized"`)
 * the ticks another ingestor's `KafkaBus` published; `KafkaBus` publishes normalized ticks to the topic
 * `marketdata.<symbol>` (key: the symbol, so one instrument stays in order on
 * one partition), batched: ticks collect in a bounded buffer and go out in one
 * `sendBatch` per turn of the event loop.
 */
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import { encodeTick, marketDataSubject, type MarketDataBus } from "./bus.ts";
import type { Feed, FeedFormat, FeedSink, FeedState, FeedStatus, IngestorLogger, NormalizedTick } from "./types.ts";

function kafkaClient(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, retries: 8 } });
}

export interface KafkaFeedOptions {
  readonly brokers: readonly string[];
  /** One topic, or several (e.g. `marketdata.<symbol>` for every instrument). */
  readonly topic: string | readonly string[];
  readonly groupId?: string | undefined;
  /** Raw records (default) or normalized ticks published by another ingestor. */
  readonly format?: FeedFormat | undefined;
  /** Read the topic from its beginning when the group has no committed offset (default true). */
  readonly fromBeginning?: boolean | undefined;
  readonly source?: string | undefined;
  readonly logger?: IngestorLogger | undefined;
}

export class KafkaFeed implements Feed {
  readonly source: string;
  readonly format: FeedFormat;
  private consumer: Consumer | null = null;
  private state: FeedState = "idle";
  private messages = 0;
  private reconnects = 0;
  private lastError: string | null = null;

  constructor(private readonly options: KafkaFeedOptions) {
    this.source = options.source ?? `kafka:${typeof options.topic === "string" ? options.topic : options.topic.join(",")}`;
    this.format = options.format ?? "raw";
  }

  async start(sink: FeedSink): Promise<void> {
    this.state = "connecting";
    const consumer = kafkaClient(this.options.brokers, "tradestream-ingestor").consumer({ groupId: this.options.groupId ?? "tradestream-ingestor" });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      this.lastError = String(event.payload.error);
      this.reconnects += 1;
      this.state = "reconnecting";
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.state = "connected";
    });
    await consumer.connect();
    const topics = typeof this.options.topic === "string" ? [this.options.topic] : [...this.options.topic];
    await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          this.messages += 1;
          const text = message.value?.toString("utf8") ?? "";
          let raw: unknown;
          try {
            raw = JSON.parse(text);
          } catch {
            raw = text;
          }
          // Normalized ticks may come batched, as a JSON array (NatsBus does that; KafkaBus sends one per message).
          if (this.format === "normalized" && Array.isArray(raw)) for (const record of raw) sink.record(record);
          else sink.record(raw);
        }
        return Promise.resolve();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.state = "stopped";
  }

  status(): FeedStatus {
    return { source: this.source, state: this.state, reconnects: this.reconnects, messages: this.messages, lastError: this.lastError };
  }
}

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly topicPrefix?: string | undefined;
  readonly bufferMax?: number | undefined;
  readonly logger?: IngestorLogger | undefined;
}

export const kafkaBufferMaxDefault = 200_000;

export class KafkaBus implements MarketDataBus {
  readonly name = "kafka";
  private buffer: Array<{ topic: string; key: string; value: string }> = [];
  private sending: Promise<void> | null = null;
  private scheduled = false;
  private count = 0;
  private failures = 0;
  private failureLogged = false;

  private constructor(
    private readonly producer: Producer,
    private readonly options: KafkaBusOptions,
  ) {}

  static async open(options: KafkaBusOptions): Promise<KafkaBus> {
    const producer = kafkaClient(options.brokers, "tradestream-ingestor").producer({ allowAutoTopicCreation: true });
    await producer.connect();
    return new KafkaBus(producer, options);
  }

  publish(tick: NormalizedTick): void {
    if (this.buffer.length >= (this.options.bufferMax ?? kafkaBufferMaxDefault)) {
      this.fail(new Error("publish buffer full"));
      return;
    }
    this.buffer.push({ topic: marketDataSubject(tick.symbol, this.options.topicPrefix), key: tick.symbol, value: encodeTick(tick) });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.send());
    }
  }

  private send(): Promise<void> {
    this.scheduled = false;
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
    });
    return this.sending;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer;
      this.buffer = [];
      const byTopic = new Map<string, Array<{ key: string; value: string }>>();
      for (const { topic, key, value } of batch) {
        let list = byTopic.get(topic);
        if (list === undefined) byTopic.set(topic, (list = []));
        list.push({ key, value });
      }
      try {
        await this.producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        this.count += batch.length;
      } catch (error) {
        this.failures += batch.length;
        this.fail(error, false);
      }
    }
  }

  private fail(error: unknown, count = true): void {
    if (count) this.failures += 1;
    if (!this.failureLogged) {
      this.failureLogged = true;
      this.options.logger?.warn("publishing market data to Kafka failed (logged once; see the failed count)", { error: String(error) });
    }
  }

  get published(): number {
    return this.count;
  }

  get failed(): number {
    return this.failures;
  }

  async flush(): Promise<void> {
    await this.sending;
    if (this.buffer.length > 0) await this.send();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer.disconnect();
  }
}
