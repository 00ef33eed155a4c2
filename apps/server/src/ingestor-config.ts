/**
 * The ingestor's configuration from the environment, shared by the one-process
 * platform (which runs it in process, the simulated feed by default in demo
 * mode) and the `ingestor` role. Secrets (the vendor API key) are read here and
 * handed to the feed; they are never logged.
 *
 *   INGESTOR_FEED         simulated | ws | http | replay | kafka | nats | nats-normalized | kafka-normalized | off
 *                         (comma-separated for several)
 *   INGESTOR_SIM_RATE     simulated records per second (20)
 *   LSE_FEED_URL          the vendor's WebSocket or HTTP URL; LSE_API_KEY or LSE_API_KEY_FILE
 *   INGESTOR_REPLAY_FILE, INGESTOR_REPLAY_SPEED  a CSV/NDJSON file, and ×N or "max"
 *   KAFKA_BROKERS, INGESTOR_KAFKA_TOPIC (marketdata.raw)
 *   NATS_URL, INGESTOR_NATS_SUBJECT (marketdata.raw), INGESTOR_NATS_STREAM (none: core NATS)
 *   INGESTOR_PUBLISH      nats,kafka: also publish normalized ticks to marketdata.<symbol>
 *   INGESTOR_PUBLISH_NATS_STREAM (none: core NATS; else JetStream with acks into this stream, created
 *                         capturing marketdata.>), INGESTOR_PUBLISH_NATS_BATCH (1): ticks per NATS message
 *
 *   INGESTOR_MARKETDATA_PREFIX (marketdata): the subjects / topics <prefix>.<symbol>, published and consumed
 *
 * Scale-out: the `ingestor` role publishes (INGESTOR_PUBLISH), the platform consumes what it published:
 *   nats-normalized       the ticks on <prefix>.>: with INGESTOR_NATS_MARKETDATA_STREAM (the role's
 *                         INGESTOR_PUBLISH_NATS_STREAM) through JetStream — an ordered consumer starting at
 *                         each symbol's latest message, resuming after a reconnect where it stopped —
 *                         else a core subscription (live ticks only)
 *   kafka-normalized      the topics <prefix>.<symbol> of this process's instruments, in the consumer
 *                         group INGESTOR_KAFKA_MARKETDATA_GROUP (tradestream-platform), from the latest
 *                         offset when the group has none
 * Instruments are matched by symbol (ids are local to each process; tick and lot sizes must agree);
 * every field is checked and a bad tick is dead-lettered. A process may not publish to the transport
 * it consumes normalized ticks from (it would read its own ticks back).
 *   INGESTOR_STALE_S (30), INGESTOR_STALE_HALT (0/1), INGESTOR_DEAD_LETTER_FILE, EGRESS_ALLOW
 */
import type { InstrumentSpec } from "@tradestream/contracts";
import { EgressClient } from "@tradestream/egress";
import type { GatewayDeps } from "@tradestream/gateway";
import {
  apiKeyFromEnv,
  FileReplayFeed,
  HttpPollingVendorFeed,
  Ingestor,
  KafkaBus,
  KafkaFeed,
  marketDataSubject,
  NatsBus,
  NatsFeed,
  natsUrlDefault,
  SimulatedFeed,
  WebSocketVendorFeed,
  type Feed,
  type FeedInstrument,
  type IngestorLogger,
  type IngestorTradingPort,
  type MarketDataBus,
} from "@tradestream/ingestor";

export const feedKinds = ["simulated", "ws", "http", "replay", "kafka", "nats", "nats-normalized", "kafka-normalized"] as const;
export type FeedKind = (typeof feedKinds)[number];

export interface IngestorEnvOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly instruments: readonly InstrumentSpec[];
  readonly logger: IngestorLogger;
  readonly trading?: IngestorTradingPort | undefined;
  readonly seed: number;
  /** Used when INGESTOR_FEED is not set. */
  readonly defaultFeeds: readonly FeedKind[];
  /** The process's outbound client; default: one from this environment's EGRESS_ALLOW. */
  readonly egress?: EgressClient | undefined;
}

function list(text: string | undefined): string[] {
  return (text ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${name} must be a positive number, got ${text}`);
  return value;
}

/** The prefix of the market-data subjects and topics: dot-separated names, no wildcards. */
function prefixOf(env: NodeJS.ProcessEnv): string {
  const prefix = env.INGESTOR_MARKETDATA_PREFIX ?? "marketdata";
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) throw new Error(`INGESTOR_MARKETDATA_PREFIX must be dot-separated names of letters, digits, _ or -, got ${prefix}`);
  return prefix;
}

/** The feeds named by INGESTOR_FEED (or the defaults); an empty list when "off". */
export function feedKindsFromEnv(env: NodeJS.ProcessEnv, defaults: readonly FeedKind[]): FeedKind[] {
  const named = list(env.INGESTOR_FEED);
  if (named.length === 0) return [...defaults];
  if (named.includes("off")) return [];
  for (const kind of named) if (!(feedKinds as readonly string[]).includes(kind)) throw new Error(`INGESTOR_FEED: unknown feed ${kind} (one of ${feedKinds.join(", ")}, off)`);
  return named as FeedKind[];
}

function feedOf(kind: FeedKind, options: IngestorEnvOptions, instruments: readonly FeedInstrument[], egress: EgressClient): Feed {
  const { env, logger } = options;
  const symbols = instruments.map((instrument) => instrument.spec.symbol);
  const vendorUrl = (): string => {
    const url = env.LSE_FEED_URL;
    if (url === undefined || url === "") throw new Error(`INGESTOR_FEED=${kind} needs LSE_FEED_URL`);
    return url;
  };
  switch (kind) {
    case "simulated":
      return new SimulatedFeed({ instruments, seed: options.seed, ratePerS: positive(env, "INGESTOR_SIM_RATE", 20) });
    case "ws":
      return new WebSocketVendorFeed({ url: vendorUrl(), apiKey: apiKeyFromEnv(env), symbols, egress, logger, source: "vendor-ws" });
    case "http":
      return new HttpPollingVendorFeed({ url: vendorUrl(), apiKey: apiKeyFromEnv(env), symbols, egress, logger, source: "vendor-http", pollMs: positive(env, "INGESTOR_POLL_MS", 1_000) });
    case "replay": {
      const file = env.INGESTOR_REPLAY_FILE;
      if (file === undefined || file === "") throw new Error("INGESTOR_FEED=replay needs INGESTOR_REPLAY_FILE");
      const speed = env.INGESTOR_REPLAY_SPEED === undefined || env.INGESTOR_REPLAY_SPEED === "max" ? "max" : positive(env, "INGESTOR_REPLAY_SPEED", 1);
      return new FileReplayFeed({ file, speed });
    }
    case "kafka":
      return new KafkaFeed({ brokers: list(env.KAFKA_BROKERS ?? "127.0.0.1:9092"), topic: env.INGESTOR_KAFKA_TOPIC ?? "marketdata.raw", logger });
    case "nats":
      return new NatsFeed({ url: env.NATS_URL ?? natsUrlDefault, subject: env.INGESTOR_NATS_SUBJECT ?? "marketdata.raw", stream: env.INGESTOR_NATS_STREAM, logger });
    case "nats-normalized": {
      const stream = env.INGESTOR_NATS_MARKETDATA_STREAM === "" ? undefined : env.INGESTOR_NATS_MARKETDATA_STREAM;
      return new NatsFeed({ url: env.NATS_URL ?? natsUrlDefault, subject: `${prefixOf(env)}.>`, stream, deliver: "last_per_subject", format: "normalized", logger });
    }
    case "kafka-normalized":
      return new KafkaFeed({
        brokers: list(env.KAFKA_BROKERS ?? "127.0.0.1:9092"),
        topic: symbols.map((symbol) => marketDataSubject(symbol, prefixOf(env))),
        groupId: env.INGESTOR_KAFKA_MARKETDATA_GROUP ?? "tradestream-platform",
        fromBeginning: false,
        format: "normalized",
        logger,
        source: `kafka:${prefixOf(env)}`,
      });
  }
}

/** Secrets of this environment that must never be stored or logged (the vendor API key, when configured and readable). */
function configuredSecrets(env: NodeJS.ProcessEnv): string[] {
  try {
    const key = apiKeyFromEnv(env);
    return key === undefined ? [] : [key];
  } catch {
    // An unreadable key file: the feed that needs it reports that when it starts.
    return [];
  }
}

/** The ingestor for this environment, or null when no feed is configured. Not started. */
export async function ingestorFromEnv(options: IngestorEnvOptions): Promise<Ingestor | null> {
  const kinds = feedKindsFromEnv(options.env, options.defaultFeeds);
  if (kinds.length === 0) return null;
  const instruments: FeedInstrument[] = options.instruments.map((spec) => ({ spec }));
  const egress = options.egress ?? EgressClient.fromEnv(options.env, options.logger);
  const targets = list(options.env.INGESTOR_PUBLISH);
  for (const transport of ["nats", "kafka"] as const) {
    if (kinds.includes(`${transport}-normalized`) && targets.includes(transport)) throw new Error(`INGESTOR_FEED=${transport}-normalized with INGESTOR_PUBLISH=${transport}: this process would read back the ticks it publishes`);
  }
  const feeds = kinds.map((kind) => feedOf(kind, options, instruments, egress));
  const publishers: MarketDataBus[] = [];
  for (const target of targets) {
    if (target === "nats") {
      const stream = options.env.INGESTOR_PUBLISH_NATS_STREAM === "" ? undefined : options.env.INGESTOR_PUBLISH_NATS_STREAM;
      const batchMax = Math.floor(positive(options.env, "INGESTOR_PUBLISH_NATS_BATCH", 1));
      publishers.push(await NatsBus.open({ url: options.env.NATS_URL ?? natsUrlDefault, stream, subjectPrefix: prefixOf(options.env), batchMax, logger: options.logger }));
    } else if (target === "kafka") publishers.push(await KafkaBus.open({ brokers: list(options.env.KAFKA_BROKERS ?? "127.0.0.1:9092"), topicPrefix: prefixOf(options.env), logger: options.logger }));
    else throw new Error(`INGESTOR_PUBLISH: unknown target ${target} (nats, kafka)`);
  }
  return new Ingestor({
    instruments,
    feeds,
    publishers,
    trading: options.trading,
    stale: { afterMs: positive(options.env, "INGESTOR_STALE_S", 30) * 1000, halt: options.env.INGESTOR_STALE_HALT === "1" },
    // The vendor key is redacted wherever a dead-lettered payload might echo it.
    deadLetters: { file: options.env.INGESTOR_DEAD_LETTER_FILE === "" ? undefined : options.env.INGESTOR_DEAD_LETTER_FILE, secrets: configuredSecrets(options.env) },
    logger: options.logger,
  });
}

/** What the gateway serves of an ingestor: its candles and tickers, status and dead letters. */
export function feedPortOf(ingestor: Ingestor): NonNullable<GatewayDeps["feed"]> {
  return {
    market: ingestor.external.projection,
    status: () => ({ ...ingestor.status() }),
    publicStatus: () => ({ ...ingestor.publicStatus() }),
    deadLetters: (limit) => ingestor.deadLetters.newest(limit).map((letter) => ({ ...letter, at: new Date(letter.atUs / 1000).toISOString() })),
  };
}
