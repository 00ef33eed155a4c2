/**
 * The external feed's surface, attacked: dead letters that quote a vendor's
 * credentials, who may read them, and input validation (symbol, interval,
 * limits, unknown fields) on the REST routes and the feed WebSocket channels,
 * each refusal in the one error shape.
 */
import { DeadLetterStore, deadLetterRawCharsMax } from "@tradestream/ingestor";
import { rawText } from "@tradestream/gateway";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

let platform: Platform;
/** One sign-in per user: a TOTP code is accepted once, so a second sign-in in the same 30 s would be refused. */
const clients = new Map<string, ApiClient>();
async function as(username: string): Promise<ApiClient> {
  const known = clients.get(username);
  if (known !== undefined) return known;
  const client = await ApiClient.signIn(platform.url, username);
  clients.set(username, client);
  return client;
}
const apiKey = "sk_live_9f8e7d6c5b4a39281706";

beforeAll(async () => {
  platform = await startPlatform(testConfig({ seed: 53, feed: true, feedEnv: { INGESTOR_FEED: "simulated", INGESTOR_SIM_RATE: "50" } }));
});

afterAll(async () => {
  await platform.close();
});

describe("dead letters never hold a credential", () => {
  it("redacts credential-like fields of a refused record before keeping, logging or writing it", () => {
    const logged: string[] = [];
    const store = new DeadLetterStore({ kept: 10, logger: { warn: (_m: string, f?: Record<string, unknown>) => logged.push(JSON.stringify(f)), error: () => undefined, info: () => undefined } });
    store.add("vendor-ws", "malformed", { type: "error", message: "subscription refused", apiKey, headers: { "x-api-key": apiKey } }, 1);
    store.add("vendor-http", "malformed", `GET /ticks?symbol=SAP&api_key=${apiKey} 401`, 2);
    store.add("vendor-ws", "unknown_kind", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", 3);
    const kept = JSON.stringify(store.newest(10));
    expect(kept).not.toContain(apiKey);
    expect(kept).not.toContain("eyJhbGciOiJIUzI1NiJ9");
    expect(kept).toContain("[redacted]");
    expect(logged.join("\n")).not.toContain(apiKey);
  });

  it("redacts a configured secret wherever it appears, also where truncation would cut it", () => {
    const store = new DeadLetterStore({ kept: 10, secrets: [apiKey] });
    store.add("vendor-ws", "malformed", `vendor said: your key ${apiKey} is wrong`, 1);
    const straddling = `${"x".repeat(deadLetterRawCharsMax - 10)}${apiKey}`;
    store.add("vendor-ws", "malformed", straddling, 2);
    const kept = store.newest(10).map((letter) => letter.raw);
    expect(kept.join("\n")).not.toContain(apiKey);
    expect(kept.join("\n")).not.toContain(apiKey.slice(0, 10));
    expect(kept.every((raw) => raw.length <= deadLetterRawCharsMax)).toBe(true);
  });

  it("serves dead letters redacted, and only to SRE and admins", async () => {
    platform.ingestor?.ingest(0, { type: "trade", symbol: "SAP", price: "1", apiKey });
    for (const username of ["trader1", "compliance1", "auditor1", "support1"]) {
      const response = await (await as(username)).get("/api/v1/feed/dead-letters");
      expect(response.status, username).toBe(403);
      expect(response.body, username).toMatchObject({ error: { code: "forbidden" } });
    }
    for (const username of ["sre1", "admin1"]) {
      const response = await (await as(username)).get<{ items: Array<{ raw: string }> }>("/api/v1/feed/dead-letters?limit=1000");
      expect(response.status, username).toBe(200);
      expect(JSON.stringify(response.body)).not.toContain(apiKey);
    }
  });
});

describe("feed status", () => {
  it("shows the public only whether sources are up and which instruments are stale; details go to SRE and admins", async () => {
    const publicStatus = await new ApiClient(platform.url).get<{ sources: Array<Record<string, unknown>>; instruments: Array<Record<string, unknown>> }>("/api/v1/feed/status");
    expect(publicStatus.status).toBe(200);
    expect(publicStatus.body.sources.length).toBeGreaterThan(0);
    for (const source of publicStatus.body.sources) expect(Object.keys(source).sort()).toEqual(["source", "state"]);
    for (const instrument of publicStatus.body.instruments) expect(Object.keys(instrument).sort()).toEqual(["haltedByFeed", "lastUpdateUs", "stale", "symbol"]);
    expect(Object.keys(publicStatus.body).sort()).toEqual(["instruments", "sources"]);
    expect((await new ApiClient(platform.url).get("/api/v1/ops/feed")).status).toBe(401);
    for (const username of ["trader1", "compliance1", "auditor1", "support1"]) {
      const response = await (await as(username)).get("/api/v1/ops/feed");
      expect(response.status, username).toBe(403);
    }
    for (const username of ["sre1", "admin1"]) {
      const response = await (await as(username)).get<{ sources: Array<Record<string, unknown>>; deadLetters: { total: number } }>("/api/v1/ops/feed");
      expect(response.status, username).toBe(200);
      expect(response.body.sources[0]).toHaveProperty("lastError");
      expect(response.body.sources[0]).toHaveProperty("reconnects");
      expect(typeof response.body.deadLetters.total).toBe("number");
    }
  });
});

describe("feed input validation", () => {
  it("refuses bad symbols, intervals, limits and unknown fields with a 400 in the one shape", async () => {
    const anonymous = new ApiClient(platform.url);
    const sre = await as("sre1");
    const cases: Array<[ApiClient, string]> = [
      [anonymous, `/api/v1/feed/markets/${"A".repeat(17)}/ticker`],
      [anonymous, "/api/v1/feed/markets/SAP%3Cscript%3E/ticker"],
      [anonymous, "/api/v1/feed/markets/SAP/candles?interval=7m"],
      [anonymous, "/api/v1/feed/markets/SAP/candles?limit=0"],
      [anonymous, "/api/v1/feed/markets/SAP/candles?limit=1501"],
      [anonymous, "/api/v1/feed/markets/SAP/candles?from=yesterday"],
      [anonymous, "/api/v1/feed/markets/SAP/candles?evil=1"],
      [sre, "/api/v1/feed/dead-letters?limit=0"],
      [sre, "/api/v1/feed/dead-letters?limit=1001"],
      [sre, "/api/v1/feed/dead-letters?limit=abc"],
    ];
    for (const [client, path] of cases) {
      const response = await client.get(path);
      expect(response.status, path).toBe(400);
      expect(response.body, path).toMatchObject({ error: { code: "validation_failed", message: expect.any(String) as unknown } });
    }
    expect((await sre.get("/api/v1/feed/dead-letters?limit=1000")).status).toBe(200);
    expect((await anonymous.get("/api/v1/feed/markets/SAP/candles?limit=1500")).status).toBe(200);
  });

  it("refuses a bad symbol on the feed channels without echoing it", async () => {
    const socket = new WebSocket(`${platform.url.replace(/^http/, "ws")}/ws`);
    const messages: Array<Record<string, unknown>> = [];
    socket.on("message", (data: WebSocket.RawData) => messages.push(JSON.parse(rawText(data)) as Record<string, unknown>));
    await new Promise((resolve) => socket.once("open", resolve));
    const evil = `<img src=x onerror=alert(1)>${"Z".repeat(4000)}`;
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_ticker", symbol: evil, id: 1 }));
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_candles", symbol: "SAP", interval: "7m", id: 2 }));
    socket.send(JSON.stringify({ op: "subscribe", channel: "feed_candles", symbol: 42, interval: "1m", id: 3 }));
    const deadline = Date.now() + 5_000;
    while (messages.filter((m) => m.type === "error").length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.close();
    const errors = messages.filter((m) => m.type === "error");
    expect(errors.map((m) => m.id)).toEqual([1, 2, 3]);
    for (const error of errors) expect(error).toMatchObject({ error: { code: "validation_failed" } });
    expect(JSON.stringify(errors)).not.toContain("onerror");
  });
});
