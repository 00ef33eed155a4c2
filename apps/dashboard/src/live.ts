/**
 * The live connection to /ws. It authenticates with the session's access token
 * (the browser cannot set headers on a WebSocket, so the token goes in the first
 * message), subscribes to what the screens need, and keeps it so: on a drop it
 * reconnects with capped, jittered back-off and sends every subscription again
 * (public ones at once, private ones after the server confirms the sign-in);
 * when a book loses a message the store asks for a fresh snapshot; when nothing
 * arrives for two heartbeats the connection is presumed dead and replaced. When
 * the server refuses the token or ends the connection because the credentials
 * were revoked (close code 4401), the next sign-in on the socket asks for a renewed
 * token: a refresh, which ends the session in the app (and brings up the
 * sign-in dialog) when the server refuses it too, instead of reconnecting with
 * the dead token forever.
 */
import type { ConnectionState, Store } from "./store.ts";

export const reconnectDelayMsMin = 250;
export const reconnectDelayMsMax = 10_000;
/** The close code the server uses when a connection's credentials were revoked. */
export const credentialsRevokedCloseCode = 4401;
/** Silence after which a connection is presumed dead (two server heartbeats). */
const silenceMsMax = 32_000;

export interface Subscription {
  readonly channel: string;
  readonly symbol?: string;
  readonly depth?: number;
  readonly interval?: string;
  readonly accountId?: number;
}

const privateChannels = new Set(["orders", "fills", "balances"]);

function keyOf(subscription: Subscription): string {
  return `${subscription.channel}:${subscription.symbol ?? ""}:${subscription.interval ?? ""}:${String(subscription.accountId ?? "")}`;
}

export class LiveFeed {
  private socket: WebSocket | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  private attempt = 0;
  private authenticated = false;
  private stopped = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastMessageMs = 0;
  private nextId = 1;
  /** The server refused the last token: the next sign-in asks for a renewed one. */
  private renewToken = false;
  /** Reconnections so far (shown with the connection state). */
  reconnects = 0;

  /** `token(renew)`: the access token to sign in with; with `renew`, a new one (a refresh), or null when the session has ended. */
  constructor(
    private readonly url: string,
    private readonly store: Store,
    private readonly token: (renew: boolean) => Promise<string | null>,
  ) {
    store.onGap = (symbol) => {
      const book = [...this.subscriptions.values()].find((item) => item.channel === "book" && item.symbol === symbol);
      if (book !== undefined) this.send({ op: "subscribe", ...book });
    };
  }

  start(): void {
    this.stopped = false;
    this.connect();
    this.watchdog ??= setInterval(() => {
      if (this.socket !== null && this.socket.readyState === WebSocket.OPEN && Date.now() - this.lastMessageMs > silenceMsMax) this.socket.close(4000, "silent");
    }, 5_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.socket?.close(1000, "signed out");
    this.socket = null;
    this.store.setConnection("offline");
  }

  subscribe(subscription: Subscription): void {
    const key = keyOf(subscription);
    if (this.subscriptions.has(key)) return;
    this.subscriptions.set(key, subscription);
    if (!privateChannels.has(subscription.channel) || this.authenticated) this.send({ op: "subscribe", ...subscription });
  }

  unsubscribe(subscription: Subscription): void {
    const key = keyOf(subscription);
    if (!this.subscriptions.delete(key)) return;
    this.send({ op: "unsubscribe", ...subscription });
  }

  /** Closes the connection and connects again (after a new sign-in, so private channels follow the new user). */
  restart(): void {
    this.socket?.close(4001, "restart");
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ id: this.nextId++, ...message }));
  }

  private setState(state: ConnectionState): void {
    this.store.setConnection(state);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState(this.attempt === 0 && this.reconnects === 0 ? "connecting" : "reconnecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.authenticated = false;
    socket.onopen = () => {
      this.lastMessageMs = Date.now();
      this.attempt = 0;
      for (const subscription of this.subscriptions.values()) if (!privateChannels.has(subscription.channel)) this.send({ op: "subscribe", ...subscription });
      void this.authenticate(socket);
    };
    socket.onmessage = (event: MessageEvent<string>) => {
      this.lastMessageMs = Date.now();
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(event.data) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message.type === "authenticated") {
        this.authenticated = true;
        for (const subscription of this.subscriptions.values()) if (privateChannels.has(subscription.channel)) this.send({ op: "subscribe", ...subscription });
        this.setState("live");
        return;
      }
      if (message.type === "error" && (message.error as { code?: string } | undefined)?.code?.startsWith("token_") === true) {
        // Expired between the refresh and the auth message, or its session ended: start over with a renewed one.
        this.renewToken = true;
        socket.close(4002, "token");
        return;
      }
      this.store.apply(message);
    };
    socket.onclose = (event?: CloseEvent) => {
      if (event?.code === credentialsRevokedCloseCode) this.renewToken = true;
      if (this.socket === socket) this.socket = null;
      this.authenticated = false;
      if (!this.stopped) this.scheduleReconnect();
    };
    socket.onerror = () => socket.close();
  }

  private async authenticate(socket: WebSocket): Promise<void> {
    const renew = this.renewToken;
    this.renewToken = false;
    const token = await this.token(renew);
    if (socket.readyState !== WebSocket.OPEN) return;
    if (token === null) {
      this.setState("live");
      return;
    }
    socket.send(JSON.stringify({ op: "auth", id: "auth", token }));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== null) return;
    this.setState("reconnecting");
    this.attempt += 1;
    this.reconnects += 1;
    const ceiling = Math.min(reconnectDelayMsMax, reconnectDelayMsMin * 2 ** Math.min(this.attempt, 10));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }
}
