/** Public market data: instruments, L2 book, recent trades, candles, tickers. */
import { candleIntervals, type CandleInterval } from "@tradestream/marketdata";
import { fromSteps } from "@tradestream/kernel";
import type { FastifyInstance } from "fastify";
import type { GatewayContext } from "../app.ts";
import { candleDto, instrumentDto, tickerDto, tradeDto } from "../format.ts";
import { anyObject, errorResponse, symbolParams } from "../schemas.ts";

const errors = { 400: errorResponse, 404: errorResponse, 429: errorResponse };
const publicRoute = { auth: "public" } as const;

export function registerMarketRoutes(app: FastifyInstance, context: GatewayContext): void {
  const { deps, orderService } = context;

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

  app.get<{ Params: { symbol: string }; Querystring: { interval: CandleInterval; limit: number; from?: string; to?: string } }>(
    "/api/v1/markets/:symbol/candles",
    {
      config: publicRoute,
      schema: {
        tags: ["markets"],
        summary: "Candles (OHLCV), oldest first",
        security: [],
        params: symbolParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            interval: { type: "string", enum: [...candleIntervals], default: "1m" },
            limit: { type: "integer", minimum: 1, maximum: 1500, default: 200 },
            from: { type: "string", format: "date-time" },
            to: { type: "string", format: "date-time" },
          },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const spec = orderService.instrumentOf({ symbol: request.params.symbol });
      const toUs = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text) * 1000);
      const candles = deps.market.candles(spec.instrumentId, request.query.interval, { limit: request.query.limit, fromUs: toUs(request.query.from), toUs: toUs(request.query.to) });
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
}
