/**
 * WebSocket /ws: public market data (L2 book with snapshot + sequenced deltas,
 * trades, ticker, candles), private channels (own orders, fills, balances and
 * positions), and order entry on the same socket. When an external feed runs,
 * its tickers and candles are the channels `feed_ticker` and `feed_candles`.
 *
 * Fan-out serializes each update once and writes the same string to every
 * subscriber. Memory per client is bounded by the socket's send buffer: past
 * `conflateBytes` a client's book deltas, tickers and candles are dropped and the
 * book is re-sent as a fresh snapshot once the buffer drains (conflation); past
 * `disconnectBytes` the client is disconnected (1013). Ping/pong detects dead
 * peers; a heartbeat message tells clients the feed is alive.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type AuthService, type Principal, type Revocation, revokes } from "@tradestream/auth";
import { errorCatalogue, type ErrorCode } from "@tradestream/contracts";
import { fromSteps } from "@tradestream/kernel";
import { candleIntervals, type BookDelta, type CandleInterval, type InstrumentInfo, type MarketDataProjection, type MarketUpdate } from "@tradestream/marketdata";
import type { AccountUpdate, OrdersProjection } from "@tradestream/orders";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { can, mayReadOrdersOf } from "./access.ts";
import { ApiError } from "./api-error.ts";
import { balanceDto, candleDto, fillDto, orderDto, positionDto, tickerDto, tradeDto } from "./format.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { placeBatchMax, type OrderOutcome, type OrderService, type PlaceInput } from "./order-service.ts";
import type { FeedPort } from "./routes/markets.ts";
import { RateLimiter } from "./rate-limit.ts";
import { symbol as symbolSchema } from "./schemas.ts";

export interface WsOptions {
  readonly heartbeatMs: number;
  readonly conflateBytes: number;
  readonly disconnectBytes: number;
  readonly maxMessageBytes: number;
  /** Order messages per second per connection. */
  readonly ordersPerSecond: number;
}

interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

interface HubDeps {
  readonly auth: AuthService;
  readonly market: MarketDataProjection;
  readonly orders: OrdersProjection;
  readonly orderService: OrderService;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly options: WsOptions;
  readonly feed?: FeedPort | undefined;
}

type PrivateChannel = "orders" | "fills" | "balances";
const publicChannels = ["book", "trades", "ticker", "candles"] as const;
type PublicChannel = (typeof publicChannels)[number];
const feedChannels = ["feed_ticker", "feed_candles"] as const;
type FeedChannel = (typeof feedChannels)[number];
/** The REST routes' symbol rule (schemas.ts), for the feed channels. */
const feedSymbolPattern = new RegExp(symbolSchema.pattern);

/** The text of a WebSocket message (ws hands over a Buffer, an ArrayBuffer or fragments). */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

/** The TCP socket under a WebSocket (ws keeps it in a private field), for corking. */
function tcpOf(socket: WebSocket): Duplex | undefined {
  const raw = (socket as unknown as { _socket?: unknown })._socket;
  return raw !== null && typeof raw === "object" && "cork" in raw && "uncork" in raw ? (raw as Duplex) : undefined;
}

/**
 * The text of `{type: "ack", id, status, replay, body}` with the body's JSON already made
 * (JSON.stringify leaves out an undefined id, and so does this).
 */
export function ackText(id: string | number | undefined, status: number, replay: boolean, bodyJson: string): string {
  const idPart = id === undefined ? "" : `"id":${JSON.stringify(id)},`;
  return `{"type":"ack",${idPart}"status":${String(status)},"replay":${String(replay)},"body":${bodyJson}}`;
}

/**
 * A broadcast to more subscribers than this is queued and written in slices of
 * `broadcastSliceMs` (one system call per client, whatever the number of frames
 * queued for it meanwhile), so that a broadcast to thousands never holds the event
 * loop, and so order entry, for longer than a slice. Smaller ones are written at once.
 */
const queuedBroadcastMin = 64;
/** An unmasked ping control frame without payload (the peer's pong marks it alive). */
const pingFrame = Buffer.from([0x89, 0x00]);
const broadcastSliceMs = 4;

/**
 * One unmasked WebSocket text frame, built once and written as is to every
 * subscriber's TCP socket (a broadcast costs one buffer, not one per client).
 * Safe beside the ws library's own writes: compression is off, so ws writes each
 * frame whole and synchronously and never queues.
 */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, length]) : length < 65_536 ? Buffer.from([0x81, 126, length >> 8, length & 0xff]) : Buffer.alloc(10);
  if (length >= 65_536) {
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

class Client {
  principal: Principal | null = null;
  alive = true;
  closed = false;
  /** Writes are corked until the end of the current tick, so a burst of messages leaves in one system call. */
  corked = false;
  /**
   * Broadcast frames not yet written (null when none): a large broadcast is written
   * in slices, and what arrives for a client before its turn joins the same write.
   */
  outbox: Buffer[] | null = null;
  outboxBytes = 0;
  /** Book subscriptions: instrument → depth and whether a fresh snapshot is owed (after conflation). */
  readonly books = new Map<number, { depth: number; stale: boolean }>();
  readonly topics = new Set<string>();
  readonly privateAccounts = new Map<PrivateChannel, Set<number>>();
  /** Engine sessions opened for cancel-on-disconnect, by account. */
  readonly sessions = new Map<number, number>();
  readonly orderLimiter: RateLimiter;

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    ordersPerSecond: number,
  ) {
    this.orderLimiter = new RateLimiter({ ratePerS: ordersPerSecond, burst: ordersPerSecond });
  }
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function int(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The candle interval a subscription names (required on candle channels). */
function candleIntervalOf(message: Record<string, unknown>): CandleInterval {
  const interval = str(message.interval);
  if (interval === undefined || !(candleIntervals as readonly string[]).includes(interval)) throw new ApiError("validation_failed", `interval must be one of ${candleIntervals.join(", ")}.`);
  return interval as CandleInterval;
}

const topicKey = (channel: PublicChannel | FeedChannel, instrumentId: number, interval?: CandleInterval): string => `${channel}:${String(instrumentId)}${interval === undefined ? "" : `:${interval}`}`;

export class WsHub {
  private readonly server: WebSocketServer;
  private readonly clients = new Set<Client>();
  /** Topic → subscribers (trades, ticker, candles; book is kept per instrument). */
  private readonly topics = new Map<string, Set<Client>>();
  private readonly bookSubscribers = new Map<number, Set<Client>>();
  private readonly privateSubscribers = new Map<PrivateChannel, Map<number, Set<Client>>>([
    ["orders", new Map()],
    ["fills", new Map()],
    ["balances", new Map()],
  ]);
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribers: Array<() => void> = [];
  private nextSessionId = Date.now() * 1000;

  constructor(private readonly deps: HubDeps) {
    this.server = new WebSocketServer({ noServer: true, maxPayload: deps.options.maxMessageBytes, perMessageDeflate: false });
    this.server.on("connection", (socket: WebSocket, request: IncomingMessage) => this.onConnection(socket, request));
    this.unsubscribers.push(deps.market.onUpdate((update) => this.onMarket(update)));
    this.unsubscribers.push(deps.orders.onUpdate((update) => this.onAccount(update)));
    if (deps.feed !== undefined) this.unsubscribers.push(deps.feed.market.onUpdate((update) => this.onFeed(update)));
    this.unsubscribers.push(deps.auth.onRevoked((revocation) => this.onRevoked(revocation)));
    this.timer = setInterval(() => this.heartbeat(), deps.options.heartbeatMs);
    this.timer.unref();
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  attach(server: Server): void {
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? "").split("?")[0];
      if (path !== "/ws") {
        socket.write("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
        socket.destroy();
        return;
      }
      this.server.handleUpgrade(request, socket, head, (ws) => this.server.emit("connection", ws, request));
    });
  }

  close(): void {
    clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const client of this.clients) client.socket.close(1001, "server shutting down");
    this.server.close();
  }

  private onConnection(socket: WebSocket, request: IncomingMessage): void {
    const client = new Client(socket, request.socket.remoteAddress ?? "unknown", this.deps.options.ordersPerSecond);
    this.clients.add(client);
    this.deps.metrics.wsConnections.set(this.clients.size);
    socket.on("pong", () => {
      client.alive = true;
    });
    socket.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        this.sendError(client, undefined, "validation_failed", "Send JSON text messages.");
        return;
      }
      this.onMessage(client, data).catch((error: unknown) => {
        this.deps.logger.warn("ws message failed", { error: String(error) });
        this.sendError(client, undefined, "internal_error");
      });
    });
    socket.on("close", () => this.onClose(client));
    socket.on("error", () => socket.terminate());
    this.send(client, { type: "welcome", heartbeatMs: this.deps.options.heartbeatMs, channels: [...publicChannels, "orders", "fills", "balances", ...(this.deps.feed === undefined ? [] : feedChannels)] }, "control");
  }

  private onClose(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    client.outbox = null;
    client.outboxBytes = 0;
    this.clients.delete(client);
    this.deps.metrics.wsConnections.set(this.clients.size);
    for (const instrumentId of client.books.keys()) this.bookSubscribers.get(instrumentId)?.delete(client);
    for (const topic of client.topics) this.topics.get(topic)?.delete(client);
    for (const [channel, accounts] of client.privateAccounts) for (const accountId of accounts) this.privateSubscribers.get(channel)?.get(accountId)?.delete(client);
    for (const sessionId of client.sessions.values()) {
      // Cancel-on-disconnect: closing the engine session cancels its orders.
      this.deps.orderService.submit({ type: "CloseSession", sessionId }).catch((error: unknown) => this.deps.logger.warn("closing a ws session failed", { sessionId, error: String(error) }));
    }
  }

  private async onMessage(client: Client, data: RawData): Promise<void> {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(rawText(data));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      message = parsed as Record<string, unknown>;
    } catch {
      this.sendError(client, undefined, "invalid_json", "Each message must be one JSON object.");
      return;
    }
    const id = typeof message.id === "string" || typeof message.id === "number" ? message.id : undefined;
    try {
      switch (message.op) {
        case "ping":
          this.send(client, { type: "pong", id, time: new Date().toISOString() }, "control");
          return;
        case "auth":
          await this.authenticate(client, message, id);
          return;
        case "subscribe":
          this.subscribe(client, message, id);
          return;
        case "unsubscribe":
          this.unsubscribe(client, message, id);
          return;
        case "place":
        case "cancel":
        case "replace":
        case "mass_cancel":
        case "place_batch":
        case "cancel_batch":
          await this.order(client, message, id);
          return;
        default:
          throw new ApiError("validation_failed", "op must be one of ping, auth, subscribe, unsubscribe, place, place_batch, cancel, cancel_batch, replace, mass_cancel.");
      }
    } catch (error) {
      if (error instanceof ApiError) this.sendError(client, id, error.code, error.message);
      else if (error instanceof Error && "code" in error && typeof error.code === "string" && error.code in errorCatalogue) this.sendError(client, id, error.code as ErrorCode, error.message);
      else throw error;
    }
  }

  private async authenticate(client: Client, message: Record<string, unknown>, id: string | number | undefined): Promise<void> {
    if (client.principal !== null) throw new ApiError("validation_failed", "This connection is already authenticated.");
    const token = str(message.token);
    const apiKey = message.apiKey;
    let principal: Principal;
    if (token !== undefined) {
      principal = await this.deps.auth.authenticateAccessToken(token);
    } else if (typeof apiKey === "object" && apiKey !== null) {
      const key = apiKey as Record<string, unknown>;
      const keyId = str(key.keyId);
      const timestamp = str(key.timestamp);
      const nonce = str(key.nonce);
      const signature = str(key.signature);
      if (keyId === undefined || timestamp === undefined || nonce === undefined || signature === undefined) throw new ApiError("validation_failed", "apiKey needs keyId, timestamp, nonce and signature (over GET /ws with an empty body).");
      principal = await this.deps.auth.authenticateSignature({ keyId, timestamp, nonce, signature, method: "GET", path: "/ws", body: "" }, { ip: client.ip });
    } else {
      throw new ApiError("validation_failed", "auth needs token (an access token) or apiKey.");
    }
    client.principal = principal;
    if (message.cancelOnDisconnect === true && can(principal, "trade")) {
      for (const accountId of principal.accountIds) {
        const sessionId = (this.nextSessionId += 1);
        const applied = await this.deps.orderService.submit({ type: "OpenSession", sessionId, accountId, cancelOnDisconnect: true });
        if (applied.events.some((event) => event.type === "SessionOpened")) client.sessions.set(accountId, sessionId);
      }
    }
    this.send(client, { type: "authenticated", id, userId: principal.userId, username: principal.username, roles: principal.roles, accountIds: principal.accountIds, cancelOnDisconnect: client.sessions.size > 0 }, "control");
  }

  private instrumentOf(message: Record<string, unknown>): InstrumentInfo {
    const symbol = str(message.symbol);
    if (symbol === undefined) throw new ApiError("validation_failed", "symbol is required for this channel.");
    const info = this.deps.market.instrument(symbol);
    if (info === undefined) throw new ApiError("unknown_instrument", `No instrument ${symbol}.`);
    return info;
  }

  private subscribe(client: Client, message: Record<string, unknown>, id: string | number | undefined): void {
    const channel = str(message.channel);
    switch (channel) {
      case "book": {
        const info = this.instrumentOf(message);
        const depth = message.depth === undefined ? 20 : int(message.depth);
        if (depth === undefined || depth > 1000) throw new ApiError("validation_failed", "depth must be an integer from 1 to 1000.");
        client.books.set(info.instrumentId, { depth, stale: false });
        let set = this.bookSubscribers.get(info.instrumentId);
        if (set === undefined) this.bookSubscribers.set(info.instrumentId, (set = new Set()));
        set.add(client);
        this.send(client, { type: "subscribed", id, channel, symbol: info.symbol }, "control");
        this.sendBookSnapshot(client, info, depth);
        return;
      }
      case "trades":
      case "ticker":
      case "candles": {
        const info = this.instrumentOf(message);
        const interval = channel === "candles" ? candleIntervalOf(message) : undefined;
        this.joinTopic(client, channel, info, interval, id);
        if (channel === "ticker") {
          const ticker = this.deps.market.ticker(info.instrumentId);
          if (ticker !== undefined) this.send(client, { type: "ticker", channel, ...tickerDto(ticker, info) }, channel);
        }
        return;
      }
      case "feed_ticker":
      case "feed_candles":
        this.subscribeFeed(client, channel, message, id);
        return;
      case "orders":
      case "fills":
      case "balances": {
        const principal = client.principal;
        if (principal === null) throw new ApiError("unauthenticated", "Authenticate first: {\"op\":\"auth\",\"token\":…}.");
        const requested = message.accountId === undefined ? undefined : int(message.accountId);
        if (message.accountId !== undefined && requested === undefined) throw new ApiError("validation_failed", "accountId must be a positive integer.");
        const accounts = requested === undefined ? principal.accountIds : [requested];
        if (requested !== undefined && !mayReadOrdersOf(principal, requested)) throw new ApiError("not_owner");
        if (accounts.length === 0) throw new ApiError("not_owner", "No trading account is assigned to you; name one with accountId.");
        let mine = client.privateAccounts.get(channel);
        if (mine === undefined) client.privateAccounts.set(channel, (mine = new Set()));
        let byAccount = this.privateSubscribers.get(channel);
        if (byAccount === undefined) this.privateSubscribers.set(channel, (byAccount = new Map<number, Set<Client>>()));
        for (const accountId of accounts) {
          mine.add(accountId);
          let set = byAccount.get(accountId);
          if (set === undefined) byAccount.set(accountId, (set = new Set()));
          set.add(client);
        }
        this.send(client, { type: "subscribed", id, channel, accountIds: accounts }, "control");
        if (channel === "balances") {
          for (const accountId of accounts) {
            for (const balance of this.deps.orders.balances(accountId)) this.send(client, { type: "balance", channel, accountId, ...balanceDto(balance) }, channel);
            for (const position of this.deps.orders.positions(accountId)) {
              const spec = this.deps.market.instrument(position.instrumentId);
              if (spec !== undefined) this.send(client, { type: "position", channel, accountId, ...positionDto(position, spec) }, channel);
            }
          }
        }
        return;
      }
      case undefined:
      default:
        throw new ApiError("validation_failed", "channel must be one of book, trades, ticker, candles, orders, fills, balances, feed_ticker, feed_candles.");
    }
  }

  /** The external feed's instrument named by the message (its own projection, not the platform's). */
  private feedInstrumentOf(message: Record<string, unknown>): { feed: FeedPort; info: InstrumentInfo } {
    const feed = this.deps.feed;
    if (feed === undefined) throw new ApiError("feed_not_configured");
    const symbol = str(message.symbol);
    if (symbol === undefined) throw new ApiError("validation_failed", "symbol is required for this channel.");
    // The same rule as the REST routes' symbol, so an error never echoes arbitrary text back.
    if (symbol.length > symbolSchema.maxLength || !feedSymbolPattern.test(symbol)) throw new ApiError("validation_failed", "symbol must be 1 to 16 letters, digits, '.', '_' or '-'.");
    const info = feed.market.instrument(symbol);
    if (info === undefined) throw new ApiError("unknown_instrument", `The external feed has no instrument ${symbol}.`);
    return { feed, info };
  }

  /** Adds the client to a public topic (an instrument's trades, ticker or candles, the platform's or the feed's) and confirms it. */
  private joinTopic(client: Client, channel: PublicChannel | FeedChannel, info: { instrumentId: number; symbol: string }, interval: CandleInterval | undefined, id: string | number | undefined): void {
    const key = topicKey(channel, info.instrumentId, interval);
    client.topics.add(key);
    let set = this.topics.get(key);
    if (set === undefined) this.topics.set(key, (set = new Set()));
    set.add(client);
    this.send(client, { type: "subscribed", id, channel, symbol: info.symbol, ...(interval === undefined ? {} : { interval }) }, "control");
  }

  private subscribeFeed(client: Client, channel: FeedChannel, message: Record<string, unknown>, id: string | number | undefined): void {
    const { feed, info } = this.feedInstrumentOf(message);
    this.joinTopic(client, channel, info, channel === "feed_candles" ? candleIntervalOf(message) : undefined, id);
    if (channel === "feed_ticker") {
      const ticker = feed.market.ticker(info.instrumentId);
      if (ticker !== undefined) this.send(client, { type: "ticker", channel, ...tickerDto(ticker, info) }, channel);
    }
  }

  private onFeed(update: MarketUpdate): void {
    const feed = this.deps.feed;
    if (feed === undefined) return;
    let key: string;
    let channel: FeedChannel;
    switch (update.kind) {
      case "ticker":
        channel = "feed_ticker";
        key = topicKey(channel, update.ticker.instrumentId);
        break;
      case "candle":
        channel = "feed_candles";
        key = topicKey(channel, update.candle.instrumentId, update.candle.interval);
        break;
      case "book":
      case "trade":
      case "instrument":
        return;
    }
    const subscribers = this.topics.get(key);
    if (subscribers === undefined || subscribers.size === 0) return;
    const info = feed.market.instrument(update.kind === "ticker" ? update.ticker.instrumentId : update.candle.instrumentId);
    if (info === undefined) return;
    const body = update.kind === "ticker" ? { type: "ticker", channel, ...tickerDto(update.ticker, info) } : { type: "candle", channel, ...candleDto(update.candle, info) };
    this.fanOut(subscribers, JSON.stringify(body), channel, true);
  }

  private unsubscribe(client: Client, message: Record<string, unknown>, id: string | number | undefined): void {
    const channel = str(message.channel);
    if (channel === "feed_ticker" || channel === "feed_candles") {
      const { info } = this.feedInstrumentOf(message);
      const key = topicKey(channel, info.instrumentId, channel === "feed_candles" ? candleIntervalOf(message) : undefined);
      client.topics.delete(key);
      this.topics.get(key)?.delete(client);
    } else if (channel === "book") {
      const info = this.instrumentOf(message);
      client.books.delete(info.instrumentId);
      this.bookSubscribers.get(info.instrumentId)?.delete(client);
    } else if (channel === "trades" || channel === "ticker" || channel === "candles") {
      const info = this.instrumentOf(message);
      const interval = channel === "candles" ? (str(message.interval) as CandleInterval | undefined) : undefined;
      const key = topicKey(channel, info.instrumentId, interval);
      client.topics.delete(key);
      this.topics.get(key)?.delete(client);
    } else if (channel === "orders" || channel === "fills" || channel === "balances") {
      for (const accountId of client.privateAccounts.get(channel) ?? []) this.privateSubscribers.get(channel)?.get(accountId)?.delete(client);
      client.privateAccounts.delete(channel);
    } else {
      throw new ApiError("validation_failed", "Unknown channel.");
    }
    this.send(client, { type: "unsubscribed", id, channel }, "control");
  }

  private async order(client: Client, message: Record<string, unknown>, id: string | number | undefined): Promise<void> {
    const principal = client.principal;
    if (principal === null) throw new ApiError("unauthenticated", "Authenticate first: {\"op\":\"auth\",\"token\":…}.");
    const outcome = message.op === "place_batch" || message.op === "cancel_batch" ? await this.batch(client, principal, message) : await this.single(client, principal, message);
    if (outcome.json === undefined) this.send(client, { type: "ack", id, status: outcome.status, replay: outcome.replay, body: outcome.body }, "orders");
    else this.sendText(client, ackText(id, outcome.status, outcome.replay, outcome.json), "orders");
  }

  /** Takes `count` from the connection's order rate (each order of a batch counts). */
  private takeOrders(client: Client, count: number): void {
    const retry = client.orderLimiter.take("orders", count);
    if (retry > 0) throw new ApiError("rate_limited", `Too many orders on this connection; retry in ${String(retry)} s.`, retry);
  }

  /** The engine session an order joins: the connection's cancel-on-disconnect session of its account, if any. */
  private sessionIdFor(client: Client, principal: Principal, accountId: number | undefined): number {
    const account = accountId ?? (principal.accountIds.length === 1 ? principal.accountIds[0] : undefined);
    return account === undefined ? 0 : (client.sessions.get(account) ?? 0);
  }

  private async single(client: Client, principal: Principal, message: Record<string, unknown>): Promise<OrderOutcome> {
    this.takeOrders(client, 1);
    switch (message.op) {
      case "place": {
        const input = parsePlace(message.order);
        return this.deps.orderService.place(principal, input, "ws", this.sessionIdFor(client, principal, input.accountId));
      }
      case "cancel": {
        const orderId = int(message.orderId);
        if (orderId === undefined) throw new ApiError("validation_failed", "orderId must be a positive integer.");
        return this.deps.orderService.cancel(principal, orderId, "ws");
      }
      case "replace": {
        const orderId = int(message.orderId);
        if (orderId === undefined) throw new ApiError("validation_failed", "orderId must be a positive integer.");
        const price = message.price === undefined ? undefined : str(message.price);
        const quantity = message.quantity === undefined ? undefined : str(message.quantity);
        if ((message.price !== undefined && price === undefined) || (message.quantity !== undefined && quantity === undefined)) throw new ApiError("validation_failed", "price and quantity must be decimal strings.");
        return this.deps.orderService.replace(principal, orderId, { price, quantity }, "ws");
      }
      default: {
        const accountId = message.accountId === undefined ? undefined : int(message.accountId);
        const symbol = message.symbol === undefined ? undefined : str(message.symbol);
        return this.deps.orderService.massCancel(principal, { accountId, symbol }, "ws");
      }
    }
  }

  /**
   * `place_batch` (`orders`) or `cancel_batch` (`orderIds`), answered like REST's batches: one ack
   * whose body is `{"results":[…]}` in the batch's order. A malformed item refuses the whole
   * message and places nothing; each item counts against the connection's order rate.
   */
  private async batch(client: Client, principal: Principal, message: Record<string, unknown>): Promise<OrderOutcome> {
    if (message.op === "place_batch") {
      const inputs = batchItems(message.orders, "orders", parsePlace);
      this.takeOrders(client, inputs.length);
      return this.deps.orderService.placeBatch(principal, inputs, "ws", (accountId) => this.sessionIdFor(client, principal, accountId));
    }
    const orderIds = batchItems(message.orderIds, "orderIds", orderIdOf);
    this.takeOrders(client, orderIds.length);
    return this.deps.orderService.cancelBatch(principal, orderIds, "ws");
  }

  private sendBookSnapshot(client: Client, info: InstrumentInfo, depth: number): void {
    const book = this.deps.market.book(info.instrumentId, depth);
    const level = (entry: { priceTicks: number; qtyLots: number; orderCount: number }): [string, string, number] => [fromSteps(entry.priceTicks, info.tickSize), fromSteps(entry.qtyLots, info.lotSize), entry.orderCount];
    this.send(client, { type: "snapshot", channel: "book", symbol: info.symbol, seq: book?.seq ?? 0, bids: (book?.bids ?? []).map(level), asks: (book?.asks ?? []).map(level) }, "book");
  }

  private onMarket(update: MarketUpdate): void {
    switch (update.kind) {
      case "book":
        this.onBookDelta(update.delta);
        return;
      case "trade": {
        const subscribers = this.topics.get(topicKey("trades", update.trade.instrumentId));
        if (subscribers === undefined || subscribers.size === 0) return;
        const info = this.deps.market.instrument(update.trade.instrumentId);
        if (info === undefined) return;
        this.fanOut(subscribers, JSON.stringify({ type: "trade", channel: "trades", ...tradeDto(update.trade, info) }), "trades", false);
        return;
      }
      case "ticker": {
        const subscribers = this.topics.get(topicKey("ticker", update.ticker.instrumentId));
        if (subscribers === undefined || subscribers.size === 0) return;
        const info = this.deps.market.instrument(update.ticker.instrumentId);
        if (info === undefined) return;
        this.fanOut(subscribers, JSON.stringify({ type: "ticker", channel: "ticker", ...tickerDto(update.ticker, info) }), "ticker", true);
        return;
      }
      case "candle": {
        const subscribers = this.topics.get(topicKey("candles", update.candle.instrumentId, update.candle.interval));
        if (subscribers === undefined || subscribers.size === 0) return;
        const info = this.deps.market.instrument(update.candle.instrumentId);
        if (info === undefined) return;
        this.fanOut(subscribers, JSON.stringify({ type: "candle", channel: "candles", ...candleDto(update.candle, info) }), "candles", true);
        return;
      }
      case "instrument":
        return;
    }
  }

  private onBookDelta(delta: BookDelta): void {
    const subscribers = this.bookSubscribers.get(delta.instrumentId);
    if (subscribers === undefined || subscribers.size === 0) return;
    const info = this.deps.market.instrument(delta.instrumentId);
    if (info === undefined) return;
    let text: string | null = null;
    let frame: Buffer | null = null;
    const queued = subscribers.size > queuedBroadcastMin;
    let sent = 0;
    for (const client of subscribers) {
      const subscription = client.books.get(delta.instrumentId);
      if (subscription === undefined) continue;
      const buffered = client.socket.bufferedAmount + client.outboxBytes;
      if (buffered > this.deps.options.disconnectBytes) {
        this.dropSlow(client);
        continue;
      }
      if (buffered > this.deps.options.conflateBytes) {
        if (!subscription.stale) this.deps.metrics.wsSlowConsumers.inc({ action: "conflated" });
        subscription.stale = true;
        continue;
      }
      if (subscription.stale) {
        subscription.stale = false;
        this.sendBookSnapshot(client, info, subscription.depth);
        continue;
      }
      text ??= JSON.stringify({
        type: "delta",
        channel: "book",
        symbol: info.symbol,
        seq: delta.seq,
        changes: delta.changes.map((change) => [change.side, fromSteps(change.priceTicks, info.tickSize), fromSteps(change.qtyLots, info.lotSize), change.orderCount]),
      });
      frame ??= textFrame(text);
      if (queued) this.enqueue(client, frame, text);
      else this.writeFrame(client, frame, text);
      sent += 1;
    }
    if (sent > 0) this.deps.metrics.wsMessagesSent.inc({ channel: "book" }, sent);
  }

  private onAccount(update: AccountUpdate): void {
    const channel: PrivateChannel = update.kind === "order" ? "orders" : update.kind === "fill" ? "fills" : "balances";
    const subscribers = this.privateSubscribers.get(channel)?.get(update.accountId);
    if (subscribers === undefined || subscribers.size === 0) return;
    let message: Record<string, unknown> | null = null;
    switch (update.kind) {
      case "order": {
        const info = this.deps.market.instrument(update.order.instrumentId);
        if (info !== undefined) message = { type: "order", channel, order: orderDto(update.order, info) };
        break;
      }
      case "fill": {
        const info = this.deps.market.instrument(update.fill.instrumentId);
        if (info !== undefined) message = { type: "fill", channel, fill: fillDto(update.fill, info) };
        break;
      }
      case "balance":
        message = { type: "balance", channel, accountId: update.accountId, ...balanceDto(update.balance) };
        break;
      case "position": {
        const info = this.deps.market.instrument(update.position.instrumentId);
        if (info !== undefined) message = { type: "position", channel, accountId: update.accountId, ...positionDto(update.position, info) };
        break;
      }
    }
    if (message !== null) this.fanOut(subscribers, JSON.stringify(message), channel, false);
  }

  /** Sends one serialized message to many; conflatable messages are skipped for slow clients. */
  private fanOut(subscribers: Set<Client>, text: string, channel: string, conflatable: boolean): void {
    let frame: Buffer | null = null;
    const queued = subscribers.size > queuedBroadcastMin;
    let sent = 0;
    for (const client of subscribers) {
      const buffered = client.socket.bufferedAmount + client.outboxBytes;
      if (buffered > this.deps.options.disconnectBytes) {
        this.dropSlow(client);
        continue;
      }
      if (conflatable && buffered > this.deps.options.conflateBytes) continue;
      frame ??= textFrame(text);
      if (queued) this.enqueue(client, frame, text);
      else this.writeFrame(client, frame, text);
      sent += 1;
    }
    if (sent > 0) this.deps.metrics.wsMessagesSent.inc({ channel }, sent);
  }

  /**
   * Credentials that stopped working (logout, a reused refresh token, a revoked key, a
   * user disabled or given other access) end the connections signed in with them at
   * once, with close code 4401, instead of letting them stream until they disconnect.
   */
  private onRevoked(revocation: Revocation): void {
    for (const client of this.clients) {
      if (client.closed || client.principal === null || !revokes(revocation, client.principal)) continue;
      this.deps.logger.info("closing a websocket whose credentials were revoked", { user: client.principal.username, reason: revocation.reason });
      client.socket.close(4401, `credentials revoked: ${revocation.reason}`);
      setTimeout(() => client.socket.terminate(), 1_000).unref();
      this.onClose(client);
    }
  }

  private dropSlow(client: Client): void {
    if (client.closed) return;
    this.deps.metrics.wsSlowConsumers.inc({ action: "disconnected" });
    this.deps.logger.warn("disconnecting a slow websocket consumer", { ip: client.ip, bufferedBytes: client.socket.bufferedAmount, user: client.principal?.username });
    client.socket.close(1013, "slow consumer: reconnect and resubscribe");
    // A peer that does not read will not complete the close handshake either.
    setTimeout(() => client.socket.terminate(), 1_000).unref();
    this.onClose(client);
  }

  private send(client: Client, message: Record<string, unknown>, channel: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    this.sendText(client, JSON.stringify(message), channel);
  }

  private sendText(client: Client, text: string, channel: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    // Replies count against the same bound as broadcasts: a client that asks but never reads is dropped.
    if (client.socket.bufferedAmount + client.outboxBytes > this.deps.options.disconnectBytes) {
      this.dropSlow(client);
      return;
    }
    this.write(client, text);
    this.deps.metrics.wsMessagesSent.inc({ channel });
  }

  /** Writes a prebuilt frame to the client's TCP socket (corked per tick); falls back to ws's own send. */
  private writeFrame(client: Client, frame: Buffer, text: string): void {
    const tcp = tcpOf(client.socket);
    if (tcp === undefined || client.socket.readyState !== client.socket.OPEN) {
      this.write(client, text);
      return;
    }
    if (client.outbox !== null) this.flushClient(client);
    this.corkUntilNextTick(client, tcp);
    tcp.write(frame);
  }

  /** Clients with queued broadcast frames, in the order they were queued; `dirtyHead` is the next to write. */
  private dirty: Client[] = [];
  private dirtyHead = 0;
  private flushScheduled = false;

  /** Queues a broadcast frame for a client; the slices of `flushSlice` write it. */
  private enqueue(client: Client, frame: Buffer, text: string): void {
    if (tcpOf(client.socket) === undefined) {
      this.write(client, text);
      return;
    }
    client.outboxBytes += frame.length;
    if (client.outbox !== null) {
      client.outbox.push(frame);
      return;
    }
    client.outbox = [frame];
    this.dirty.push(client);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSlice);
    }
  }

  /** Writes queued frames for at most `broadcastSliceMs`, then lets the event loop run (I/O, orders) before the next slice. */
  private readonly flushSlice = (): void => {
    const dirty = this.dirty;
    const deadline = performance.now() + broadcastSliceMs;
    let at = this.dirtyHead;
    while (at < dirty.length) {
      this.flushClient(dirty[at] as Client);
      at += 1;
      if ((at & 31) === 0 && performance.now() >= deadline) break;
    }
    if (at >= dirty.length) {
      this.dirty = [];
      this.dirtyHead = 0;
      this.flushScheduled = false;
      return;
    }
    this.dirtyHead = at;
    setImmediate(this.flushSlice);
  };

  /** Writes a client's queued frames in one system call (a client may be listed twice; the second finds nothing). */
  private flushClient(client: Client): void {
    const frames = client.outbox;
    if (frames === null) return;
    client.outbox = null;
    client.outboxBytes = 0;
    const tcp = tcpOf(client.socket);
    if (tcp === undefined || client.closed || client.socket.readyState !== client.socket.OPEN) return;
    if (frames.length === 1) {
      tcp.write(frames[0]);
      return;
    }
    tcp.cork();
    for (const frame of frames) tcp.write(frame);
    tcp.uncork();
  }

  /** Clients corked in this tick; one callback uncorks them all (a broadcast touches thousands). */
  private corkedClients: Array<{ client: Client; tcp: Duplex }> = [];

  private corkUntilNextTick(client: Client, tcp: Duplex): void {
    if (client.corked) return;
    tcp.cork();
    client.corked = true;
    if (this.corkedClients.length === 0) process.nextTick(this.uncorkAll);
    this.corkedClients.push({ client, tcp });
  }

  private readonly uncorkAll = (): void => {
    const corked = this.corkedClients;
    this.corkedClients = [];
    for (const { client, tcp } of corked) {
      client.corked = false;
      tcp.uncork();
    }
  };

  private write(client: Client, text: string): void {
    // Queued broadcast frames first: a client sees its messages in the order they were sent.
    if (client.outbox !== null) this.flushClient(client);
    const tcp = tcpOf(client.socket);
    if (tcp !== undefined) this.corkUntilNextTick(client, tcp);
    client.socket.send(text);
  }

  private sendError(client: Client, id: string | number | undefined, code: ErrorCode, message?: string): void {
    this.send(client, { type: "error", id, error: { code, message: message ?? errorCatalogue[code].message } }, "control");
  }

  /**
   * Every client gets a ping and, unless it is behind, a heartbeat message: one
   * shared frame pair, queued like a broadcast so that thousands of connections
   * cost one write each, in slices.
   */
  private heartbeat(): void {
    const text = JSON.stringify({ type: "heartbeat", time: new Date().toISOString() });
    const frame = textFrame(text);
    let sent = 0;
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      if (tcpOf(client.socket) === undefined || client.socket.readyState !== client.socket.OPEN) {
        client.socket.ping();
      } else {
        this.enqueue(client, pingFrame, "");
      }
      if (client.socket.bufferedAmount + client.outboxBytes < this.deps.options.conflateBytes) {
        this.enqueue(client, frame, text);
        sent += 1;
        // A conflated book owes a fresh snapshot even when no new delta arrives.
        for (const [instrumentId, subscription] of client.books) {
          if (!subscription.stale) continue;
          const info = this.deps.market.instrument(instrumentId);
          if (info === undefined) continue;
          subscription.stale = false;
          this.sendBookSnapshot(client, info, subscription.depth);
        }
      }
    }
    if (sent > 0) this.deps.metrics.wsMessagesSent.inc({ channel: "control" }, sent);
  }
}

/** A batch's items, each read by `read`; a malformed batch or item refuses the whole message, naming the item. */
function batchItems<T>(value: unknown, field: string, read: (item: unknown) => T): T[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > placeBatchMax) throw new ApiError("validation_failed", `${field} must be an array of 1 to ${String(placeBatchMax)} items.`);
  return value.map((item: unknown, index) => {
    try {
      return read(item);
    } catch (error) {
      if (error instanceof ApiError) throw new ApiError(error.code, `${field}[${String(index)}]: ${error.message}`);
      throw error;
    }
  });
}

function orderIdOf(value: unknown): number {
  const orderId = int(value);
  if (orderId === undefined) throw new ApiError("validation_failed", "must be a positive integer.");
  return orderId;
}

/** An optional decimal field of an order message (a module function: a closure made per order costs an allocation and a name). */
function optionalDecimal(o: Record<string, unknown>, key: string): string | undefined {
  if (o[key] === undefined) return undefined;
  const text = str(o[key]);
  if (text === undefined || text.length > 40) throw new ApiError("validation_failed", `order.${key} must be a decimal string.`);
  return text;
}

/** The fields of an order message: those of POST /api/v1/orders. */
const placeFields = new Set(["accountId", "symbol", "instrumentId", "side", "type", "timeInForce", "price", "stopPrice", "quantity", "displayQuantity", "postOnly", "clientOrderId"]);

function parsePlace(value: unknown): PlaceInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ApiError("validation_failed", "order must be an object with the same fields as POST /api/v1/orders.");
  const o = value as Record<string, unknown>;
  // A parsed JSON object has only own, enumerable keys: for…in visits exactly Object.keys without making the array.
  for (const key in o) if (!placeFields.has(key)) throw new ApiError("validation_failed", `order has an unknown field ${key}.`);
  const side = o.side;
  const type = o.type;
  const tif = o.timeInForce;
  const clientOrderId = str(o.clientOrderId);
  const quantity = str(o.quantity);
  if (side !== "buy" && side !== "sell") throw new ApiError("validation_failed", "order.side must be buy or sell.");
  if (type !== "limit" && type !== "market" && type !== "stop" && type !== "stop_limit") throw new ApiError("validation_failed", "order.type must be limit, market, stop or stop_limit.");
  if (tif !== undefined && tif !== "GTC" && tif !== "DAY" && tif !== "IOC" && tif !== "FOK") throw new ApiError("validation_failed", "order.timeInForce must be GTC, DAY, IOC or FOK.");
  if (clientOrderId === undefined || !/^[A-Za-z0-9._:-]{1,36}$/.test(clientOrderId)) throw new ApiError("validation_failed", "order.clientOrderId must be 1–36 characters of letters, digits and . _ : -");
  if (quantity === undefined || quantity.length > 40) throw new ApiError("validation_failed", "order.quantity must be a decimal string.");
  if (o.postOnly !== undefined && typeof o.postOnly !== "boolean") throw new ApiError("validation_failed", "order.postOnly must be true or false.");
  if (o.accountId !== undefined && int(o.accountId) === undefined) throw new ApiError("validation_failed", "order.accountId must be a positive integer.");
  if (o.instrumentId !== undefined && int(o.instrumentId) === undefined) throw new ApiError("validation_failed", "order.instrumentId must be a positive integer.");
  if (o.symbol !== undefined && (str(o.symbol) === undefined || (o.symbol as string).length > 16)) throw new ApiError("validation_failed", "order.symbol must be a string.");
  return {
    accountId: int(o.accountId),
    symbol: str(o.symbol),
    instrumentId: int(o.instrumentId),
    side,
    type,
    timeInForce: tif,
    price: optionalDecimal(o, "price"),
    stopPrice: optionalDecimal(o, "stopPrice"),
    quantity,
    displayQuantity: optionalDecimal(o, "displayQuantity"),
    postOnly: o.postOnly,
    clientOrderId,
  };
}
