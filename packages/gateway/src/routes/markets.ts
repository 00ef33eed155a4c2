/**
 * Public market data: instruments, L2 book, recent trades, candles, tickers —
 * and, when an external feed runs (the ingestor), its candles, tickers and
 * status under /api/v1/feed; its dead letters are for SRE and admins only.
 */
import { candleIntervals, type CandleInterval, type InstrumentInfo, type MarketDataProjection } from "@tradestream/marketdata";
import { fromSteps } from "@tradestream/kernel";
import type { FastifyInstance } from "fastify";
import { requirePermission } from "../access.ts";
import { ApiError } from "../api-error.ts";
import type { GatewayContext } from "../app.ts";
import { candleDto, instrumentDto, tickerDto, tradeDto } from "../format.ts";
import { anyObject, errorResponse, symbolParams } from "../schemas.ts";

const errors = { 400: errorResponse, 404: errorResponse, 429: errorResponse };
const publicRoute = { auth: "public" } as const;

/** The external market-data feed as the gateway serves it (the ingestor provides it). */
export interface FeedPort {
  /** The external feed's instruments, candles and tickers: a market-data projection of its own. */
  readonly market: MarketDataProjection;
  /** For operators: sources (state, reconnects, counts, last error) and instruments (last update, stale, reference price); never a secret. */
  status(): Record<string, unknown>;
  /** For anyone: each source's state and each instrument's last update and staleness; no error texts or counts. */
  publicStatus(): Record<string, unknown>;
  /** The newest refused records with their reasons, newest first. */
  deadLetters(limit: number): ReadonlyArray<Record<string, unknown>>;
}

/** Dead letters one request may read. */
const feedDeadLettersMax = 1_000;

const candleQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    interval: { type: "string", enum: [...candleIntervals], default: "1m" },
    limit: { type: "integer", minimum: 1, maximum: 1500, default: 200 },
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
  },
} as const;

type CandleQuerystring = { interval: CandleInterval; limit: number; from?: string; to?: string };

function candleRange(query: CandleQuerystring): { limit: number; fromUs: number | undefined; toUs: number | undefined } {
  const toUs = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text) * 1000);
  return { limit: query.limit, fromUs: toUs(query.from), toUs: toUs(query.to) };
}

export function registerMarketRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { deps, orderService } = context;

  app.get(
    "/api/v1/trading-day",
    {
      config: publicRoute,
      schema: {
        tags: ["markets"],
        summary: "The trading day: its scheduled close (when DAY orders expire), the next close, when the current day began",
        security: [],
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["closesAt", "nextCloseAt", "startedAt"],
            properties: {
              closesAt: { type: ["string", "null"], description: 'The schedule, e.g. "17:30 Europe/Paris Mon-Fri, holidays euronext"; null when the day ends only on demand' },
              nextCloseAt: { type: ["string", "null"], format: "date-time", description: "The next scheduled close" },
              startedAt: { type: ["string", "null"], format: "date-time", description: "When the current trading day began (the last end of day); null before the first" },
            },
          },
          ...errors,
        },
      },
    },
    async () => deps.tradingDay?.() ?? { closesAt: null, nextCloseAt: null, startedAt: null },
  );

  app.get(
    "/api/v1/markets",
    { config: publicRoute, schema: { tags: ["markets"], summary: "List instruments", security: [], response: { 200: anyObject, ...errors } } },
    async () => ({ items: deps.market.instruments().map(instrumentDto) }),
  );

  app.get<{ Params: { symbol: string } }>(
    "/api/v1/markets/:symbol",
    { config: publicRoute, schema: { tags: ["markets"], summary: "Instrument detail", security: [], params: symbolParams, response: { 200: anyObject, ...errors } } },
    async (request) => instrumentDto(orderService.instrumentOf({ symbol: request.params.symbol })),
  );

  app.get<{ Params: { symbol: string }; Querystring: { depth: number } }>(
    "/api/v1/markets/:symbol/book",
    {
      config: publicRoute,
      schema: {
        tags: ["markets"],
        summary: "Level-2 order book (aggregated by price)",
        security: [],
        params: symbolParams,
        querystring: { type: "object", additionalProperties: false, properties: { depth: { type: "integer", minimum: 1, maximum: 1000, default: 20 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      const book = deps.market.book(spec.instrumentId, request.query.depth);
      const level = (entry: { priceTicks: number; qtyLots: number; orderCount: number }): [string, string, number] => [fromSteps(entry.priceTicks, spec.tickSize), fromSteps(entry.qtyLots, spec.lotSize), entry.orderCount];
      return { symbol: spec.symbol, seq: book?.seq ?? 0, bids: (book?.bids ?? []).map(level), asks: (book?.asks ?? []).map(level) };
    },
  );

  app.get<{ Params: { symbol: string }; Querystring: { limit: number } }>(
    "/api/v1/markets/:symbol/trades",
    {
      config: publicRoute,
      schema: {
        tags: ["markets"],
        summary: "Recent trades, newest first",
        security: [],
        params: symbolParams,
        querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      return { items: deps.market.trades(spec.instrumentId, request.query.limit).map((trade) => tradeDto(trade, spec)) };
    },
  );

  app.get<{ Params: { symbol: string }; Querystring: CandleQuerystring }>(
    "/api/v1/markets/:symbol/candles",
    {
      config: publicRoute,
      schema: {
        tags: ["markets"],
        summary: "Candles (OHLCV), oldest first",
        security: [],
        params: symbolParams,
        querystring: candleQuery,
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      const candles = deps.market.candles(spec.instrumentId, request.query.interval, candleRange(request.query));
      return { items: candles.map((candle) => candleDto(candle, spec)) };
    },
  );

  app.get<{ Params: { symbol: string } }>(
    "/api/v1/markets/:symbol/ticker",
    { config: publicRoute, schema: { tags: ["markets"], summary: "Ticker: last, change, high, low, volume, VWAP, best bid/ask", security: [], params: symbolParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      const ticker = deps.market.ticker(spec.instrumentId);
      return ticker === undefined ? { symbol: spec.symbol, last: null } : tickerDto(ticker, spec);
    },
  );

  registerFeedRoutes(app, context);
}

/** The external feed's routes: public market data and status, role-authorized dead letters. */
function registerFeedRoutes(app: FastifyInstance, context: GatewayContext): void {
  const feed = (): FeedPort => {
    const port = context.deps.feed;
    if (port === undefined) throw new ApiError("feed_not_configured");
    return port;
  };
  const feedInstrument = (symbol: string): { port: FeedPort; info: InstrumentInfo } => {
    const port = feed();
    const info = port.market.instrument(symbol);
    if (info === undefined) throw new ApiError("unknown_instrument", `The external feed has no instrument ${symbol}.`);
    return { port, info };
  };

  app.get(
    "/api/v1/feed/status",
    { config: publicRoute, schema: { tags: ["markets"], summary: "External market-data feed: whether each source is up, and stale instruments", security: [], response: { 200: anyObject, ...errors } } },
    async () => feed().publicStatus(),
  );

  app.get(
    "/api/v1/ops/feed",
    { schema: { tags: ["ops"], summary: "External feed in detail: reconnects, counts, last errors, dead letters by reason, buses, reference prices (SRE, admin)", response: { 200: anyObject, 401: errorResponse, 403: errorResponse, ...errors } } },
    async (request) => {
      requirePermission(context.principal(request), "ops_status");
      return feed().status();
    },
  );

  app.get<{ Params: { symbol: string } }>(
    "/api/v1/feed/markets/:symbol/ticker",
    { config: publicRoute, schema: { tags: ["markets"], summary: "External feed ticker: last, change, high, low, volume, VWAP, best bid/ask", security: [], params: symbolParams, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const { port, info } = feedInstrument(request.params.symbol);
      const ticker = port.market.ticker(info.instrumentId);
      return ticker === undefined ? { symbol: info.symbol, last: null } : tickerDto(ticker, info);
    },
  );

  app.get<{ Params: { symbol: string }; Querystring: CandleQuerystring }>(
    "/api/v1/feed/markets/:symbol/candles",
    { config: publicRoute, schema: { tags: ["markets"], summary: "External feed candles (OHLCV), oldest first", security: [], params: symbolParams, querystring: candleQuery, response: { 200: anyObject, ...errors } } },
    async (request) => {
      const { port, info } = feedInstrument(request.params.symbol);
      return { items: port.market.candles(info.instrumentId, request.query.interval, candleRange(request.query)).map((candle) => candleDto(candle, info)) };
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    "/api/v1/feed/dead-letters",
    {
      schema: {
        tags: ["ops"],
        summary: "Refused external records with their reasons, newest first (SRE, admin)",
        querystring: { type: "object", additionalProperties: false, properties: { limit: { type: "integer", minimum: 1, maximum: feedDeadLettersMax, default: 100 } } },
        response: { 200: anyObject, 401: errorResponse, 403: errorResponse, ...errors },
      },
    },
    async (request) => {
      requirePermission(context.principal(request), "ops_status");
      return { items: feed().deadLetters(request.query.limit) };
    },
  );
}
