/**
 * The market simulator: market makers quote five levels a side around a
 * drifting fair value and noise traders send small marketable orders, so the
 * book and the tape are alive. It is a client like any other — it signs in with
 * an API key and trades over the public WebSocket API — and it is seeded, so
 * the sequence of its decisions can be reproduced. It follows the instruments'
 * reference prices (which the market-data ingestor moves with the external
 * feed) so that its orders stay inside the engine's price collar.
 */
import { randomBytes } from "node:crypto";
import { signRequest } from "@tradestream/auth";
import { fromSteps, mulberry32, toSteps } from "@tradestream/kernel";
import WebSocket from "ws";
import { demoAccounts } from "./demo.ts";
import { rawText } from "@tradestream/gateway";

export interface SimulatorOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly keyId: string;
  readonly secret: string;
  readonly seed: number;
  readonly tickMs: number;
  readonly logger: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
}

interface MarketInfo {
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly referencePrice: string;
  readonly priceBandBps: number;
  readonly state: string;
}

interface Ack {
  readonly type: string;
  readonly id?: number;
  readonly status?: number;
  readonly body?: { readonly order?: { readonly orderId?: number } | null };
  readonly error?: { readonly code: string; readonly message: string };
}

/** How often (in ticks) the simulator re-reads the reference prices. */
const referenceRefreshTicks = 4;

export interface Simulator {
  stop(): Promise<void>;
  readonly stats: { sent: number; accepted: number; rejected: number };
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const random = mulberry32(options.seed);
  const response = await fetch(`${options.url}/api/v1/markets`);
  let markets = ((await response.json()) as { items: MarketInfo[] }).items;
  const wsUrl = `${options.url.replace(/^http/, "ws")}/ws`;
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const waiting = new Map<number, (ack: Ack) => void>();
  let nextId = 1;
  socket.on("message", (data: WebSocket.RawData) => {
    const message = JSON.parse(rawText(data)) as Ack;
    if (message.id !== undefined) {
      const resolve = waiting.get(message.id);
      waiting.delete(message.id);
      resolve?.(message);
    }
  });
  socket.on("close", () => {
    // Nothing more will be answered: release every waiter so the loop can end.
    for (const resolve of waiting.values()) resolve({ type: "closed" });
    waiting.clear();
  });
  const request = (message: Record<string, unknown>): Promise<Ack> => {
    if (socket.readyState !== WebSocket.OPEN) return Promise.resolve({ type: "closed" });
    const id = nextId++;
    return new Promise<Ack>((resolve) => {
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ ...message, id }));
    });
  };
  const timestamp = String(Date.now());
  const nonce = randomBytes(12).toString("base64url");
  const signature = signRequest(options.secret, { timestamp, nonce, method: "GET", path: "/ws", body: "" });
  const auth = await request({ op: "auth", apiKey: { keyId: options.keyId, timestamp, nonce, signature } });
  if (auth.type !== "authenticated") throw new Error(`simulator could not sign in: ${auth.error?.message ?? auth.type}`);

  const stats = { sent: 0, accepted: 0, rejected: 0 };
  const fair = new Map<string, number>();
  const quotes = new Map<string, number[]>();
  let running = true;
  // Each account's orders are numbered in a run (…-2001-1, …-2001-2, …), as most clients number theirs: the
  // engine then keeps the day's ids as counters, and its snapshots stay small and quick. The start time in
  // the prefix keeps the ids of a restarted simulator apart from the earlier process's on the same day.
  const idPrefix = `sim-${String(options.seed)}-${Date.now().toString(36)}-`;
  const counters = new Map<number, number>();
  const clientOrderId = (accountId: number): string => {
    const next = (counters.get(accountId) ?? 0) + 1;
    counters.set(accountId, next);
    return `${idPrefix}${String(accountId)}-${String(next)}`;
  };

  const place = async (order: Record<string, unknown> & { readonly accountId: number }): Promise<number | null> => {
    stats.sent += 1;
    const ack = await request({ op: "place", order: { ...order, clientOrderId: clientOrderId(order.accountId) } });
    if (ack.type === "ack" && ack.status !== undefined && ack.status < 300) {
      stats.accepted += 1;
      return ack.body?.order?.orderId ?? null;
    }
    stats.rejected += 1;
    return null;
  };

  let ticks = 0;
  const refreshMarkets = async (): Promise<void> => {
    const fresh = await fetch(`${options.url}/api/v1/markets`);
    if (fresh.ok) markets = ((await fresh.json()) as { items: MarketInfo[] }).items;
  };

  const tick = async (): Promise<void> => {
    if ((ticks += 1) % referenceRefreshTicks === 0) await refreshMarkets();
    const work: Array<Promise<unknown>> = [];
    markets.forEach((market, index) => {
      const reference = toSteps(market.referencePrice, market.tickSize);
      if (!reference.ok) return;
      const band = Math.floor((reference.steps * market.priceBandBps) / 20_000);
      const previous = fair.get(market.symbol) ?? reference.steps;
      const shock = random() < 0.02 ? 8 : 1;
      // Drawn back towards the reference price, which moves with the external feed.
      const pull = Math.round((reference.steps - previous) / 10);
      const next = Math.min(reference.steps + band, Math.max(reference.steps - band, previous + pull + Math.round((random() - 0.5) * 6 * shock)));
      fair.set(market.symbol, next);
      const maker = demoAccounts.marketMakers[index % demoAccounts.marketMakers.length] ?? 2001;
      for (const orderId of quotes.get(market.symbol) ?? []) work.push(request({ op: "cancel", orderId }));
      const placed: Array<Promise<number | null>> = [];
      for (let level = 1; level <= 5; level += 1) {
        const size = 10 * (1 + Math.floor(random() * 20));
        for (const side of ["buy", "sell"] as const) {
          const ticks = side === "buy" ? next - level * 2 : next + level * 2;
          placed.push(place({ accountId: maker, symbol: market.symbol, side, type: "limit", timeInForce: "DAY", price: fromSteps(ticks, market.tickSize), quantity: fromSteps(size, market.lotSize) }));
        }
      }
      work.push(Promise.all(placed).then((ids) => quotes.set(market.symbol, ids.filter((id): id is number => id !== null))));
      if (random() < 0.6) {
        const trader = demoAccounts.noise[Math.floor(random() * demoAccounts.noise.length)] ?? 3001;
        const side = random() < 0.5 ? "buy" : "sell";
        const quantity = fromSteps(1 + Math.floor(random() * 40), market.lotSize);
        const order =
          random() < 0.5
            ? { accountId: trader, symbol: market.symbol, side, type: "market", quantity }
            : { accountId: trader, symbol: market.symbol, side, type: "limit", timeInForce: "IOC", price: fromSteps(side === "buy" ? next + 3 : next - 3, market.tickSize), quantity };
        work.push(place(order));
      }
    });
    await Promise.all(work);
  };

  const loop = async (): Promise<void> => {
    while (running && socket.readyState === WebSocket.OPEN) {
      try {
        await tick();
      } catch (error) {
        options.logger.warn("simulator tick failed", { error: String(error) });
      }
      await new Promise((resolve) => setTimeout(resolve, options.tickMs));
    }
  };
  const done = loop();
  options.logger.info("market simulator trading through the API", { instruments: markets.length, tickMs: options.tickMs });
  return {
    stats,
    async stop() {
      running = false;
      await done;
      socket.close();
    },
  };
}
