/**
 * The ingestor inside the platform: the simulated external feed moves the
 * engine's reference prices through the journal, and the gateway serves the
 * feed's tickers, candles and status (REST and WebSocket); dead letters only to
 * SRE and admins.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { rawText } from "@tradestream/gateway";
import { replayFromZero } from "@tradestream/shard";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig, until } from "./test-platform.ts";

let platform: Platform;


beforeAll(async () => {
  platform = await startPlatform(testConfig({
    seed: 5,
    feed: true,
    feedEnv: { INGESTOR_FEED: "simulated", INGESTOR_SIM_RATE: "400" },
  }));
});

afterAll(async () => {
  await platform.close();
});

describe("ingestor in the platform", () => {
  it("sets the engine's reference prices through the journal, at most once per instrument per second", async () => {
    const ingestor = platform.ingestor;
    if (ingestor === null) throw new Error("no ingestor");
    const startSeq = platform.shard.seq;
    const started = Date.now();
    await until(() => ingestor.status().referencePrices.submitted >= 10, "reference prices");
    const engineSap = platform.shard.engine.instruments.get(1);
    await ingestor.flushReferencePrices();
    const sent = ingestor.status().instruments.find((i) => i.symbol === "SAP")?.referencePriceTicks;
    expect(sent).not.toBeNull();
    expect(engineSap?.referencePriceTicks).toBe(sent);
    expect(platform.market.instrument("SAP")?.referencePriceTicks).toBe(sent);
    // Moved by the feed, but near the demo reference (230.00) and on the grid.
    expect(Math.abs((sent ?? 0) - 23_000)).toBeLessThan(23_000 * 0.03);
    // Throttled: in the time taken, at most one command per instrument per second (plus one flush).
    const commands = platform.shard.seq - startSeq;
    const allowed = 5 * (Math.ceil((Date.now() - started) / 1000) + 2);
    expect(commands).toBeGreaterThan(0);
    expect(commands).toBeLessThanOrEqual(allowed); // 400 ticks/s unthrottled would be hundreds
    expect(ingestor.status().referencePrices.rejected).toBe(0);
    // Journaled: a replay from the first command reproduces the same state.
    const clean = await replayFromZero(platform.shard.log);
    expect(clean.stateHash).toBe(platform.shard.stateHash());
  });

  it("serves the feed's ticker, candles and status publicly", async () => {
    const anonymous = new ApiClient(platform.url);
    await until(() => (platform.ingestor?.external.projection.ticker(1)?.trades ?? 0) > 0, "an external trade");
    const ticker = await anonymous.get("/api/v1/feed/markets/SAP/ticker");
    expect(ticker.status).toBe(200);
    expect(ticker.body).toMatchObject({ symbol: "SAP", last: expect.stringMatching(/^\d+\.\d{2}$/) as unknown, vwap: expect.stringMatching(/^\d+\.\d+$/) as unknown, previousClose: "230.00" });
    const candles = await anonymous.get<{ items: Array<Record<string, unknown>> }>("/api/v1/feed/markets/sap/candles?interval=1s&limit=5");
    expect(candles.status).toBe(200);
    expect(candles.body.items.length).toBeGreaterThan(0);
    expect(candles.body.items[0]).toMatchObject({ symbol: "SAP", interval: "1s" });
    const status = await anonymous.get<{ sources: Array<Record<string, unknown>> }>("/api/v1/feed/status");
    expect(status.status).toBe(200);
    expect(status.body.sources[0]).toMatchObject({ source: "simulated", state: "connected" });
    expect((await anonymous.get("/api/v1/feed/markets/NOPE/ticker")).body).toMatchObject({ error: { code: "unknown_instrument" } });
    expect((await anonymous.get("/api/v1/feed/markets/SAP/candles?interval=2m")).status).toBe(400);
    // The platform's own ticker is a different projection: its last trade is the platform's (none here).
    expect((await anonymous.get("/api/v1/markets/SAP/ticker")).body).toMatchObject({ last: null });
    const openapi = await anonymous.get<{ paths: Record<string, unknown> }>("/openapi.json");
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(["/api/v1/feed/status", "/api/v1/feed/markets/{symbol}/ticker", "/api/v1/feed/markets/{symbol}/candles", "/api/v1/feed/dead-letters"]));
  });

  it("shows dead letters only to SRE and admins", async () => {
    expect((await new ApiClient(platform.url).get("/api/v1/feed/dead-letters")).status).toBe(401);
    expect((await (await ApiClient.signIn(platform.url, "trader1")).get("/api/v1/feed/dead-letters")).body).toMatchObject({ error: { code: "forbidden" } });
    platform.ingestor?.ingest(0, { type: "trade", symbol: "SAP", price: "1" });
    const sre = await ApiClient.signIn(platform.url, "sre1");
    const letters = await sre.get<{ items: Array<Record<string, unknown>> }>("/api/v1/feed/dead-letters?limit=5");
    expect(letters.status).toBe(200);
    expect(letters.body.items[0]).toMatchObject({ source: "simulated", reason: "invalid_timestamp" });
  });

  it("streams the feed's ticker and candles on the WebSocket", async () => {
    const socket = new WebSocket(`${platform.url.replace(/^http/, "ws")}/ws`);
    const messages: Array<Record<string, unknown>> = [];
    socket.on("message", (data: WebSocket.RawData) => messages.push(JSON.parse(rawText(data)) as Record<string, unknown>));
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_ticker", symbol: "SIE", id: 1 }));
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_candles", symbol: "SIE", interval: "1m", id: 2 }));
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_candles", symbol: "SIE", interval: "7m", id: 3 }));
    await until(() => messages.filter((m) => m.channel === "feed_ticker" && m.type === "ticker").length >= 2 && messages.some((m) => m.channel === "feed_candles" && m.type === "candle"), "feed messages");
    expect(messages[0]).toMatchObject({ type: "welcome", channels: expect.arrayContaining(["feed_ticker", "feed_candles"]) as unknown });
    expect(messages.find((m) => m.id === 3)).toMatchObject({ type: "error", error: { code: "validation_failed" } });
    expect(messages.find((m) => m.type === "candle")).toMatchObject({ symbol: "SIE", interval: "1m" });
    socket.close();
  });
});

describe("platform without a feed", () => {
  it("answers feed routes with feed_not_configured", async () => {
    const bare = await startPlatform(testConfig({ seed: 1 }));
    try {
      expect(bare.ingestor).toBeNull();
      const response = await new ApiClient(bare.url).get("/api/v1/feed/markets/SAP/ticker");
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ error: { code: "feed_not_configured" } });
    } finally {
      await bare.close();
    }
  });
});
