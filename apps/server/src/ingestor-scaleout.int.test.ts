/**
 * Scale-out market data: the `ingestor` role publishes normalized ticks to NATS
 * (INGESTOR_PUBLISH=nats), and the platform's own ingestor consumes them
 * (INGESTOR_FEED=nats-normalized) into reference prices through the journal
 * and the /api/v1/feed/* routes — against the machine's nats-server, skipped
 * with the reason printed when it does not answer unless
 * TRADESTREAM_REQUIRE_SERVICES=1. The configuration checks need no server.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceVerdict, tcpReachable } from "@tradestream/ingestor/testing";
import { replayFromZero } from "@tradestream/shard";
import { feedKindsFromEnv, ingestorFromEnv } from "./ingestor-config.ts";
import { startIngestorRole, type IngestorRole } from "./ingestor-role.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { ApiClient } from "./test-client.ts";
import { demoInstruments } from "./demo.ts";
import { testConfig, until } from "./test-platform.ts";

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };


describe("scale-out feed configuration", () => {
  it("names the normalized feeds", () => {
    expect(feedKindsFromEnv({ INGESTOR_FEED: "nats-normalized,kafka-normalized" }, [])).toEqual(["nats-normalized", "kafka-normalized"]);
  });

  it.each(["nats", "kafka"])("refuses to consume %s-normalized ticks while publishing to the same transport", async (transport) => {
    const env = { INGESTOR_FEED: `${transport}-normalized`, INGESTOR_PUBLISH: transport };
    await expect(ingestorFromEnv({ env, instruments: demoInstruments, logger: quiet, seed: 1, defaultFeeds: [] })).rejects.toThrow(/read back the ticks it publishes/);
  });

  it.each(["marketdata.>", "a..b", ".x", "x y"])("refuses the subject prefix %j", async (prefix) => {
    const env = { INGESTOR_FEED: "nats-normalized", INGESTOR_MARKETDATA_PREFIX: prefix };
    await expect(ingestorFromEnv({ env, instruments: demoInstruments, logger: quiet, seed: 1, defaultFeeds: [] })).rejects.toThrow(/INGESTOR_MARKETDATA_PREFIX/);
  });

  it.each(["0", "1001", "x"])("refuses INGESTOR_PUBLISH_NATS_BATCH=%s", async (batch) => {
    const env = { INGESTOR_FEED: "simulated", INGESTOR_PUBLISH: "nats", INGESTOR_PUBLISH_NATS_BATCH: batch, NATS_URL: "nats://127.0.0.1:1" };
    await expect(ingestorFromEnv({ env, instruments: demoInstruments, logger: quiet, seed: 1, defaultFeeds: [] })).rejects.toThrow(/INGESTOR_PUBLISH_NATS_BATCH|batchMax/);
  });
});

const natsHost = new URL(natsUrl.replace(/^nats:/, "http:"));
const natsSkip = serviceVerdict("NATS", (await tcpReachable(natsHost.hostname, Number(natsHost.port || 4222))) ? null : `${natsUrl} did not answer`);

describe.skipIf(natsSkip !== null)("the platform consuming the ingestor role's ticks over NATS", () => {
  // A prefix of this run's own, so other publishers on the shared server are not read.
  const prefix = `md${randomBytes(4).toString("hex")}`;
  let role: IngestorRole;
  let platform: Platform;

  beforeAll(async () => {
    role = await startIngestorRole({ port: 0, host: "127.0.0.1", seed: 3, env: { INGESTOR_FEED: "simulated", INGESTOR_SIM_RATE: "400", INGESTOR_PUBLISH: "nats", INGESTOR_PUBLISH_NATS_BATCH: "64", INGESTOR_MARKETDATA_PREFIX: prefix, NATS_URL: natsUrl, LOG_LEVEL: "error" } });
    platform = await startPlatform(testConfig({
      seed: 5,
      feed: true,
      feedEnv: { INGESTOR_FEED: "nats-normalized", INGESTOR_MARKETDATA_PREFIX: prefix, NATS_URL: natsUrl },
    }));
  });

  afterAll(async () => {
    await platform.close();
    await role.close();
  });

  it("turns them into reference prices through the journal and serves them on /api/v1/feed/*", async () => {
    const ingestor = platform.ingestor;
    if (ingestor === null) throw new Error("no ingestor");
    await until(() => ingestor.status().referencePrices.submitted >= 5, "reference prices from the role's ticks", 20_000);
    await ingestor.flushReferencePrices();
    const sent = ingestor.status().instruments.find((i) => i.symbol === "SAP")?.referencePriceTicks;
    expect(sent).not.toBeNull();
    expect(platform.shard.engine.instruments.get(1)?.referencePriceTicks).toBe(sent);
    expect(ingestor.status().sources[0]).toMatchObject({ source: `nats:${prefix}.>`, state: "connected", deadLettered: 0 });
    expect(ingestor.status().sources[0]?.published).toBeGreaterThan(0);
    const anonymous = new ApiClient(platform.url);
    await until(() => (ingestor.external.projection.ticker(1)?.trades ?? 0) > 0, "an external trade", 20_000);
    const ticker = await anonymous.get("/api/v1/feed/markets/SAP/ticker");
    expect(ticker.status).toBe(200);
    expect(ticker.body).toMatchObject({ symbol: "SAP", last: expect.stringMatching(/^\d+\.\d{2}$/) as unknown });
    const status = await anonymous.get<{ sources: Array<Record<string, unknown>> }>("/api/v1/feed/status");
    expect(status.body.sources[0]).toMatchObject({ source: `nats:${prefix}.>`, state: "connected" });
    // Journaled: a replay from the first command reproduces the same state.
    const clean = await replayFromZero(platform.shard.log);
    expect(clean.stateHash).toBe(platform.shard.stateHash());
  });
});
