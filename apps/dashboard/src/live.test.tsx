// @vitest-environment jsdom
/** The live feed: authenticates first, resubscribes everything after a drop (private channels only once signed in), and asks for a fresh book on a gap. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveFeed } from "./live.ts";
import { Store } from "./store.ts";
import { FakeSocket } from "./test-support.ts";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  FakeSocket.all = [];
});

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe("live feed", () => {
  it("reconnects with back-off and sends every subscription again, private ones after the sign-in", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    const store = new Store(500);
    const feed = new LiveFeed("ws://platform/ws", store, () => Promise.resolve("token"));
    feed.subscribe({ channel: "book", symbol: "SAP", depth: 50 });
    feed.subscribe({ channel: "orders" });
    feed.start();
    const first = FakeSocket.all[0];
    if (first === undefined) throw new Error("no socket");
    first.open();
    await flush();
    expect(first.ops()).toEqual(["subscribe:book", "auth:"]);
    first.receive({ type: "authenticated" });
    expect(first.ops()).toEqual(["subscribe:book", "auth:", "subscribe:orders"]);
    expect(store.connection).toBe("live");

    first.close();
    expect(store.connection).toBe("reconnecting");
    vi.advanceTimersByTime(10_000);
    const second = FakeSocket.all[1];
    if (second === undefined) throw new Error("no reconnection");
    second.open();
    await flush();
    second.receive({ type: "authenticated" });
    expect(second.ops()).toEqual(["subscribe:book", "auth:", "subscribe:orders"]);
    expect(store.connection).toBe("live");
    expect(feed.reconnects).toBe(1);
    feed.stop();
    expect(store.connection).toBe("offline");
  });

  it("asks for a renewed token after the server refused the token or revoked the connection's credentials", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    const asked: boolean[] = [];
    const feed = new LiveFeed("ws://platform/ws", new Store(500), (renew) => {
      asked.push(renew);
      return Promise.resolve("token");
    });
    feed.subscribe({ channel: "orders" });
    feed.start();
    const connectAndSignIn = async (index: number): Promise<FakeSocket> => {
      vi.advanceTimersByTime(10_000);
      const socket = FakeSocket.all[index];
      if (socket === undefined) throw new Error(`no socket ${String(index)}`);
      socket.open();
      await flush();
      return socket;
    };
    const first = await connectAndSignIn(0);
    first.receive({ type: "authenticated" });
    // Credentials revoked (logout elsewhere, user disabled): the server closes with 4401.
    first.close(4401);
    const second = await connectAndSignIn(1);
    // The renewed token is refused too, as an error on the auth message.
    second.receive({ type: "error", id: "auth", error: { code: "token_invalid" } });
    await connectAndSignIn(2);
    // A drop for any other reason signs in with the token at hand.
    FakeSocket.all[2]?.close(1006);
    await connectAndSignIn(3);
    expect(asked).toEqual([false, true, true, false]);
    feed.stop();
  });

  it("asks for a fresh book snapshot when a delta is missing", async () => {
    vi.stubGlobal("WebSocket", FakeSocket);
    const store = new Store(500);
    const feed = new LiveFeed("ws://platform/ws", store, () => Promise.resolve(null));
    feed.subscribe({ channel: "book", symbol: "SAP", depth: 50 });
    feed.start();
    const socket = FakeSocket.all[0];
    if (socket === undefined) throw new Error("no socket");
    socket.open();
    await flush();
    socket.receive({ type: "snapshot", symbol: "SAP", seq: 5, bids: [], asks: [] });
    socket.receive({ type: "delta", symbol: "SAP", seq: 7, changes: [] });
    expect(socket.ops()).toEqual(["subscribe:book", "subscribe:book"]);
    expect(store.resyncs).toBe(1);
    feed.stop();
  });
});
