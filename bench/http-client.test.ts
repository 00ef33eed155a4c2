import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { KeepAliveHttpClient, type HttpAnswer } from "./http-client.ts";

let server: Server | null = null;
let client: KeepAliveHttpClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  const open = server;
  server = null;
  if (open !== null) {
    open.closeAllConnections();
    await new Promise<void>((resolve) => open.close(() => resolve()));
  }
});

/** A server that echoes method, path, authorization and body as JSON; `/chunked` answers without content-length, `/close` closes after answering. */
async function start(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      const text = JSON.stringify({ method: request.method, path: request.url, authorization: request.headers.authorization ?? null, body });
      if (request.url === "/chunked") {
        response.writeHead(200, { "content-type": "application/json" });
        response.write(text);
        response.end();
        return;
      }
      const status = request.url === "/missing" ? 404 : 201;
      response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...(request.url === "/close" ? { connection: "close" } : {}) });
      response.end(text);
    });
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function ask(http: KeepAliveHttpClient, method: string, path: string, body?: string): Promise<{ error: Error | null; answer: HttpAnswer | null }> {
  return new Promise((resolve) => http.request(method, path, "authorization: Bearer t0k3n\r\n", body, (error, answer) => resolve({ error, answer })));
}

describe("KeepAliveHttpClient (the e2e load generator's REST client)", () => {
  it("sends method, path, headers and body, and reads status and body; more requests than connections wait their turn", async () => {
    const { port, connections } = await start();
    client = new KeepAliveHttpClient("127.0.0.1", port, 2);
    const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => ask(client as KeepAliveHttpClient, i % 2 === 0 ? "POST" : "DELETE", `/orders/${String(i)}`, i % 2 === 0 ? `{"n":${String(i)},"text":"é"}` : undefined)));
    answers.forEach(({ error, answer }, i) => {
      expect(error).toBeNull();
      expect(answer?.status).toBe(201);
      expect(JSON.parse(answer?.body.toString() ?? "null")).toEqual({
        method: i % 2 === 0 ? "POST" : "DELETE",
        path: `/orders/${String(i)}`,
        authorization: "Bearer t0k3n",
        body: i % 2 === 0 ? `{"n":${String(i)},"text":"é"}` : "",
      });
    });
    // Keep-alive: 25 requests over the 2 connections it opened.
    expect(connections()).toBe(2);
    expect((await ask(client, "GET", "/missing")).answer?.status).toBe(404);
  });

  it("replaces a connection the server closes, and fails an answer it cannot frame", async () => {
    const { port, connections } = await start();
    client = new KeepAliveHttpClient("127.0.0.1", port, 1);
    expect((await ask(client, "GET", "/close")).answer?.status).toBe(201);
    expect((await ask(client, "GET", "/after")).answer?.status).toBe(201);
    expect(connections()).toBe(2);
    const chunked = await ask(client, "GET", "/chunked");
    expect(chunked.answer).toBeNull();
    expect(chunked.error?.message).toMatch(/without content-length/);
    expect((await ask(client, "GET", "/again")).answer?.status).toBe(201);
  });
});
