// A small WebSocket client for the e2e fan-out phase's market-data subscribers (RFC 6455,
// client side, no extensions). The phase holds 10,000 of them in the load generator, and
// what each spends per message is CPU the server does not get on a 2-core machine; the
// fan-out floor's receiver (bench/fanout-floor.ts) reads bare bytes, so the same light
// touch on this side makes the two comparable. It upgrades with a checked
// Sec-WebSocket-Accept, hands every text or binary message to `onMessage` as the raw
// payload bytes (not decoded: a subscriber looks at the first bytes only), answers pings
// with pongs (the gateway disconnects peers that stop answering), reassembles
// fragmented messages, and masks what it sends, as a client must.

import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const acceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const headerEnd = Buffer.from("\r\n\r\n", "latin1");

export class WsSubscriber {
  /** Every complete text or binary message's payload (a view into the socket's bytes: copy it to keep it). */
  onMessage: (payload: Buffer) => void = () => undefined;
  /** The connection ended (closed by either side, or failed). */
  onClose: () => void = () => undefined;

  #buffered: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #closed = false;

  private constructor(private readonly socket: Socket) {}

  /** Opens `ws://host:port{path}`; resolves once the server has accepted the upgrade. */
  static connect(host: string, port: number, path: string): Promise<WsSubscriber> {
    const key = randomBytes(16).toString("base64");
    const expected = createHash("sha1").update(key + acceptGuid).digest("base64");
    const socket = connect(port, host);
    socket.setNoDelay(true);
    const subscriber = new WsSubscriber(socket);
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const fail = (error: Error): void => {
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(headerEnd);
        if (end < 0) return;
        socket.off("data", onData);
        socket.off("error", fail);
        const text = head.toString("latin1", 0, end);
        const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text)?.[1];
        if (!text.startsWith("HTTP/1.1 101") || accept !== expected) {
          fail(new Error(`WebSocket upgrade refused: ${text.split("\r\n", 1)[0] ?? ""}`));
          return;
        }
        socket.on("data", (data: Buffer) => subscriber.#onData(data));
        socket.on("error", () => subscriber.#end());
        socket.on("close", () => subscriber.#end());
        resolve(subscriber);
        const rest = head.subarray(end + headerEnd.length);
        if (rest.length > 0) subscriber.#onData(rest);
      };
      socket.on("data", onData);
      socket.on("error", fail);
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: ${host}:${String(port)}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
          `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
      );
    });
  }

  /** Sends one text message. */
  send(text: string): void {
    this.#sendFrame(0x1, Buffer.from(text, "utf8"));
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  #sendFrame(opcode: number, payload: Buffer): void {
    if (this.#closed) return;
    const length = payload.length;
    const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
    const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + length);
    frame[0] = 0x80 | opcode;
    if (lengthBytes === 0) frame[1] = 0x80 | length;
    else if (lengthBytes === 2) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const maskAt = 2 + lengthBytes;
    randomBytes(4).copy(frame, maskAt);
    for (let i = 0; i < length; i += 1) frame[maskAt + 4 + i] = (payload[i] as number) ^ (frame[maskAt + (i & 3)] as number);
    this.socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    let data = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    let at = 0;
    for (;;) {
      if (data.length - at < 2) break;
      const first = data[at] as number;
      const second = data[at + 1] as number;
      if ((second & 0x80) !== 0) {
        // A server must not mask its frames (RFC 6455 5.1).
        this.terminate();
        return;
      }
      let length = second & 0x7f;
      let headerBytes = 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        headerBytes = 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        headerBytes = 10;
      }
      if (data.length - at < headerBytes + length) break;
      const payload = data.subarray(at + headerBytes, at + headerBytes + length);
      at += headerBytes + length;
      this.#frame(first & 0x80, first & 0x0f, payload);
      if (this.#closed) return;
    }
    data = data.subarray(at);
    this.#buffered = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
  }

  #frame(fin: number, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0: // continuation
      case 0x1: // text
      case 0x2: // binary
        if (fin === 0) {
          this.#fragments.push(Buffer.from(payload));
          return;
        }
        if (this.#fragments.length > 0) {
          const whole = Buffer.concat([...this.#fragments, payload]);
          this.#fragments = [];
          this.onMessage(whole);
          return;
        }
        this.onMessage(payload);
        return;
      case 0x8: // close
        this.#sendFrame(0x8, Buffer.from(payload.subarray(0, 2)));
        this.socket.end();
        this.#end();
        return;
      case 0x9: // ping: answer with the same payload
        this.#sendFrame(0xa, Buffer.from(payload));
        return;
      default: // pong and reserved opcodes: nothing to do
        return;
    }
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
  }
}
