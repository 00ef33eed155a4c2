import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { WsSubscriber } from "./ws-subscriber.ts";

let wss: WebSocketServer | null = null;
let plain: Server | null = null;

afterEach(async () => {
  if (wss !== null) {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss?.close(() => resolve()));
    wss = null;
  }
  if (plain !== null) {
    plain.closeAllConnections();
    await new Promise<void>((resolve) => plain?.close(() => resolve()));
    plain = null;
  }
});

async function startWs(): Promise<{ port: number; connected: Promise<WebSocket> }> {
  let accept: (socket: WebSocket) => void = () => undefined;
  const connected = new Promise<WebSocket>((resolve) => (accept = resolve));
  wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
  wss.on("connection", (socket) => accept(socket));
  await new Promise<void>((resolve) => wss?.once("listening", () => resolve()));
  return { port: (wss.address() as AddressInfo).port, connected };
}

function nextMessages(subscriber: WsSubscriber, count: number): Promise<string[]> {
  const texts: string[] = [];
  return new Promise((resolve) => {
    subscriber.onMessage = (payload) => {
      texts.push(payload.toString("utf8"));
      if (texts.length === count) resolve(texts);
    };
  });
}

describe("WsSubscriber (the e2e fan-out phase's WebSocket client)", () => {
  it("receives messages of every length class and fragmented ones, sends masked text, answers pings", async () => {
    const { port, connected } = await startWs();
    const subscriber = await WsSubscriber.connect("127.0.0.1", port, "/ws");
    const server = await connected;
    const received = new Promise<string>((resolve) => server.once("message", (data: Buffer) => resolve(data.toString("utf8"))));
    subscriber.send('{"op":"subscribe","channel":"trades","symbol":"SAP","note":"é"}');
    expect(await received).toBe('{"op":"subscribe","channel":"trades","symbol":"SAP","note":"é"}');

    const long = "x".repeat(300);
    const huge = "y".repeat(70_000);
    const messages = nextMessages(subscriber, 4);
    server.send('{"type":"trade","tradeId":7}');
    server.send(long);
    server.send(huge);
    // One message in three frames.
    server.send("frag", { fin: false });
    server.send("ment", { fin: false });
    server.send("ed", { fin: true });
    expect(await messages).toEqual(['{"type":"trade","tradeId":7}', long, huge, "fragmented"]);

    const pong = new Promise<string>((resolve) => server.once("pong", (data) => resolve(data.toString())));
    server.ping("are-you-there");
    expect(await pong).toBe("are-you-there");

    const closed = new Promise<void>((resolve) => (subscriber.onClose = resolve));
    server.close(1000);
    await closed;
  });

  it("refuses a server that does not upgrade", async () => {
    plain = createServer((_request, response) => response.end("no"));
    await new Promise<void>((resolve) => plain?.listen(0, "127.0.0.1", resolve));
    await expect(WsSubscriber.connect("127.0.0.1", (plain.address() as AddressInfo).port, "/ws")).rejects.toThrow(/upgrade refused: HTTP\/1.1 200/);
  });
});
