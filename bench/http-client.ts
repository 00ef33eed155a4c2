// A small HTTP/1.1 keep-alive client for the e2e load generator. Node's `http.request`
// with an Agent spent ≈ 120 µs of the load generator's CPU per REST order at the maximum
// (docs/BENCHMARKS.md, sixth round): on a 2-core machine shared with the server, that CPU
// came out of the server's. This client writes each request as one string and reads each
// answer's status and `content-length` body straight from the socket's bytes: one request
// in flight per connection (no pipelining), requests queued while every connection is
// busy, a connection the server closes (or says it will close) replaced by a new one. It is a benchmark tool, not
// a general client: answers must carry `content-length` (as the gateway's do), anything
// else fails that request.

import { connect, type Socket } from "node:net";

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

export type HttpDone = (error: Error | null, answer: HttpAnswer | null) => void;

interface Pending {
  readonly head: string;
  readonly body: string | undefined;
  readonly done: HttpDone;
}

const headerEnd = Buffer.from("\r\n\r\n", "latin1");

class Connection {
  #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);
  #current: Pending | null = null;
  #closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onIdle: (connection: Connection) => void,
  ) {
    this.#socket = this.#open();
  }

  get busy(): boolean {
    return this.#current !== null;
  }

  send(pending: Pending): void {
    this.#current = pending;
    this.#socket.write(pending.body === undefined ? pending.head : pending.head + pending.body);
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #open(): Socket {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    const lost = (): void => this.#lost(socket);
    socket.on("error", lost);
    socket.on("close", lost);
    return socket;
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = this.#buffered.indexOf(headerEnd);
    if (end < 0) return;
    const head = this.#buffered.toString("latin1", 0, end).toLowerCase();
    const status = Number(head.slice(9, 12));
    const at = head.indexOf("\r\ncontent-length:");
    if (!head.startsWith("http/1.1 ") || !Number.isInteger(status) || at < 0) {
      // An answer this client cannot read: the request fails and a new connection replaces this one.
      this.#replace(new Error(`unsupported answer: ${head.split("\r\n", 1)[0] ?? ""} without content-length`));
      return;
    }
    const lineEnd = head.indexOf("\r\n", at + 2);
    const length = Number(head.slice(at + 17, lineEnd < 0 ? head.length : lineEnd).trim());
    const bodyStart = end + headerEnd.length;
    if (this.#buffered.length < bodyStart + length) return;
    const body = this.#buffered.subarray(bodyStart, bodyStart + length);
    this.#buffered = this.#buffered.subarray(bodyStart + length);
    const current = this.#current;
    this.#current = null;
    // The server will close this connection: the next request goes on a new one.
    if (head.includes("\r\nconnection: close")) this.#replace(null);
    current?.done(null, { status, body });
    this.onIdle(this);
  }

  /** The server closed the connection (or it failed): the request on it fails, a new connection takes its place. */
  #lost(socket: Socket): void {
    if (socket !== this.#socket || this.#closed) return;
    this.#replace(new Error("connection closed before the answer"));
  }

  /** A new connection in place of this one; the request in flight on it, if any, fails with `error`. */
  #replace(error: Error | null): void {
    const old = this.#socket;
    const current = this.#current;
    this.#current = null;
    this.#buffered = Buffer.alloc(0);
    this.#socket = this.#open();
    old.destroy();
    if (error === null) return;
    current?.done(error, null);
    this.onIdle(this);
  }
}

/** Up to `connections` keep-alive connections to one server; requests beyond them wait in order. */
export class KeepAliveHttpClient {
  readonly #connections: Connection[];
  readonly #queue: Pending[] = [];
  #queueHead = 0;
  #closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    connections: number,
  ) {
    this.#connections = Array.from({ length: connections }, () => new Connection(host, port, (connection) => this.#next(connection)));
  }

  /** `headers` are extra header lines, each ending in CRLF (e.g. "authorization: Bearer …\r\n"). */
  request(method: string, path: string, headers: string, body: string | undefined, done: HttpDone): void {
    const length = body === undefined ? "" : `content-type: application/json\r\ncontent-length: ${String(Buffer.byteLength(body))}\r\n`;
    const pending: Pending = { head: `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${String(this.port)}\r\n${headers}${length}\r\n`, body, done };
    const idle = this.#connections.find((connection) => !connection.busy);
    if (idle !== undefined) idle.send(pending);
    else this.#queue.push(pending);
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#connections) connection.close();
  }

  #next(connection: Connection): void {
    if (this.#closed || connection.busy) return;
    const pending = this.#queue[this.#queueHead];
    if (pending === undefined) return;
    this.#queueHead += 1;
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    connection.send(pending);
  }
}
