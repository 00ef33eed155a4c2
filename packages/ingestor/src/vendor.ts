/**
 * Vendor feeds with JSON messages, over WebSocket or HTTP polling, through the
 * egress client (so only allow-listed hosts are ever reached).
 *
 * WebSocket protocol: the API key goes in the `x-api-key` header of the
 * upgrade request (never in the URL, which ends up in logs); once open the feed
 * sends `{"action":"subscribe","symbols":[…]}` — again after every reconnect,
 * so subscriptions survive a dropped connection. Each message is one record, an
 * array of records, or a control message (`heartbeat`, `subscribed`, `welcome`,
 * `error`). When nothing at all arrives for `heartbeatTimeoutMs` the connection
 * is presumed dead, closed and re-opened.
 *
 * HTTP polling: `GET <url>?symbols=A,B[&cursor=…]` with the same header, every
 * `pollMs`; the answer is `{"records":[…],"cursor":…}` and the cursor is sent
 * back on the next poll.
 *
 * Both reconnect after a failure with exponential back-off and full jitter
 * (`backoffDelayMs`), reset by a successful connection. Text that is not JSON
 * is handed on as text; the normalizer dead-letters it.
 */
import { readFileSync } from "node:fs";
import type WebSocket from "ws";
import { EgressRefusedError, type EgressClient } from "@tradestream/egress";
import type { Feed, FeedSink, FeedState, FeedStatus, IngestorLogger } from "./types.ts";

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const backoffDefault: BackoffOptions = { initialMs: 250, maxMs: 30_000 };
export const heartbeatTimeoutMsDefault = 30_000;
/** Largest vendor message accepted; a bigger one is a broken or hostile peer. */
export const vendorMessageBytesMax = 4 * 1024 * 1024;

/** The delay before reconnect attempt `attempt` (0-based): a random share of min(max, initial·2^attempt) — "full jitter". */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/** The vendor API key: `LSE_API_KEY`, or the contents of the file named by `LSE_API_KEY_FILE` (a mounted secret). */
export function apiKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const direct = env.LSE_API_KEY;
  if (direct !== undefined && direct !== "") return direct;
  const file = env.LSE_API_KEY_FILE;
  if (file === undefined || file === "") return undefined;
  return readFileSync(file, "utf8").trim();
}

export interface VendorFeedOptions {
  readonly url: string;
  readonly apiKey?: string | undefined;
  readonly symbols: readonly string[];
  readonly egress: EgressClient;
  readonly logger?: IngestorLogger | undefined;
  readonly source?: string | undefined;
  readonly backoff?: BackoffOptions | undefined;
  readonly heartbeatTimeoutMs?: number | undefined;
  /** Jitter source (default Math.random; tests pass a seeded one). */
  readonly random?: (() => number) | undefined;
}

const controlTypes = new Set(["heartbeat", "subscribed", "welcome", "error", "pong"]);

/** Shared bookkeeping of both vendor transports: state, counts, back-off. */
abstract class VendorFeedBase implements Feed {
  readonly source: string;
  protected state: FeedState = "idle";
  protected reconnectCount = 0;
  protected messageCount = 0;
  protected lastError: string | null = null;
  protected attempt = 0;
  protected stopped = false;
  protected sink: FeedSink | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  protected readonly random: () => number;

  constructor(protected readonly options: VendorFeedOptions) {
    this.source = options.source ?? "vendor";
    this.random = options.random ?? Math.random;
  }

  protected headers(): Record<string, string> {
    return this.options.apiKey === undefined ? {} : { "x-api-key": this.options.apiKey };
  }

  /** Hands one message (text) to the sink: records, arrays of records, or control messages. */
  protected deliver(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.count(1);
      this.sink?.record(text);
      return;
    }
    if (Array.isArray(parsed)) {
      this.count(parsed.length);
      for (const item of parsed) this.sink?.record(item);
      return;
    }
    if (typeof parsed === "object" && parsed !== null && controlTypes.has(String((parsed as { type?: unknown }).type))) {
      if ((parsed as { type?: unknown }).type === "error") this.options.logger?.warn("vendor feed reported an error", { source: this.source, message: JSON.stringify((parsed as { message?: unknown }).message ?? null).slice(0, 200) });
      return;
    }
    this.count(1);
    this.sink?.record(parsed);
  }

  protected count(n: number): void {
    this.messageCount += n;
  }

  protected scheduleReconnect(reason: string): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.lastError = reason;
    this.state = "reconnecting";
    const delay = backoffDelayMs(this.attempt, this.options.backoff ?? backoffDefault, this.random);
    this.attempt += 1;
    this.options.logger?.warn("vendor feed disconnected; reconnecting", { source: this.source, reason, delayMs: delay, attempt: this.attempt });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.reconnectCount += 1;
      this.connect();
    }, delay);
  }

  protected abstract connect(): void;

  protected abstract disconnect(): void;

  start(sink: FeedSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    this.connect();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.disconnect();
    this.state = "stopped";
    return Promise.resolve();
  }

  status(): FeedStatus {
    return { source: this.source, state: this.state, reconnects: this.reconnectCount, messages: this.messageCount, lastError: this.lastError };
  }
}

export class WebSocketVendorFeed extends VendorFeedBase {
  private socket: WebSocket | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  protected connect(): void {
    this.state = this.reconnectCount === 0 ? "connecting" : "reconnecting";
    let socket: WebSocket;
    try {
      socket = this.options.egress.webSocket(this.options.url, { headers: this.headers(), maxPayload: vendorMessageBytesMax, handshakeTimeout: 10_000 });
    } catch (error) {
      // A refused host stays refused: report it and stop, rather than retry for ever.
      this.lastError = error instanceof Error ? error.message : String(error);
      this.state = "stopped";
      this.options.logger?.error("vendor feed cannot connect", { source: this.source, error: this.lastError });
      return;
    }
    this.socket = socket;
    socket.on("open", () => {
      this.state = "connected";
      this.attempt = 0;
      this.armHeartbeat();
      socket.send(JSON.stringify({ action: "subscribe", symbols: this.options.symbols }));
    });
    socket.on("message", (data: WebSocket.RawData) => {
      this.armHeartbeat();
      this.deliver(Buffer.isBuffer(data) ? data.toString("utf8") : Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data).toString("utf8"));
    });
    socket.on("error", (error: Error) => {
      this.lastError = error.message;
    });
    socket.on("close", (code: number) => {
      this.clearHeartbeat();
      if (this.socket === socket) this.socket = null;
      this.scheduleReconnect(`closed (${String(code)})${this.lastError === null ? "" : `: ${this.lastError}`}`);
    });
  }

  private armHeartbeat(): void {
    this.clearHeartbeat();
    const timeoutMs = this.options.heartbeatTimeoutMs ?? heartbeatTimeoutMsDefault;
    this.heartbeat = setTimeout(() => {
      this.lastError = `no message for ${String(timeoutMs)} ms`;
      this.socket?.terminate();
    }, timeoutMs);
  }

  private clearHeartbeat(): void {
    if (this.heartbeat !== null) clearTimeout(this.heartbeat);
    this.heartbeat = null;
  }

  protected disconnect(): void {
    this.clearHeartbeat();
    this.socket?.terminate();
    this.socket = null;
  }
}

export interface HttpPollingFeedOptions extends VendorFeedOptions {
  /** Time between polls (default 1000 ms). */
  readonly pollMs?: number | undefined;
}

export class HttpPollingVendorFeed extends VendorFeedBase {
  private timer: NodeJS.Timeout | null = null;
  private cursor: string | null = null;
  private inFlight: AbortController | null = null;

  constructor(private readonly pollOptions: HttpPollingFeedOptions) {
    super(pollOptions);
  }

  protected connect(): void {
    this.state = this.reconnectCount === 0 ? "connecting" : "reconnecting";
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const url = new URL(this.options.url);
    url.searchParams.set("symbols", this.options.symbols.join(","));
    if (this.cursor !== null) url.searchParams.set("cursor", this.cursor);
    const abort = new AbortController();
    this.inFlight = abort;
    const timeout = setTimeout(() => abort.abort(), this.options.heartbeatTimeoutMs ?? heartbeatTimeoutMsDefault);
    try {
      const response = await this.options.egress.fetch(url, { headers: this.headers(), signal: abort.signal });
      if (response.status !== 200) throw new Error(`HTTP ${String(response.status)}`);
      const text = await response.text();
      if (text.length > vendorMessageBytesMax) throw new Error("answer too large");
      this.state = "connected";
      this.attempt = 0;
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        this.count(1);
        this.sink?.record(text);
        this.next();
        return;
      }
      const records = (body as { records?: unknown }).records;
      const cursor = (body as { cursor?: unknown }).cursor;
      if (typeof cursor === "string" || typeof cursor === "number") this.cursor = String(cursor);
      if (Array.isArray(records)) {
        this.count(records.length);
        for (const record of records) this.sink?.record(record);
      } else {
        this.count(1);
        this.sink?.record(body);
      }
      this.next();
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof EgressRefusedError) {
        // A refused host stays refused: report it and stop, rather than retry for ever.
        this.lastError = error.message;
        this.state = "stopped";
        this.options.logger?.error("vendor feed cannot connect", { source: this.source, error: error.message });
        return;
      }
      this.scheduleReconnect(error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timeout);
      this.inFlight = null;
    }
  }

  private next(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.pollOptions.pollMs ?? 1_000);
  }

  protected disconnect(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
  }
}
