/**
 * Edges of the gateway that need their own configuration: CORS, TLS, and
 * WebSocket clients that stop reading (conflated, then disconnected — memory per
 * client stays bounded).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultGatewayConfig } from "@tradestream/gateway";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform, type PlatformConfig } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

const base: PlatformConfig = testConfig({ seed: 5 });
const scratch = mkdtempSync(join(tmpdir(), "tradestream-edge-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface BookMessage {
  readonly type: string;
  readonly channel?: string;
  readonly seq: number;
  readonly bids?: unknown[];
}

/** A WebSocket client on a bare TCP socket: it sends frames and reads only when told to (the ws library resumes a paused socket by itself). */
async function rawClient(url: string): Promise<{ socket: Socket; send(text: string): void; read(onMessage: (message: BookMessage) => void): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  socket.write(`GET /ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let pending = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
  const end = pending.indexOf("\r\n\r\n");
  expect(pending.subarray(0, 12).toString("latin1")).toBe("HTTP/1.1 101");
  pending = pending.subarray(end + 4);
  socket.pause();
  /** Client frames are masked. */
  const frame = (first: number, payload: Buffer): void => {
    const mask = randomBytes(4);
    const length = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
    socket.write(Buffer.concat([Buffer.from([first]), length, mask, masked]));
  };
  return {
    socket,
    send(text: string) {
      frame(0x81, Buffer.from(text));
    },
    read(onMessage) {
      const drain = (): void => {
        // Server frames are unmasked: 0x81, length (7, 16 or 64 bits), payload.
        for (;;) {
          if (pending.length < 2) return;
          const short = (pending[1] ?? 0) & 0x7f;
          const header = short === 126 ? 4 : short === 127 ? 10 : 2;
          if (pending.length < header) return;
          const length = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short;
          if (pending.length < header + length) return;
          const opcode = (pending[0] ?? 0) & 0x0f;
          const payload = pending.subarray(header, header + length);
          pending = pending.subarray(header + length);
          if (opcode === 0x9) frame(0x8a, payload); // answer pings like a live client
          else if (opcode === 0x1) onMessage(JSON.parse(payload.toString("utf8")) as BookMessage);
        }
      };
      socket.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        drain();
      });
      drain();
      socket.resume();
    },
  };
}

async function metric(platform: Platform, line: RegExp): Promise<number> {
  const text = await (await fetch(`${platform.url}/metrics`)).text();
  const match = line.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Puts `levels` one-lot bids on SAP (one price level each). */
async function fillBook(trader: ApiClient, levels: number, from = 22_000): Promise<void> {
  for (let i = 0; i < levels; i += 1) {
    const ticks = from + i;
    const response = await trader.post("/api/v1/orders", { symbol: "SAP", side: "buy", type: "limit", price: `${String(Math.floor(ticks / 100))}.${String(ticks % 100).padStart(2, "0")}`, quantity: "1", clientOrderId: `lvl-${String(ticks)}` });
    expect(response.status).toBe(201);
  }
}

describe("CORS", () => {
  it("answers preflights for configured origins only", async () => {
    const platform = await startPlatform({ ...base, gateway: { corsOrigins: ["https://desk.example"] } });
    try {
      const allowed = await fetch(`${platform.url}/api/v1/orders`, { method: "OPTIONS", headers: { origin: "https://desk.example", "access-control-request-method": "POST" } });
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://desk.example");
      expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
      const other = await fetch(`${platform.url}/api/v1/markets`, { headers: { origin: "https://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      const simple = await fetch(`${platform.url}/api/v1/markets`, { headers: { origin: "https://desk.example" } });
      expect(simple.headers.get("access-control-allow-origin")).toBe("https://desk.example");
    } finally {
      await platform.close();
    }
  });
});

describe("TLS", () => {
  it("serves HTTPS with HSTS when given a certificate and key", async () => {
    const key = join(scratch, "key.pem");
    const cert = join(scratch, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const platform = await startPlatform({ ...base, gateway: { tls: { cert: readFileSync(cert), key: readFileSync(key) } } });
    try {
      expect(platform.url.startsWith("https://")).toBe(true);
      const { status, hsts } = await new Promise<{ status: number; hsts: string | undefined }>((resolve, reject) => {
        const request = httpsRequest(`${platform.url}/health`, { ca: readFileSync(cert) }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, hsts: response.headers["strict-transport-security"] });
        });
        request.on("error", reject);
        request.end();
      });
      expect(status).toBe(200);
      expect(hsts).toContain("max-age=");
    } finally {
      await platform.close();
    }
  });
});

describe("slow WebSocket consumers", () => {
  it("disconnects a client that keeps asking and never reads, and stays healthy", async () => {
    const platform = await startPlatform({ ...base, gateway: { ws: { ...defaultGatewayConfig.ws, conflateBytes: 64 * 1024, disconnectBytes: 1024 * 1024 } } });
    try {
      const trader = await ApiClient.signIn(platform.url, "trader1");
      await fillBook(trader, 200);
      const slow = await rawClient(platform.url);
      for (let i = 0; i < 3_000; i += 1) slow.send(JSON.stringify({ op: "subscribe", channel: "book", symbol: "SAP", depth: 1000 }));
      const disconnected = /tradestream_ws_slow_consumers_total\{action="disconnected"\} (\d+)/;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (await metric(platform, disconnected)) === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await metric(platform, disconnected)).toBe(1);
      expect(await metric(platform, /tradestream_ws_connections (\d+)/)).toBe(0);
      expect((await fetch(`${platform.url}/health`)).status).toBe(200);
      slow.socket.destroy();
    } finally {
      await platform.close();
    }
  });

  it("conflates book deltas for a client that falls behind, then re-sends a fresh snapshot", async () => {
    const platform = await startPlatform({ ...base, gateway: { ws: { ...defaultGatewayConfig.ws, heartbeatMs: 3_000, conflateBytes: 64 * 1024, disconnectBytes: 256 * 1024 * 1024 } } });
    try {
      const trader = await ApiClient.signIn(platform.url, "trader1");
      await fillBook(trader, 200);
      const slow = await rawClient(platform.url);
      // Ask for many snapshots without reading them, so the server's send buffer for this client grows past the conflation mark.
      for (let i = 0; i < 3_000; i += 1) slow.send(JSON.stringify({ op: "subscribe", channel: "book", symbol: "SAP", depth: 1000 }));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await fillBook(trader, 20, 22_500);
      const seqAfter = (await trader.get<{ seq: number }>("/api/v1/markets/SAP/book")).body.seq;
      expect(await metric(platform, /tradestream_ws_slow_consumers_total\{action="conflated"\} (\d+)/)).toBeGreaterThanOrEqual(1);
      const books: BookMessage[] = [];
      slow.read((message) => {
        if (message.channel === "book") books.push(message);
      });
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(books.at(-1)?.type === "snapshot" && books.at(-1)?.seq === seqAfter)) await new Promise((resolve) => setTimeout(resolve, 100));
      const last = books.at(-1);
      expect(last?.type).toBe("snapshot");
      expect(last?.seq).toBe(seqAfter);
      expect(last?.bids).toHaveLength(220);
      // Some of the 20 deltas were dropped (conflated), not delivered one by one.
      expect(books.filter((m) => m.type === "delta").length).toBeLessThan(20);
      slow.socket.destroy();
    } finally {
      await platform.close();
    }
  });
});
