// The e2e load generator: a separate process that drives a running TradeStream
// server through its public API with many authenticated clients. Started by
// e2e.bench.ts with its configuration as JSON in E2E_CONFIG; prints one JSON
// object of results on stdout.
//
// Latency is measured from a request's *scheduled* send time to its durable
// acknowledgement, so a stalled server is charged for every request it delays
// (no coordinated omission). Phases: WebSocket and REST at a fixed offered rate,
// then at maximum (closed loop, a window of requests in flight per connection),
// then batch entry at maximum (--batch orders per message: place_batch / cancel_batch,
// POST /api/v1/orders/batch and /cancel-batch), then fan-out to many market-data subscribers.

import WebSocket from "ws";
import { KeepAliveHttpClient, type HttpAnswer } from "./http-client.ts";
import { WsSubscriber } from "./ws-subscriber.ts";
import { percentile, Rng } from "./stats.ts";
import { rawText } from "@tradestream/gateway";

export interface LoadConfig {
  readonly url: string;
  readonly tokens: readonly string[];
  readonly wsClients: number;
  readonly restClients: number;
  readonly restSocketsPerClient: number;
  readonly durationS: number;
  readonly wsRate: number;
  readonly restRate: number;
  readonly wsWindow: number;
  readonly subscribers: number;
  readonly fanoutRate: number;
  readonly fanoutDurationS: number;
  readonly symbol: string;
  readonly referenceTicks: number;
  readonly tickSize: string;
  readonly skip: readonly string[];
  /** Seconds of unrecorded load before the measured phases (JIT, caches, connection pools). */
  readonly warmupS: number;
  /** Orders per message in the batch phases (place_batch / cancel_batch, POST …/batch and …/cancel-batch). */
  readonly batch: number;
}

export interface PhaseResult {
  readonly offeredPerSec: number | null;
  readonly ordersPerSec: number;
  readonly acked: number;
  readonly errors: number;
  readonly unanswered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /**
   * CPU seconds the server process spent (all its threads: the event loop, the store's worker,
   * the collector) from the phase's start until the ledger had settled it, per answered order,
   * in µs: the cost of an order, steadier than throughput on a shared machine.
   */
  readonly serverCpuUsPerOrder?: number;
  /**
   * The part of `serverCpuUsPerOrder` spent on the server's event loop (the one JavaScript
   * thread that sequences orders) and on the embedded database's worker thread (settlement);
   * the rest is the collector's and other helper threads. Null where the server cannot read
   * its threads' CPU time (no /proc).
   */
  readonly serverEventLoopCpuUsPerOrder?: number | null;
  readonly serverStoreCpuUsPerOrder?: number | null;
  /** The load generator's own CPU per answered order over the phase, in µs. */
  readonly loadCpuUsPerOrder?: number;
  /**
   * The server's event loop during the phase (prom-client's `nodejs_eventloop_lag_*`): the
   * longest and the p99 time between two ticks of a 10 ms timer, in ms. 10 ms means the loop
   * never fell behind; what is above it is how long the thread was held (a collection, a
   * snapshot, a long task) or not run at all.
   */
  readonly serverLoopLagMaxMs?: number;
  readonly serverLoopLagP99Ms?: number;
}

const config = JSON.parse(process.env.E2E_CONFIG ?? "{}") as LoadConfig;
const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function price(ticks: number): string {
  const decimals = (config.tickSize.split(".")[1] ?? "").length;
  const text = String(ticks).padStart(decimals + 1, "0");
  return decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
}

/** Corks a WebSocket's TCP socket until the end of the tick, so a burst of sends leaves in one system call. */
const corked = new WeakSet<WebSocket>();
function sendCorked(socket: WebSocket, text: string): void {
  if (!corked.has(socket)) {
    const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (tcp !== undefined) {
      tcp.cork();
      corked.add(socket);
      process.nextTick(() => {
        corked.delete(socket);
        tcp.uncork();
      });
    }
  }
  socket.send(text);
}

/** Orders to place or to cancel, sent as one request (a batch when `--batch` > 1). */
type Step = { readonly kind: "place"; readonly bodies: Array<Record<string, unknown>> } | { readonly kind: "cancel"; readonly orderIds: number[] };

/** What one message or request carried: its scheduled time, how many orders, and whether they were placed. */
interface Sent {
  readonly at: number;
  readonly size: number;
  readonly placed: boolean;
}

function sentOf(step: Step, at: number): Sent {
  return step.kind === "place" ? { at, size: step.bodies.length, placed: true } : { at, size: step.orderIds.length, placed: false };
}

/** Per-client order flow: random limit orders around the reference price; past 20 open orders, cancel the oldest. */
class Flow {
  private readonly rng: Rng;
  private readonly open: number[] = [];
  private counter = 0;

  constructor(
    readonly client: number,
    private readonly tag: string,
  ) {
    this.rng = new Rng(client * 7919 + tag.length);
  }

  /**
   * The next step, of up to `size` orders: cancels of the oldest open orders past 20, else new
   * orders. With `size` 1 that is one cancel or one order, sent as a single request.
   */
  next(size: number): Step {
    if (this.open.length > 20) return { kind: "cancel", orderIds: this.open.splice(0, Math.min(size, this.open.length - 20)) };
    const bodies: Array<Record<string, unknown>> = [];
    for (let i = 0; i < size; i += 1) bodies.push(this.order());
    return { kind: "place", bodies };
  }

  private order(): Record<string, unknown> {
    this.counter += 1;
    return {
      symbol: config.symbol,
      side: this.rng.next() < 0.5 ? "buy" : "sell",
      type: "limit",
      price: price(config.referenceTicks + this.rng.int(-5, 5)),
      quantity: String(this.rng.int(1, 5)),
      clientOrderId: `${this.tag}-${String(this.client)}-${String(this.counter)}`,
    };
  }

  onAck(status: number, body: unknown): void {
    if (status !== 201) return;
    const order = (body as { order?: { orderId?: number; status?: string } | null }).order;
    if (order?.orderId !== undefined && (order.status === "new" || order.status === "partially_filled")) this.open.push(order.orderId);
  }
}

class Recorder {
  readonly latencies: number[] = [];
  acked = 0;
  errors = 0;
  outstanding = 0;

  record(latencyMs: number, ok: boolean): void {
    this.latencies.push(latencyMs);
    this.acked += 1;
    if (!ok) this.errors += 1;
  }

  summary(elapsedS: number, offered: number | null): PhaseResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      offeredPerSec: offered,
      ordersPerSec: Math.round(this.acked / elapsedS),
      acked: this.acked,
      errors: this.errors,
      unanswered: this.outstanding,
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      p999Ms: round(percentile(sorted, 0.999)),
      maxMs: round(sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0)),
    };
  }
}

/**
 * Runs one phase for config.durationS over `clients` senders: with rate 0 a closed
 * loop (each sender starts `window` requests; the caller sends the next on every
 * answer while running), else a fixed schedule of rate/clients per sender, each
 * request stamped with its scheduled time. Waits up to 5 s for stragglers;
 * returns the seconds to divide by.
 */
async function drive(clients: number, window: number, rate: number, send: (index: number, at: number) => void, recorder: Recorder, stop: () => void): Promise<number> {
  const start = nowMs();
  const end = start + config.durationS * 1000;
  if (rate === 0) {
    for (let index = 0; index < clients; index += 1) for (let w = 0; w < window; w += 1) send(index, nowMs());
    await sleep(config.durationS * 1000);
  } else {
    const interval = (1000 * clients) / rate;
    const due = Array.from({ length: clients }, (_, index) => start + (index * interval) / clients);
    while (nowMs() < end) {
      const now = nowMs();
      for (let index = 0; index < clients; index += 1) {
        let next = due[index] ?? now;
        while (next <= now && next < end) {
          send(index, next);
          next += interval;
        }
        due[index] = next;
      }
      await sleep(1);
    }
  }
  stop();
  const elapsed = (nowMs() - start) / 1000;
  const deadline = nowMs() + 5_000;
  while (recorder.outstanding > 0 && nowMs() < deadline) await sleep(10);
  return rate === 0 ? elapsed : config.durationS;
}

async function openSocket(token: string | null): Promise<WebSocket> {
  const socket = new WebSocket(`${config.url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  if (token === null) return socket;
  await new Promise<void>((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(rawText(data)) as { type: string; error?: { message: string } };
      if (message.type === "authenticated") {
        socket.off("message", onMessage);
        resolve();
      } else if (message.type === "error") {
        reject(new Error(message.error?.message ?? "auth failed"));
      }
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ op: "auth", token }));
  });
  return socket;
}

/** The results of a batch answer (`{"results":[{status, body}…]}`), or null when it is not one. */
function batchResults(body: unknown): Array<{ status: number; body: unknown }> | null {
  const results = (body as { results?: unknown } | null)?.results;
  return Array.isArray(results) ? (results as Array<{ status: number; body: unknown }>) : null;
}

/**
 * An answer into the recorder and the flow. A single order is one answered order; each order of a
 * batch is one with the batch's latency, and a refused batch (an error, 429) counts each of its
 * orders as an error.
 */
function recordAnswer(recorder: Recorder, flow: Flow, sent: Sent, batch: boolean, status: number, body: unknown): void {
  const latencyMs = nowMs() - sent.at;
  recorder.outstanding -= sent.size;
  if (!batch) {
    recorder.record(latencyMs, status > 0 && status < 500 && status !== 429);
    if (sent.placed && body !== null) flow.onAck(status, body);
    return;
  }
  const results = status === 200 ? batchResults(body) : null;
  for (let i = 0; i < sent.size; i += 1) {
    const result = results?.[i];
    recorder.record(latencyMs, result !== undefined && result.status < 500 && result.status !== 429);
    if (sent.placed && result !== undefined) flow.onAck(result.status, result.body);
  }
}

/**
 * WebSocket order entry: fixed offered rate (rate > 0) or closed loop with a window (rate = 0).
 * With `batch` > 1 (closed loop only), `place_batch` / `cancel_batch` of up to `batch` orders,
 * ceil(wsWindow ÷ batch) messages in flight per connection.
 */
async function wsPhase(tag: string, rate: number, batch = 1): Promise<PhaseResult> {
  const clients = Math.min(config.wsClients, config.tokens.length);
  const sockets = await Promise.all(config.tokens.slice(0, clients).map((token) => openSocket(token)));
  const recorder = new Recorder();
  const flows = sockets.map((_, index) => new Flow(index, tag));
  const inFlight = sockets.map(() => new Map<number, Sent>());
  let nextId = 1;
  let running = true;
  const send = (index: number, at: number): void => {
    const socket = sockets[index];
    const flow = flows[index];
    if (socket === undefined || flow === undefined) return;
    const id = nextId++;
    const step = flow.next(batch);
    const sent = sentOf(step, at);
    const text =
      batch > 1
        ? JSON.stringify(step.kind === "place" ? { op: "place_batch", id, orders: step.bodies } : { op: "cancel_batch", id, orderIds: step.orderIds })
        : JSON.stringify(step.kind === "place" ? { op: "place", id, order: step.bodies[0] } : { op: "cancel", id, orderId: step.orderIds[0] });
    inFlight[index]?.set(id, sent);
    recorder.outstanding += sent.size;
    sendCorked(socket, text);
  };
  sockets.forEach((socket, index) => {
    socket.on("message", (data: WebSocket.RawData) => {
      const message = JSON.parse(rawText(data)) as { type: string; id?: number; status?: number; body?: unknown };
      if (message.id === undefined || (message.type !== "ack" && message.type !== "error")) return;
      const sent = inFlight[index]?.get(message.id);
      const flow = flows[index];
      if (sent === undefined || flow === undefined) return;
      inFlight[index]?.delete(message.id);
      recordAnswer(recorder, flow, sent, batch > 1, message.type === "ack" ? (message.status ?? 500) : 0, message.type === "ack" ? (message.body ?? null) : null);
      if (running && rate === 0) send(index, nowMs());
    });
  });
  const window = batch > 1 ? Math.max(1, Math.ceil(config.wsWindow / batch)) : config.wsWindow;
  const elapsed = await drive(sockets.length, window, rate, send, recorder, () => {
    running = false;
  });
  for (const socket of sockets) socket.close();
  return recorder.summary(elapsed, rate === 0 ? null : rate);
}

/**
 * REST order entry over keep-alive connections: fixed offered rate or closed loop (rate = 0);
 * with `batch` > 1, `POST /api/v1/orders/batch` and `/cancel-batch` of up to `batch` orders.
 */
async function restPhase(tag: string, rate: number, batch = 1): Promise<PhaseResult> {
  const clients = Math.min(config.restClients, config.tokens.length);
  const url = new URL(config.url);
  const http = Array.from({ length: clients }, () => new KeepAliveHttpClient(url.hostname, Number(url.port), config.restSocketsPerClient));
  const headers = config.tokens.map((token) => `authorization: Bearer ${token}\r\n`);
  const flows = http.map((_, index) => new Flow(index, tag));
  const recorder = new Recorder();
  let running = true;
  const send = (index: number, at: number): void => {
    const flow = flows[index];
    const client = http[index];
    const header = headers[index];
    if (flow === undefined || client === undefined || header === undefined) return;
    const step = flow.next(batch);
    const sent = sentOf(step, at);
    recorder.outstanding += sent.size;
    const done = (error: Error | null, answer: HttpAnswer | null): void => {
      const status = error === null && answer !== null ? answer.status : 0;
      let body: unknown = null;
      try {
        body = answer === null ? null : (JSON.parse(answer.body.toString()) as unknown);
      } catch {
        // Not JSON: counted as answered, nothing to track.
      }
      recordAnswer(recorder, flow, sent, batch > 1, status, body);
      if (running && rate === 0) send(index, nowMs());
    };
    if (step.kind === "place") {
      if (batch > 1) client.request("POST", "/api/v1/orders/batch", header, JSON.stringify({ orders: step.bodies }), done);
      else client.request("POST", "/api/v1/orders", header, JSON.stringify(step.bodies[0]), done);
    } else if (batch > 1) {
      client.request("POST", "/api/v1/orders/cancel-batch", header, JSON.stringify({ orderIds: step.orderIds }), done);
    } else {
      client.request("DELETE", `/api/v1/orders/${String(step.orderIds[0])}`, header, undefined, done);
    }
  };
  const elapsed = await drive(clients, config.restSocketsPerClient, rate, send, recorder, () => {
    running = false;
  });
  for (const client of http) client.close();
  return recorder.summary(elapsed, rate === 0 ? null : rate);
}

/** The first bytes of a trade message on the trades channel. */
const tradePrefix = Buffer.from('{"type":"trade"', "latin1");

/** Many public subscribers (book + trades); a publisher crosses orders; delivery = receipt − order send time. */
async function fanoutPhase(): Promise<{ subscribers: number; connected: number; trades: number; deliveries: number; deliveryP50Ms: number; deliveryP99Ms: number; deliveryMaxMs: number; disconnected: number }> {
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  const sockets: WsSubscriber[] = [];
  let disconnected = 0;
  const pendingTrades = new Map<number, number[]>();
  const onTrade = (tradeId: number, at: number): void => {
    const sentAt = sent.get(tradeId);
    if (sentAt === undefined) {
      // The publisher's ack may arrive after a subscriber's copy: keep the receipt until it does.
      let list = pendingTrades.get(tradeId);
      if (list === undefined) pendingTrades.set(tradeId, (list = []));
      list.push(at);
      return;
    }
    latencies.push(at - sentAt);
  };
  const url = new URL(config.url);
  for (let batch = 0; batch < config.subscribers; batch += 250) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(250, config.subscribers - batch) }, async () => {
        try {
          const socket = await WsSubscriber.connect(url.hostname, Number(url.port), "/ws");
          socket.onMessage = (payload: Buffer) => {
            // Only trades are timed: look at the first bytes before decoding the whole message.
            if (payload.length < tradePrefix.length || payload.compare(tradePrefix, 0, tradePrefix.length, 0, tradePrefix.length) !== 0) return;
            const at = nowMs();
            const tradeId = (JSON.parse(payload.toString("utf8")) as { tradeId: number }).tradeId;
            onTrade(tradeId, at);
          };
          socket.onClose = () => {
            disconnected += 1;
          };
          socket.send(JSON.stringify({ op: "subscribe", channel: "book", symbol: config.symbol, depth: 10 }));
          socket.send(JSON.stringify({ op: "subscribe", channel: "trades", symbol: config.symbol }));
          return socket;
        } catch {
          return null;
        }
      }),
    );
    for (const socket of opened) if (socket !== null) sockets.push(socket);
  }
  await sleep(1_000);
  const [sellerToken, buyerToken] = config.tokens;
  if (sellerToken === undefined || buyerToken === undefined) throw new Error("fan-out needs two trading clients");
  const seller = await openSocket(sellerToken);
  const buyer = await openSocket(buyerToken);
  const sendTimes = new Map<number, number>();
  let id = 1;
  buyer.on("message", (data: WebSocket.RawData) => {
    const message = JSON.parse(rawText(data)) as { type: string; id?: number; body?: { fills?: Array<{ tradeId: number }> } };
    if (message.type !== "ack" || message.id === undefined) return;
    const at = sendTimes.get(message.id);
    if (at === undefined) return;
    for (const fill of message.body?.fills ?? []) {
      sent.set(fill.tradeId, at);
      for (const receivedAt of pendingTrades.get(fill.tradeId) ?? []) latencies.push(receivedAt - at);
      pendingTrades.delete(fill.tradeId);
    }
  });
  const ref = price(config.referenceTicks);
  const end = nowMs() + config.fanoutDurationS * 1000;
  let trades = 0;
  while (nowMs() < end) {
    seller.send(JSON.stringify({ op: "place", id: id++, order: { symbol: config.symbol, side: "sell", type: "limit", price: ref, quantity: "1", clientOrderId: `fan-s-${String(id)}` } }));
    await sleep(5);
    const buyId = id++;
    sendTimes.set(buyId, nowMs());
    buyer.send(JSON.stringify({ op: "place", id: buyId, order: { symbol: config.symbol, side: "buy", type: "limit", timeInForce: "IOC", price: ref, quantity: "1", clientOrderId: `fan-b-${String(buyId)}` } }));
    trades += 1;
    await sleep(1000 / config.fanoutRate - 5);
  }
  await sleep(2_000);
  const connected = sockets.length;
  for (const socket of sockets) socket.terminate();
  seller.close();
  buyer.close();
  const sorted = Float64Array.from(latencies).sort();
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    subscribers: config.subscribers,
    connected,
    trades,
    deliveries: latencies.length,
    deliveryP50Ms: round(percentile(sorted, 0.5)),
    deliveryP99Ms: round(percentile(sorted, 0.99)),
    deliveryMaxMs: round(sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0)),
    disconnected,
  };
}

/** A gauge's value from the server's /metrics text. */
function gauge(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/**
 * Waits until the ledger has settled every event the engine emitted (the server is
 * quiet again), so that each measured phase starts from the same state and not in the
 * middle of the previous phase's settlement backlog. Returns how long that took.
 */
async function settled(limitMs = 120_000): Promise<number> {
  const started = nowMs();
  while (nowMs() - started < limitMs) {
    const text = await (await fetch(`${config.url}/metrics`)).text();
    if (gauge(text, "tradestream_ledger_offset") >= gauge(text, "tradestream_engine_event_seq")) return Math.round(nowMs() - started);
    await sleep(100);
  }
  throw new Error(`the ledger did not catch up within ${String(limitMs)} ms`);
}

/**
 * Cancels every trading client's open orders. A REST phase leaves its clients' last orders
 * resting (a WebSocket phase's go with their sessions): left there, they would trade with the
 * fan-out phase's publisher instead of its own two orders, and the trades it times would not
 * be the ones the subscribers see.
 */
async function cancelAll(): Promise<void> {
  await Promise.all(
    config.tokens.map(async (token) => {
      const response = await fetch(`${config.url}/api/v1/orders/mass-cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: "{}",
      });
      if (response.status >= 300) throw new Error(`mass cancel failed: ${String(response.status)} ${await response.text()}`);
    }),
  );
}

/** The server's CPU seconds so far: the whole process, its event loop's thread and its store's worker thread (NaN when not exported). */
async function serverCpuSeconds(): Promise<{ process: number; eventLoop: number; store: number }> {
  const text = await (await fetch(`${config.url}/metrics`)).text();
  return {
    process: gauge(text, "tradestream_process_cpu_seconds_total"),
    eventLoop: gauge(text, 'tradestream_thread_cpu_seconds_total{thread="event_loop"}'),
    store: gauge(text, 'tradestream_thread_cpu_seconds_total{thread="store"}'),
  };
}

/**
 * Runs a phase and charges it the server's and the load generator's CPU until the ledger has settled it.
 * The server's event-loop lag figures cover the phase alone: prom-client starts them afresh at every
 * scrape, and nothing scrapes between the one before the phase and the one right after it.
 */
async function costed(phase: () => Promise<PhaseResult>, catchUp: (ms: number) => void): Promise<PhaseResult> {
  const serverBefore = await serverCpuSeconds();
  const loadBefore = process.cpuUsage();
  const result = await phase();
  const load = process.cpuUsage(loadBefore);
  const lagText = await (await fetch(`${config.url}/metrics`)).text();
  const lagMs = (name: string): number => Math.round(gauge(lagText, `tradestream_nodejs_eventloop_lag_${name}_seconds`) * 10_000) / 10;
  catchUp(await settled());
  const serverAfter = await serverCpuSeconds();
  const perOrder = (us: number): number => (result.acked === 0 ? 0 : Math.round((us * 10) / result.acked) / 10);
  const threadPerOrder = (seconds: number): number | null => (Number.isFinite(seconds) ? perOrder(seconds * 1e6) : null);
  return {
    ...result,
    serverCpuUsPerOrder: perOrder((serverAfter.process - serverBefore.process) * 1e6),
    serverEventLoopCpuUsPerOrder: threadPerOrder(serverAfter.eventLoop - serverBefore.eventLoop),
    serverStoreCpuUsPerOrder: threadPerOrder(serverAfter.store - serverBefore.store),
    loadCpuUsPerOrder: perOrder(load.user + load.system),
    serverLoopLagMaxMs: lagMs("max"),
    serverLoopLagP99Ms: lagMs("p99"),
  };
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {};
  const catchUpMs: Record<string, number> = {};
  const skip = new Set(config.skip);
  if (config.warmupS > 0) {
    // A fresh server runs unoptimized code at first: warm it with both order paths, unrecorded.
    const measured = config.durationS;
    (config as { durationS: number }).durationS = config.warmupS;
    await wsPhase("warm", Math.min(config.wsRate, 2_000));
    await restPhase("warmr", Math.min(config.restRate, 500));
    (config as { durationS: number }).durationS = measured;
  }
  catchUpMs.warmup = await settled();
  if (!skip.has("ws") && !skip.has("ws-fixed")) {
    result.wsFixed = await costed(() => wsPhase("wsf", config.wsRate), (ms) => (catchUpMs.wsFixed = ms));
  }
  if (!skip.has("ws") && !skip.has("ws-max")) {
    result.wsMax = await costed(() => wsPhase("wsm", 0), (ms) => (catchUpMs.wsMax = ms));
  }
  if (!skip.has("rest") && !skip.has("rest-fixed")) {
    result.restFixed = await costed(() => restPhase("rsf", config.restRate), (ms) => (catchUpMs.restFixed = ms));
  }
  if (!skip.has("rest") && !skip.has("rest-max")) {
    result.restMax = await costed(() => restPhase("rsm", 0), (ms) => (catchUpMs.restMax = ms));
  }
  if (!skip.has("ws") && !skip.has("ws-batch") && config.batch > 1) {
    result.wsBatchMax = await costed(() => wsPhase("wsb", 0, config.batch), (ms) => (catchUpMs.wsBatchMax = ms));
  }
  if (!skip.has("rest") && !skip.has("rest-batch") && config.batch > 1) {
    result.restBatchMax = await costed(() => restPhase("rsb", 0, config.batch), (ms) => (catchUpMs.restBatchMax = ms));
  }
  if (!skip.has("fanout")) {
    await cancelAll();
    await settled();
    result.fanout = await fanoutPhase();
  }
  // After each phase: how long the settlement projection took to catch up with the engine.
  result.ledgerCatchUpMs = catchUpMs;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`load generator failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
