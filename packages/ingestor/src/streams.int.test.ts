/**
 * The stream adapters against real servers: NATS (core and JetStream) on the
 * machine's nats-server, Kafka against librdkafka's mock cluster started with
 * kcat. An unreachable server skips its tests with the reason printed, unless
 * TRADESTREAM_REQUIRE_SERVICES=1 (CI), where it fails them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessBus } from "./bus.ts";
import { Ingestor } from "./ingestor.ts";
import { KafkaBus, KafkaFeed } from "./kafka.ts";
import { NatsBus, NatsFeed } from "./nats.ts";
import { serviceVerdict, tcpReachable, testInstruments } from "./testing.ts";
import type { Feed, FeedInstrument, IngestorCommand, IngestorTradingPort, NormalizedTick } from "./types.ts";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const baseUs = 1_714_555_800_000_000;
const encoder = new TextEncoder();

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function pipeline(feed: NatsFeed | KafkaFeed, publishers: Array<NatsBus | KafkaBus> = []): { ingestor: Ingestor; ticks: NormalizedTick[] } {
  const bus = new InProcessBus();
  const ticks: NormalizedTick[] = [];
  bus.subscribe((tick) => ticks.push(tick));
  return { ingestor: new Ingestor({ instruments: testInstruments, feeds: [feed], bus, publishers }), ticks };
}

const trade = (seq: number): string => JSON.stringify({ type: "trade", symbol: "SAP", seq, tsUs: baseUs + seq, price: "230.10", size: "3" });

const natsHost = new URL(natsUrl.replace(/^nats:/, "http:"));
const natsSkip = serviceVerdict("NATS", (await tcpReachable(natsHost.hostname, Number(natsHost.port || 4222))) ? null : `${natsUrl} did not answer`);

describe.skipIf(natsSkip !== null)("NATS", () => {
  const id = randomBytes(4).toString("hex");

  it("consumes a core subject and publishes normalized ticks to marketdata.<symbol> (round trip)", async () => {
    const nc = await connect({ servers: natsUrl });
    const prefix = `md${id}`;
    const out = nc.subscribe(`${prefix}.>`);
    const received: Array<{ subject: string; tick: NormalizedTick }> = [];
    void (async () => {
      for await (const message of out) received.push({ subject: message.subject, tick: JSON.parse(new TextDecoder().decode(message.data)) as NormalizedTick });
    })();
    const feed = new NatsFeed({ url: natsUrl, subject: `raw${id}` });
    const publisher = await NatsBus.open({ url: natsUrl, subjectPrefix: prefix });
    const { ingestor, ticks } = pipeline(feed, [publisher]);
    await ingestor.start();
    for (let seq = 1; seq <= 100; seq += 1) nc.publish(`raw${id}`, encoder.encode(trade(seq)));
    nc.publish(`raw${id}`, encoder.encode("not json"));
    await nc.flush();
    await until(() => received.length === 100 && ingestor.deadLetters.size === 1, "the round trip");
    expect(ticks).toHaveLength(100);
    expect(received[0]).toEqual({ subject: `${prefix}.SAP`, tick: expect.objectContaining({ kind: "trade", instrumentId: 1, seq: 1, priceTicks: 23010, qtyLots: 3 }) as unknown });
    expect(received.map((r) => r.tick.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(feed.status()).toMatchObject({ state: "connected", messages: 101 });
    await ingestor.stop();
    await nc.drain();
  });

  it("reads from a JetStream stream and publishes through JetStream with acks", async () => {
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    const inStream = `RAW_${id}`;
    const outStream = `MD_${id}`;
    const prefix = `mdjs${id}`;
    await jsm.streams.add({ name: inStream, subjects: [`rawjs${id}`] });
    try {
      // Published before the ingestor starts: JetStream keeps them for it.
      for (let seq = 1; seq <= 50; seq += 1) nc.publish(`rawjs${id}`, encoder.encode(trade(seq)));
      await nc.flush();
      const feed = new NatsFeed({ url: natsUrl, subject: `rawjs${id}`, stream: inStream });
      const publisher = await NatsBus.open({ url: natsUrl, subjectPrefix: prefix, stream: outStream });
      const { ingestor, ticks } = pipeline(feed, [publisher]);
      await ingestor.start();
      await until(() => ticks.length === 50, "ticks from the stream");
      await publisher.flush();
      expect(publisher.published).toBe(50);
      expect(publisher.failed).toBe(0);
      const info = await jsm.streams.info(outStream);
      expect(info.state.messages).toBe(50);
      expect(info.state.subjects ?? { [`${prefix}.SAP`]: 50 }).toEqual({ [`${prefix}.SAP`]: 50 });
      await ingestor.stop();
    } finally {
      await jsm.streams.delete(inStream).catch(() => undefined);
      await jsm.streams.delete(outStream).catch(() => undefined);
      await nc.drain();
    }
  });
});

/** A feed whose records the test hands to `Ingestor.ingest` itself. */
function idleFeed(source: string): Feed {
  return { source, start: () => Promise.resolve(), stop: () => Promise.resolve(), status: () => ({ source, state: "connected", reconnects: 0, messages: 0, lastError: null }) };
}

/** A trading port that records the commands it is sent and applies them all. */
function recordingPort(): { port: IngestorTradingPort; commands: IngestorCommand[] } {
  const commands: IngestorCommand[] = [];
  return {
    commands,
    port: {
      submit: (command) => {
        commands.push(command);
        return Promise.resolve({ events: [] });
      },
    },
  };
}

/** The platform's instruments: the same symbols under other ids (ids are local to each process). */
const platformInstruments: readonly FeedInstrument[] = testInstruments.map((instrument) => ({ spec: { ...instrument.spec, instrumentId: instrument.spec.instrumentId + 100 } }));

describe.skipIf(natsSkip !== null)("NATS scale-out: the platform consumes the ingestor role's normalized ticks", () => {
  const id = randomBytes(4).toString("hex");

  for (const mode of ["core", "jetstream"] as const) {
    it(`turns ticks published by another ingestor into reference prices (${mode})`, async () => {
      const nc = await connect({ servers: natsUrl });
      const jsm = await jetstreamManager(nc);
      const prefix = `md${mode}${id}`;
      const stream = mode === "jetstream" ? `MDSCALE_${mode}_${id}` : undefined;
      try {
        // The ingestor role: raw records in, normalized ticks out on <prefix>.<symbol>, batched.
        const publisher = await NatsBus.open({ url: natsUrl, subjectPrefix: prefix, stream, batchMax: 16 });
        const role = new Ingestor({ instruments: testInstruments, feeds: [idleFeed("role")], bus: publisher, candles: false });
        // With JetStream, ticks published before the platform starts are there for it: it starts at each
        // symbol's latest message — here the batch of seq 6–10 (one turn's ticks), not the whole stream.
        if (stream !== undefined) {
          for (let seq = 1; seq <= 5; seq += 1) role.ingest(0, JSON.parse(trade(seq)));
          await publisher.flush();
          for (let seq = 6; seq <= 10; seq += 1) role.ingest(0, JSON.parse(trade(seq)));
          await publisher.flush();
        }
        const { port, commands } = recordingPort();
        const feed = new NatsFeed({ url: natsUrl, subject: `${prefix}.>`, stream, deliver: "last_per_subject", format: "normalized" });
        const platform = new Ingestor({ instruments: platformInstruments, feeds: [feed], trading: port, referenceIntervalMs: 60_000 });
        await platform.start();
        for (let seq = 11; seq <= 40; seq += 1) role.ingest(0, JSON.parse(trade(seq)));
        role.ingest(0, { type: "quote", symbol: "ASML", seq: 1, tsUs: baseUs + 50, bid: "130.00", ask: "130.10" });
        await publisher.flush();
        // Bad messages straight on the subjects: dead-lettered by the platform, never thrown.
        nc.publish(`${prefix}.SAP`, encoder.encode("{broken"));
        nc.publish(`${prefix}.SAP`, encoder.encode(JSON.stringify({ kind: "trade", symbol: "SAP", instrumentId: 1, source: "x", seq: 0, tsUs: baseUs + 99, priceTicks: -5, qtyLots: 1, bidTicks: 0, bidLots: 0, askTicks: 0, askLots: 0, side: null })));
        nc.publish(`${prefix}.TSLA`, encoder.encode(JSON.stringify([{ kind: "trade", symbol: "TSLA", instrumentId: 9, source: "x", seq: 1, tsUs: baseUs, priceTicks: 5, qtyLots: 1, bidTicks: 0, bidLots: 0, askTicks: 0, askLots: 0, side: null }])));
        await nc.flush();
        const expected = stream === undefined ? 31 : 36;
        await until(() => platform.status().sources[0]?.published === expected && platform.deadLetters.size === 3, "the platform to read the ticks").catch((error: unknown) => {
          throw new Error(`${String(error)}: ${JSON.stringify(platform.status().sources)} ${JSON.stringify(platform.deadLetters.newest(5))}`);
        });
        await platform.flushReferencePrices();
        // Mapped by symbol onto the platform's ids; SAP's last trade 230.10, ASML's quote mid 130.05 (ticks of 0.05).
        expect(commands).toEqual(expect.arrayContaining([{ type: "SetReferencePrice", instrumentId: 101, priceTicks: 23_010 }, { type: "SetReferencePrice", instrumentId: 103, priceTicks: 2_601 }]));
        expect(commands).toHaveLength(2);
        expect(platform.deadLetters.byReason()[feed.source]).toMatchObject({ malformed: 1, invalid_price: 1, unknown_instrument: 1 });
        expect(platform.status().sources[0]).toMatchObject({ source: `nats:${prefix}.>`, state: "connected", gaps: 0 });
        // The platform's candles and tickers (what /api/v1/feed/* serves) carry the ticks too.
        expect(platform.status().instruments.find((i) => i.symbol === "SAP")).toMatchObject({ instrumentId: 101, referencePriceTicks: 23_010 });
        expect(platform.external.projection.ticker(101)).toMatchObject({ lastPriceTicks: 23_010, volumeLots: 3 * (expected - 1) });
        expect(platform.external.projection.ticker(103)).toMatchObject({ bestBidTicks: 2_600, bestAskTicks: 2_602 });
        expect(publisher.failed).toBe(0);
        await platform.stop();
        await role.stop();
      } finally {
        if (stream !== undefined) await jsm.streams.delete(stream).catch(() => undefined);
        await nc.drain();
      }
    });
  }
});

/** librdkafka's mock cluster, kept alive by a kcat consumer for the tests' duration; its bootstrap address is on stderr. */
async function startMockKafka(): Promise<{ brokers: string; child: ChildProcess } | string> {
  let child: ChildProcess;
  try {
    child = spawn("kcat", ["-b", "dummy", "-X", "test.mock.num.brokers=1", "-C", "-t", "kcat-keepalive", "-q"], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    return `kcat could not be started: ${String(error)}`;
  }
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(() => {
      child.kill();
      resolve(`kcat printed no mock broker address: ${text.slice(0, 200)}`);
    }, 5_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve(`kcat could not be started: ${error.message}`);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const match = /replaced with (\S+)/.exec(text);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ brokers: match[1], child });
      }
    });
  });
}

const kafka = await startMockKafka();
const kafkaSkip = serviceVerdict("Kafka (kcat mock cluster)", typeof kafka === "string" ? kafka : null);

describe.skipIf(kafkaSkip !== null)("Kafka", () => {
  const brokers = typeof kafka === "string" ? [] : [kafka.brokers];
  afterAll(() => {
    if (typeof kafka !== "string") kafka.child.kill();
  });
  let client: Kafka;
  beforeAll(() => {
    client = new Kafka({ clientId: "test", brokers, logLevel: logLevel.NOTHING });
  });

  it("consumes raw records from a topic and publishes normalized ticks to marketdata.<symbol>", async () => {
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: "feed.raw", messages: [...Array.from({ length: 20 }, (_, i) => ({ key: "SAP", value: trade(i + 1) })), { key: "SAP", value: "{broken" }] });
    const feed = new KafkaFeed({ brokers, topic: "feed.raw", groupId: "ingestor-test" });
    const publisher = await KafkaBus.open({ brokers, topicPrefix: "md" });
    const { ingestor, ticks } = pipeline(feed, [publisher]);
    await ingestor.start();
    await until(() => ticks.length === 20 && ingestor.deadLetters.size === 1, "ticks from Kafka");
    await publisher.flush();
    expect(publisher.published).toBe(20);
    expect(publisher.failed).toBe(0);
    const consumer = client.consumer({ groupId: "verify" });
    await consumer.connect();
    await consumer.subscribe({ topic: "md.SAP", fromBeginning: true });
    const out: NormalizedTick[] = [];
    await consumer.run({
      eachMessage: ({ message }) => {
        out.push(JSON.parse(message.value?.toString("utf8") ?? "null") as NormalizedTick);
        return Promise.resolve();
      },
    });
    await until(() => out.length === 20, "ticks on md.SAP");
    expect(out.map((tick) => tick.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(out[0]).toMatchObject({ kind: "trade", instrumentId: 1, priceTicks: 23010, qtyLots: 3, source: "kafka:feed.raw" });
    await consumer.disconnect();
    await producer.disconnect();
    await ingestor.stop();
  });

  it("the platform turns ticks another ingestor published to <prefix>.<symbol> into reference prices (kafka-normalized)", async () => {
    // The ingestor role: raw records in, normalized ticks out, one per message on mdn.<symbol>.
    const publisher = await KafkaBus.open({ brokers, topicPrefix: "mdn" });
    const role = new Ingestor({ instruments: testInstruments, feeds: [idleFeed("role")], bus: publisher, candles: false });
    for (let seq = 1; seq <= 10; seq += 1) role.ingest(0, JSON.parse(trade(seq)));
    role.ingest(0, { type: "quote", symbol: "ASML", seq: 1, tsUs: baseUs + 50, bid: "130.00", ask: "130.10" });
    await publisher.flush();
    expect(publisher.failed).toBe(0);
    // A bad message straight on a topic: dead-lettered by the platform, never thrown.
    const producer = client.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: "mdn.SAP", messages: [{ value: "{broken" }] });
    await producer.disconnect();
    const { port, commands } = recordingPort();
    const feed = new KafkaFeed({ brokers, topic: ["mdn.SAP", "mdn.ASML"], groupId: "platform-normalized", format: "normalized" });
    const platform = new Ingestor({ instruments: platformInstruments, feeds: [feed], trading: port, referenceIntervalMs: 60_000 });
    await platform.start();
    await until(() => platform.status().sources[0]?.published === 11 && platform.deadLetters.size === 1, "the platform to read the ticks from Kafka").catch((error: unknown) => {
      throw new Error(`${String(error)}: ${JSON.stringify(platform.status().sources)} ${JSON.stringify(platform.deadLetters.newest(5))}`);
    });
    await platform.flushReferencePrices();
    // Mapped by symbol onto the platform's ids: SAP's last trade 230.10, ASML's quote mid 130.05 (ticks of 0.05).
    expect(commands).toEqual(expect.arrayContaining([{ type: "SetReferencePrice", instrumentId: 101, priceTicks: 23_010 }, { type: "SetReferencePrice", instrumentId: 103, priceTicks: 2_601 }]));
    expect(commands).toHaveLength(2);
    expect(platform.deadLetters.byReason()[feed.source]).toMatchObject({ malformed: 1 });
    expect(platform.external.projection.ticker(101)).toMatchObject({ lastPriceTicks: 23_010, volumeLots: 30 });
    await platform.stop();
    await role.stop();
  });
});
