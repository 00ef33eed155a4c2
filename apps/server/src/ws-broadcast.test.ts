/**
 * Broadcasts to many WebSocket subscribers: above a few dozen subscribers the hub
 * queues frames and writes them in slices (one write per client, whatever was
 * queued for it meanwhile). Every subscriber must still see every message once, in
 * order, and a direct reply must never overtake a queued broadcast; pings and
 * heartbeats go the same way and keep live clients connected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { defaultGatewayConfig, rawText } from "@tradestream/gateway";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig, until } from "./test-platform.ts";

/** Well above the hub's threshold for queued broadcasts (64), so that one broadcast takes several slices. */
const subscriberCount = 1_000;
/**
 * Short, so that the heartbeat tests take seconds, but not so short that a busy machine
 * delays the thousand clients' pongs (they share the server's event loop here) past one
 * interval: then the hub rightly ends them, and every later check fails.
 */
const heartbeatMs = 750;

interface Message {
  readonly type: string;
  readonly channel?: string;
  readonly seq?: number;
  readonly tradeId?: number;
  readonly id?: number;
}

interface Subscriber {
  readonly socket: WebSocket;
  readonly messages: Message[];
  closed: boolean;
}

let platform: Platform;
let seller: ApiClient;
let buyer: ApiClient;
const subscribers: Subscriber[] = [];


async function subscriber(): Promise<Subscriber> {
  const socket = new WebSocket(`${platform.url.replace("http", "ws")}/ws`);
  const entry: Subscriber = { socket, messages: [], closed: false };
  socket.on("message", (data: WebSocket.RawData) => entry.messages.push(JSON.parse(rawText(data)) as Message));
  socket.on("close", () => {
    entry.closed = true;
  });
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ op: "subscribe", channel: "book", symbol: "SAP", depth: 5 }));
  socket.send(JSON.stringify({ op: "subscribe", channel: "trades", symbol: "SAP" }));
  return entry;
}

beforeAll(async () => {
  platform = await startPlatform(testConfig({ seed: 17, gateway: { ws: { ...defaultGatewayConfig.ws, heartbeatMs } } }));
  seller = await ApiClient.signIn(platform.url, "trader1");
  buyer = await ApiClient.signIn(platform.url, "trader2");
  for (let i = 0; i < subscriberCount; i += 1) subscribers.push(await subscriber());
  await until(() => subscribers.every((s) => s.messages.some((m) => m.type === "snapshot") && s.messages.some((m) => m.type === "subscribed" && m.channel === "trades")), "every subscription");
}, 60_000);

afterAll(async () => {
  for (const s of subscribers) s.socket.terminate();
  await platform.close();
});

async function openConnections(): Promise<number> {
  const text = await (await fetch(`${platform.url}/metrics`)).text();
  return Number(/^tradestream_ws_connections (\d+)$/m.exec(text)?.[1] ?? "NaN");
}

/** Book messages from the last snapshot on: the deltas must continue its sequence without a gap or a step back. */
function bookSequence(messages: readonly Message[]): number[] {
  const book = messages.filter((m) => m.channel === "book" && (m.type === "snapshot" || m.type === "delta"));
  const sequences: number[] = [];
  for (const message of book) {
    if (message.type === "snapshot") sequences.length = 0;
    sequences.push(message.seq ?? -1);
  }
  return sequences;
}

describe("broadcast to many subscribers", () => {
  it("delivers every book delta and trade to every subscriber, in order, even when replies interleave", async () => {
    const trades = 5;
    for (let i = 0; i < trades; i += 1) {
      const sell = await seller.post("/api/v1/orders", { symbol: "SAP", side: "sell", type: "limit", price: "230.00", quantity: "1", clientOrderId: `bc-s-${String(i)}` });
      expect(sell.status).toBe(201);
      // The last subscribers (written last) ask for something while the broadcast to them is likely still queued: replies must not overtake it.
      for (const s of subscribers.slice(-20)) s.socket.send(JSON.stringify({ op: "ping", id: i }));
      const buy = await buyer.post("/api/v1/orders", { symbol: "SAP", side: "buy", type: "limit", timeInForce: "IOC", price: "230.00", quantity: "1", clientOrderId: `bc-b-${String(i)}` });
      expect(buy.status).toBe(201);
    }
    await until(() => subscribers.every((s) => s.messages.filter((m) => m.type === "trade").length === trades), "every trade at every subscriber");
    const reference = subscribers[0]?.messages.filter((m) => m.type === "trade").map((m) => m.tradeId) ?? [];
    expect(new Set(reference).size).toBe(trades);
    const referenceBook = bookSequence(subscribers[0]?.messages ?? []);
    // A sell that rests and a buy that takes it: at least two book changes per trade.
    expect(referenceBook.length).toBeGreaterThanOrEqual(1 + 2 * trades);
    for (const s of subscribers) {
      expect(s.messages.filter((m) => m.type === "trade").map((m) => m.tradeId)).toEqual(reference);
      const sequence = bookSequence(s.messages);
      for (let i = 1; i < sequence.length; i += 1) expect(sequence[i]).toBe((sequence[0] ?? 0) + i);
      expect(sequence.at(-1)).toBe(referenceBook.at(-1));
    }
    // Right after a broadcast, the last subscribers ask for a fresh snapshot while deltas are likely still queued for them: nothing older may follow it.
    for (let i = 0; i < 3; i += 1) {
      const sell = await seller.post("/api/v1/orders", { symbol: "SAP", side: "sell", type: "limit", price: `231.0${String(i)}`, quantity: "1", clientOrderId: `bc-s-last-${String(i)}` });
      expect(sell.status).toBe(201);
      for (const s of subscribers.slice(-20)) s.socket.send(JSON.stringify({ op: "subscribe", channel: "book", symbol: "SAP", depth: 5 }));
    }
    await until(() => subscribers.every((s) => bookSequence(s.messages).at(-1) === (referenceBook.at(-1) ?? 0) + 3), "the last delta everywhere");
    for (const s of subscribers.slice(-20)) {
      const sequence = bookSequence(s.messages);
      for (let i = 1; i < sequence.length; i += 1) expect(sequence[i]).toBe((sequence[0] ?? 0) + i);
    }
  });

  it("pings and sends heartbeats to every client; clients that answer stay connected", async () => {
    const before = subscribers.map((s) => s.messages.filter((m) => m.type === "heartbeat").length);
    await new Promise((resolve) => setTimeout(resolve, heartbeatMs * 4));
    subscribers.forEach((s, i) => {
      expect(s.messages.filter((m) => m.type === "heartbeat").length).toBeGreaterThanOrEqual((before[i] ?? 0) + 2);
      expect(s.closed).toBe(false);
    });
  });

  it("ends a connection that stops answering pings", async () => {
    const silent = await subscriber();
    expect(await openConnections()).toBe(subscriberCount + 1);
    // A client that never answers: the ws library answers pings by itself unless its socket stops reading.
    (silent.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(async () => (await openConnections()) <= subscriberCount, "the silent connection to be ended", heartbeatMs * 10, 50);
    expect(await openConnections()).toBe(subscriberCount);
    silent.socket.terminate();
  });
});
