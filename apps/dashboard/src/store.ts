/**
 * The dashboard's live state: instruments, tickers, the selected book, trades,
 * candles, the user's orders, fills, balances and positions. Messages from the
 * WebSocket mutate it at any rate; React hears about it at most once per
 * `refreshRate` (one version bump per batch), so a busy market costs one
 * repaint per period, not one per message.
 *
 * The private part (orders, fills, balances, positions) belongs to one trading
 * account at a time (`account`): switching it empties that part, and anything
 * of another account — a late WebSocket update, a slow REST answer — is dropped,
 * so one account's figures never show under another's name.
 *
 * The book applies sequenced deltas on top of a snapshot; a delta whose seq is
 * not the previous + 1 means messages were lost, and the store asks for a fresh
 * snapshot (`onGap`) instead of showing a wrong book.
 */
import { cmp, parseDec } from "./decimal.ts";
import type { Balance, Candle, Fill, Instrument, Level, Order, Position, PublicTrade, Ticker } from "./types.ts";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export interface BookState {
  seq: number;
  readonly bids: Map<string, Level>;
  readonly asks: Map<string, Level>;
}

/** Bounds on what is kept in memory for a session left open all day. */
export const tradesKeptMax = 200;
export const fillsKeptMax = 1_000;
export const ordersKeptMax = 2_000;
export const candlesKeptMax = 1_500;

type Listener = () => void;

function byPriceDesc(a: Level, b: Level): number {
  const x = parseDec(a[0]);
  const y = parseDec(b[0]);
  return x === null || y === null ? 0 : -cmp(x, y);
}

export class Store {
  version = 0;
  connection: ConnectionState = "connecting";
  readonly instruments = new Map<string, Instrument>();
  readonly tickers = new Map<string, Ticker>();
  readonly books = new Map<string, BookState>();
  readonly trades = new Map<string, PublicTrade[]>();
  candles: { symbol: string; interval: string; items: Candle[] } | null = null;
  readonly orders = new Map<number, Order>();
  fills: Fill[] = [];
  readonly balances = new Map<string, Balance>();
  readonly positions = new Map<string, Position>();
  /** Called when a book lost messages: resubscribe for a fresh snapshot. */
  onGap: (symbol: string) => void = () => undefined;
  /** Book resyncs so far (shown in the connection details, counted in tests). */
  resyncs = 0;
  /** The trading account whose orders, fills, balances and positions are kept (null: whatever arrives, for users without one). */
  account: number | null = null;

  private dirty = false;
  private readonly listeners = new Set<Listener>();
  private readonly candleListeners = new Set<(candle: Candle) => void>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly refreshRateMs: number) {}

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.refreshRateMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  readonly subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getVersion = (): number => this.version;

  /** Candle updates as they come (the chart draws them itself, outside React). */
  onCandle(listener: (candle: Candle) => void): () => void {
    this.candleListeners.add(listener);
    return () => this.candleListeners.delete(listener);
  }

  /** Marks a change; it becomes visible at the next repaint. */
  touch(): void {
    this.dirty = true;
  }

  /** Repaints now (after the user's own action, which should not wait for the period). */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.version += 1;
    for (const listener of this.listeners) listener();
  }

  setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    this.touch();
    this.flush();
  }

  /** Switches the private part to another account: what was kept of the previous one is dropped. */
  setAccount(accountId: number | null): void {
    if (this.account === accountId) return;
    this.account = accountId;
    this.orders.clear();
    this.fills = [];
    this.balances.clear();
    this.positions.clear();
    this.touch();
  }

  /** Whether a private record belongs to the current account. */
  private mine(accountId: number): boolean {
    return this.account === null || accountId === this.account;
  }

  setInstruments(items: readonly Instrument[]): void {
    for (const item of items) this.instruments.set(item.symbol, item);
    this.touch();
  }

  setOrders(items: readonly Order[]): void {
    for (const item of items) this.upsertOrder(item);
    this.touch();
  }

  setFills(items: readonly Fill[]): void {
    const known = new Set(this.fills.map((fill) => `${String(fill.tradeId)}:${String(fill.orderId)}`));
    const fresh = items.filter((fill) => this.mine(fill.accountId) && !known.has(`${String(fill.tradeId)}:${String(fill.orderId)}`));
    this.fills = [...this.fills, ...fresh].sort((a, b) => b.tradeId - a.tradeId).slice(0, fillsKeptMax);
    this.touch();
  }

  setCandles(symbol: string, interval: string, items: Candle[]): void {
    this.candles = { symbol, interval, items: items.slice(-candlesKeptMax) };
    this.touch();
  }

  /** Recent trades loaded over REST, merged with any that arrived live meanwhile. */
  setTrades(symbol: string, items: readonly PublicTrade[]): void {
    const byId = new Map<number, PublicTrade>();
    for (const trade of [...items, ...(this.trades.get(symbol) ?? [])]) byId.set(trade.tradeId, trade);
    this.trades.set(symbol, [...byId.values()].sort((a, b) => b.tradeId - a.tradeId).slice(0, tradesKeptMax));
    this.touch();
  }

  upsertOrder(order: Order): void {
    if (!this.mine(order.accountId)) return;
    const known = this.orders.get(order.orderId);
    // Updates can overtake the REST answer that loaded the blotter: keep the newest.
    if (known !== undefined && known.updatedAt > order.updatedAt) return;
    this.orders.set(order.orderId, order);
    if (this.orders.size > ordersKeptMax) {
      for (const [id, item] of this.orders) {
        if (!isOpen(item.status)) {
          this.orders.delete(id);
          if (this.orders.size <= ordersKeptMax) break;
        }
      }
    }
    this.touch();
  }

  /** One WebSocket message. */
  apply(message: Record<string, unknown>): void {
    switch (message.type) {
      case "snapshot": {
        const symbol = String(message.symbol);
        const book: BookState = { seq: Number(message.seq), bids: new Map(), asks: new Map() };
        for (const level of (message.bids as Level[] | undefined) ?? []) book.bids.set(level[0], level);
        for (const level of (message.asks as Level[] | undefined) ?? []) book.asks.set(level[0], level);
        this.books.set(symbol, book);
        this.touch();
        return;
      }
      case "delta": {
        const symbol = String(message.symbol);
        const book = this.books.get(symbol);
        const seq = Number(message.seq);
        if (book === undefined) return;
        if (seq <= book.seq) return;
        if (seq !== book.seq + 1) {
          this.resyncs += 1;
          book.seq = Number.MAX_SAFE_INTEGER;
          this.onGap(symbol);
          return;
        }
        book.seq = seq;
        for (const change of (message.changes as Array<[string, string, string, number]> | undefined) ?? []) {
          const [side, price, quantity, orders] = change;
          const levels = side === "buy" ? book.bids : book.asks;
          if (quantity === "0" || orders === 0) levels.delete(price);
          else levels.set(price, [price, quantity, orders]);
        }
        this.touch();
        return;
      }
      case "trade": {
        const trade = message as unknown as PublicTrade;
        const list = this.trades.get(trade.symbol) ?? [];
        // A trade already loaded over REST (the two can overlap at start-up) is not shown twice.
        if (list.some((known) => known.tradeId === trade.tradeId)) return;
        list.unshift(trade);
        if (list.length > tradesKeptMax) list.length = tradesKeptMax;
        this.trades.set(trade.symbol, list);
        this.touch();
        return;
      }
      case "ticker": {
        const ticker = message as unknown as Ticker;
        this.tickers.set(ticker.symbol, ticker);
        const instrument = this.instruments.get(ticker.symbol);
        if (instrument !== undefined && ticker.state !== undefined && (ticker.state !== instrument.state || (ticker.referencePrice !== undefined && ticker.referencePrice !== instrument.referencePrice))) {
          this.instruments.set(ticker.symbol, { ...instrument, state: ticker.state, referencePrice: ticker.referencePrice ?? instrument.referencePrice });
        }
        this.touch();
        return;
      }
      case "candle": {
        const candle = message as unknown as Candle & { symbol: string; interval: string };
        const series = this.candles;
        if (series === null || series.symbol !== candle.symbol || series.interval !== candle.interval) return;
        const last = series.items[series.items.length - 1];
        if (last !== undefined && last.start === candle.start) series.items[series.items.length - 1] = candle;
        else if (last === undefined || last.start < candle.start) {
          series.items.push(candle);
          if (series.items.length > candlesKeptMax) series.items.shift();
        }
        for (const listener of this.candleListeners) listener(candle);
        return;
      }
      case "order":
        this.upsertOrder(message.order as Order);
        return;
      case "fill":
        this.setFills([message.fill as Fill]);
        return;
      case "balance": {
        const balance = message as unknown as Balance;
        if (!this.mine(balance.accountId)) return;
        this.balances.set(`${String(balance.accountId)}:${balance.currency}`, balance);
        this.touch();
        return;
      }
      case "position": {
        const position = message as unknown as Position;
        if (!this.mine(position.accountId)) return;
        this.positions.set(`${String(position.accountId)}:${position.symbol}`, position);
        this.touch();
        return;
      }
      default:
        return;
    }
  }

  /** The book's levels, best first, with the cumulative size from the best price. */
  ladder(symbol: string, depth: number): { bids: Level[]; asks: Level[] } {
    const book = this.books.get(symbol);
    if (book === undefined) return { bids: [], asks: [] };
    const bids = [...book.bids.values()].sort(byPriceDesc).slice(0, depth);
    const asks = [...book.asks.values()].sort((a, b) => -byPriceDesc(a, b)).slice(0, depth);
    return { bids, asks };
  }

  openOrders(): Order[] {
    return [...this.orders.values()].filter((order) => isOpen(order.status)).sort((a, b) => b.orderId - a.orderId);
  }

  orderHistory(): Order[] {
    return [...this.orders.values()].sort((a, b) => b.orderId - a.orderId);
  }
}

export function isOpen(status: string): boolean {
  return status === "new" || status === "partially_filled" || status === "pending_trigger";
}
