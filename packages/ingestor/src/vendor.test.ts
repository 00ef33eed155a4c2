import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { mulberry32 } from "@tradestream/kernel";
import { EgressClient } from "@tradestream/egress";
import { Ingestor } from "./ingestor.ts";
import { testInstruments } from "./testing.ts";
import { backoffDelayMs, HttpPollingVendorFeed, WebSocketVendorFeed, apiKeyFromEnv } from "./vendor.ts";
import type { NormalizedTick } from "./types.ts";
import { InProcessBus } from "./bus.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const apiKey = "test-key-do-not-log";
const baseUs = 1_714_555_800_000_000;
const egress = new EgressClient({ allow: ["127.0.0.1"], noDefaults: true });

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function pipeline(feed: WebSocketVendorFeed | HttpPollingVendorFeed): { ingestor: Ingestor; ticks: NormalizedTick[] } {
  const bus = new InProcessBus();
  const ticks: NormalizedTick[] = [];
  bus.subscribe((tick) => ticks.push(tick));
  const ingestor = new Ingestor({ instruments: testInstruments, feeds: [feed], bus });
  closers.push(() => ingestor.stop());
  return { ingestor, ticks };
}

describe("back-off", () => {
  it("doubles up to the ceiling, with jitter in [½, 1] of it", () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelayMs(attempt, options, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelayMs(2, options, () => 0)).toBe(200);
    const random = mulberry32(1);
    for (let i = 0; i < 100; i += 1) {
      const delay = backoffDelayMs(3, options, random);
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it("reads the API key from the environment or a secrets file", () => {
    const dir = mkdtempSync(join(tmpdir(), "ingestor-key-"));
    writeFileSync(join(dir, "key"), "from-file\n");
    expect(apiKeyFromEnv({ LSE_API_KEY: "direct", LSE_API_KEY_FILE: join(dir, "key") })).toBe("direct");
    expect(apiKeyFromEnv({ LSE_API_KEY_FILE: join(dir, "key") })).toBe("from-file");
    expect(apiKeyFromEnv({})).toBeUndefined();
  });
});

describe("WebSocket vendor feed against a local feed server", () => {
  it("authenticates, subscribes, survives dropped connections and bad messages, and resubscribes", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const subscriptions: unknown[] = [];
    const keys: Array<string | undefined> = [];
    let connections = 0;
    let seq = 0;
    wss.on("connection", (socket: WebSocket, request: IncomingMessage) => {
      connections += 1;
      keys.push(request.headers["x-api-key"] as string | undefined);
      if (request.headers["x-api-key"] !== apiKey) {
        socket.close(4001, "bad key");
        return;
      }
      const nth = connections;
      socket.on("message", (data: Buffer) => {
        subscriptions.push(JSON.parse(data.toString("utf8")));
        socket.send(JSON.stringify({ type: "subscribed" }));
        socket.send(JSON.stringify({ type: "heartbeat" }));
        for (let i = 0; i < 3; i += 1) {
          seq += 1;
          socket.send(JSON.stringify({ type: "trade", symbol: "SAP", seq, tsUs: baseUs + seq, price: "230.00", size: "1" }));
        }
        socket.send("{this is not json");
        socket.send(JSON.stringify([{ type: "quote", code: "SIE.DE", tsUs: baseUs, bid: "180.00", ask: "179.00" }]));
        // The first connection is dropped by the server after its burst.
        if (nth === 1) setTimeout(() => socket.terminate(), 20);
      });
    });
    const port = await listen(http);
    closers.push(async () => {
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (msg: string, f?: Record<string, unknown>) => warnings.push(`${msg} ${JSON.stringify(f)}`), error: () => undefined };
    const feed = new WebSocketVendorFeed({ url: `ws://127.0.0.1:${String(port)}/feed`, apiKey, symbols: ["SAP", "SIE"], egress, logger, backoff: { initialMs: 20, maxMs: 100 }, random: mulberry32(1) });
    const { ingestor, ticks } = pipeline(feed);
    await ingestor.start();
    await until(() => ticks.length >= 6, "ticks from two connections");
    expect(connections).toBe(2);
    expect(keys).toEqual([apiKey, apiKey]);
    expect(subscriptions).toEqual([
      { action: "subscribe", symbols: ["SAP", "SIE"] },
      { action: "subscribe", symbols: ["SAP", "SIE"] },
    ]);
    expect(ticks.map((tick) => tick.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    await until(() => ingestor.deadLetters.size >= 4, "dead letters");
    expect(ingestor.deadLetters.byReason()[feed.source]).toMatchObject({ malformed: 2, crossed_quote: 2 });
    expect(feed.status()).toMatchObject({ state: "connected", reconnects: 1 });
    expect(warnings.join("\n")).not.toContain(apiKey);
  });

  it("reconnects when the heartbeat times out", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    let connections = 0;
    wss.on("connection", () => {
      connections += 1; // and then silence
    });
    const port = await listen(http);
    closers.push(async () => {
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const feed = new WebSocketVendorFeed({ url: `ws://127.0.0.1:${String(port)}/`, apiKey, symbols: ["SAP"], egress, heartbeatTimeoutMs: 100, backoff: { initialMs: 10, maxMs: 20 } });
    const { ingestor } = pipeline(feed);
    await ingestor.start();
    await until(() => connections >= 3, "reconnections after heartbeat timeouts");
    expect(feed.status().reconnects).toBeGreaterThanOrEqual(2);
    expect(feed.status().lastError).toMatch(/no message for 100 ms/);
  });

  it("does not connect to a host off the allow-list", async () => {
    const feed = new WebSocketVendorFeed({ url: "wss://feed.example.org/", apiKey, symbols: ["SAP"], egress });
    const { ingestor } = pipeline(feed);
    await ingestor.start();
    expect(feed.status()).toMatchObject({ state: "stopped", lastError: expect.stringMatching(/not on the egress allow-list/) as unknown });
  });
});

describe("HTTP polling vendor feed against a local feed server", () => {
  it("polls with the key and cursor, recovers from failures, dead-letters bad answers", async () => {
    let polls = 0;
    const seen: Array<{ key: string | undefined; symbols: string | null; cursor: string | null }> = [];
    const http = createServer((request, response) => {
      polls += 1;
      const url = new URL(request.url ?? "/", "http://x");
      seen.push({ key: request.headers["x-api-key"] as string | undefined, symbols: url.searchParams.get("symbols"), cursor: url.searchParams.get("cursor") });
      if (polls === 2) {
        response.writeHead(503).end();
        return;
      }
      if (polls === 3) {
        request.socket.destroy(); // a dropped connection
        return;
      }
      if (polls === 4) {
        response.end("<html>not json</html>");
        return;
      }
      response.end(JSON.stringify({ records: [{ type: "trade", symbol: "SAP", seq: polls, tsUs: baseUs + polls, price: 230.05, size: 2 }, { type: "trade", symbol: "SAP", tsUs: baseUs, price: "x" }], cursor: `c${String(polls)}` }));
    });
    const port = await listen(http);
    closers.push(async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    const feed = new HttpPollingVendorFeed({ url: `http://127.0.0.1:${String(port)}/ticks`, apiKey, symbols: ["SAP", "SIE"], egress, pollMs: 5, backoff: { initialMs: 5, maxMs: 20 } });
    const { ingestor, ticks } = pipeline(feed);
    await ingestor.start();
    await until(() => ticks.length >= 3, "ticks from three good polls");
    await feed.stop();
    expect(ticks.slice(0, 3).map((tick) => [tick.seq, tick.priceTicks, tick.qtyLots])).toEqual([
      [1, 23005, 2],
      [5, 23005, 2],
      [6, 23005, 2],
    ]);
    expect(seen[0]).toEqual({ key: apiKey, symbols: "SAP,SIE", cursor: null });
    expect(seen[1]?.cursor).toBe("c1");
    expect(seen[5]?.cursor).toBe("c5");
    expect(feed.status().reconnects).toBe(2);
    // Every good poll also carried one record with a bad price (the feed may have polled again before it stopped).
    expect(ingestor.deadLetters.byReason()[feed.source]).toMatchObject({ malformed: 1, invalid_price: ticks.length });
  });
});
