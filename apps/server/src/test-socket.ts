/**
 * A WebSocket client for tests: every message parsed and kept, and `next(match)` resolving with
 * the first kept or later message that matches.
 */
import WebSocket from "ws";
import { rawText } from "@tradestream/gateway";

export type Message = Record<string, unknown>;

export interface TestSocket {
  readonly next: (match: (message: Message) => boolean) => Promise<Message>;
  readonly send: (message: Message | string) => void;
  readonly close: () => void;
}

/** Opens `/ws` on the platform at `baseUrl` and resolves once the connection is open. */
export async function openTestSocket(baseUrl: string): Promise<TestSocket> {
  const socket = new WebSocket(`${baseUrl.replace("http", "ws")}/ws`);
  const messages: Message[] = [];
  const waiters: Array<{ match: (message: Message) => boolean; resolve: (message: Message) => void }> = [];
  socket.on("message", (data: WebSocket.RawData) => {
    const message = JSON.parse(rawText(data)) as Message;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise((resolve) => socket.once("open", resolve));
  return {
    next: (match) => {
      const found = messages.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    send: (message) => socket.send(typeof message === "string" ? message : JSON.stringify(message)),
    close: () => socket.close(),
  };
}
