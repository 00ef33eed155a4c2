/**
 * Market data over generated command streams through the real engine, checked
 * after every command:
 * - each instrument's book deltas carry consecutive seqs, at most one per command;
 * - replaying the deltas onto an empty book gives `book(id, ∞)`, and that book
 *   equals the engine's own book levels;
 * - the ticker's last price, best bid and ask, reference price and trading
 *   state equal the engine's.
 * And at the end of the stream, against models computed from the trades alone:
 * every interval's candles, and the ticker's day statistics and previous close.
 *
 * The stream's timestamps are stretched and shifted so that it crosses a UTC
 * midnight and many candle boundaries. PROP_RUNS sets the number of runs; a
 * failure is minimized and printed with fast-check's seed.
 */
import type { Command, EngineEvent, Side, TradeExecuted } from "@tradestream/contracts";
import { Engine } from "@tradestream/engine";
import { type GeneratedStream, type StreamCase, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "@tradestream/engine/generators";
import fc from "fast-check";
import { describe, it } from "vitest";
import { bucketStartUs, candleIntervals, dayUs, intervalUs } from "./candles.ts";
import { MarketDataProjection } from "./projection.ts";
import { retimed, type Timing, timingArbitrary } from "./retime.ts";
import type { BookLevel, Candle, MarketUpdate } from "./types.ts";

type Row = [number, number, number];

function rows(levels: readonly BookLevel[]): Row[] {
  return levels.map((l) => [l.priceTicks, l.qtyLots, l.orderCount]);
}

/** The book the deltas describe: "instrument:side" → price → [qty, count]. */
class DeltaBook {
  private readonly sides = new Map<string, Map<number, [number, number]>>();

  apply(instrumentId: number, change: { side: Side; priceTicks: number; qtyLots: number; orderCount: number }): void {
    const key = `${instrumentId}:${change.side}`;
    const side = this.sides.get(key) ?? new Map<number, [number, number]>();
    this.sides.set(key, side);
    if (change.qtyLots === 0) side.delete(change.priceTicks);
    else side.set(change.priceTicks, [change.qtyLots, change.orderCount]);
  }

  levels(instrumentId: number, side: Side): Row[] {
    const entries = [...(this.sides.get(`${instrumentId}:${side}`) ?? new Map<number, [number, number]>())];
    entries.sort((a, b) => (side === "buy" ? b[0] - a[0] : a[0] - b[0]));
    return entries.map(([price, [qty, count]]) => [price, qty, count]);
  }
}

function expectedCandles(trades: readonly TradeExecuted[], instrumentId: number, lengthUs: number): number[][] {
  const byStart = new Map<number, number[]>();
  for (const t of trades) {
    if (t.instrumentId !== instrumentId) continue;
    const startUs = bucketStartUs(t.tsUs, lengthUs);
    const c = byStart.get(startUs);
    if (c === undefined) byStart.set(startUs, [startUs, t.priceTicks, t.priceTicks, t.priceTicks, t.priceTicks, t.qtyLots, t.notionalMinor, 1]);
    else byStart.set(startUs, [startUs, c[1] ?? 0, Math.max(c[2] ?? 0, t.priceTicks), Math.min(c[3] ?? 0, t.priceTicks), t.priceTicks, (c[5] ?? 0) + t.qtyLots, (c[6] ?? 0) + t.notionalMinor, (c[7] ?? 0) + 1]);
  }
  return [...byStart.values()];
}

function candleRows(candles: readonly Candle[]): number[][] {
  return candles.map((c) => [c.startUs, c.open, c.high, c.low, c.close, c.volumeLots, c.notionalMinor, c.trades]);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkStream(stream: GeneratedStream, timing: Timing): StreamFailure | null {
  const commands = retimed(stream.commands, timing);
  const engine = new Engine();
  const projection = new MarketDataProjection({ tradesKept: 1_000_000, candlesKept: 1_000_000 });
  let updates: MarketUpdate[] = [];
  projection.onUpdate((u) => updates.push(u));
  const deltaBook = new DeltaBook();
  const bookSeq = new Map<number, number>();
  const trades: TradeExecuted[] = [];
  let lastTsUs = 0;
  for (let index = 0; index < commands.length; index += 1) {
    const command = commands[index] as Command;
    const events: EngineEvent[] = engine.apply(command);
    updates = [];
    const fail = (message: string): StreamFailure => ({ commandIndex: index, message: `${message}\n(command ${JSON.stringify(command)})` });
    try {
      projection.apply(events);
    } catch (error) {
      // The projection asserts its own invariants; a broken one is a failure to minimize like any other.
      return fail(`the projection threw: ${String(error)}`);
    }
    lastTsUs = command.tsUs;
    for (const e of events) if (e.type === "TradeExecuted") trades.push(e);
    const deltaInstruments = new Set<number>();
    for (const u of updates) {
      if (u.kind !== "book") continue;
      const id = u.delta.instrumentId;
      if (deltaInstruments.has(id)) return fail(`two book deltas for instrument ${id} in one command`);
      deltaInstruments.add(id);
      const expectedSeq = (bookSeq.get(id) ?? 0) + 1;
      if (u.delta.seq !== expectedSeq) return fail(`book delta seq ${u.delta.seq} for instrument ${id}, expected ${expectedSeq}`);
      bookSeq.set(id, expectedSeq);
      for (const change of u.delta.changes) deltaBook.apply(id, change);
    }
    for (const instrument of engine.instruments.values()) {
      const id = instrument.id;
      const book = projection.book(id, Infinity);
      if (book === undefined) return fail(`no book for instrument ${id}`);
      if (book.seq !== (bookSeq.get(id) ?? 0)) return fail(`book ${id} at seq ${book.seq}, deltas reached ${bookSeq.get(id) ?? 0}`);
      for (const side of ["buy", "sell"] as const) {
        const snapshot = rows(side === "buy" ? book.bids : book.asks);
        const replayed = deltaBook.levels(id, side);
        const actual = instrument.book.levels(side).map((l): Row => [l.price, l.qty, l.count]);
        if (!same(snapshot, replayed)) return fail(`instrument ${id} ${side}: book ${JSON.stringify(snapshot)}, deltas replayed ${JSON.stringify(replayed)}`);
        if (!same(snapshot, actual)) return fail(`instrument ${id} ${side}: book ${JSON.stringify(snapshot)}, engine ${JSON.stringify(actual)}`);
      }
      const ticker = projection.ticker(id);
      const expected = {
        lastPriceTicks: instrument.lastPriceTicks === 0 ? null : instrument.lastPriceTicks,
        bestBidTicks: instrument.book.levels("buy")[0]?.price ?? null,
        bestAskTicks: instrument.book.levels("sell")[0]?.price ?? null,
        referencePriceTicks: instrument.referencePriceTicks,
        state: instrument.state,
      };
      const shown = {
        lastPriceTicks: ticker?.lastPriceTicks,
        bestBidTicks: ticker?.bestBidTicks,
        bestAskTicks: ticker?.bestAskTicks,
        referencePriceTicks: ticker?.referencePriceTicks,
        state: ticker?.state,
      };
      if (!same(shown, expected)) return fail(`ticker ${id} shows ${JSON.stringify(shown)}, engine ${JSON.stringify(expected)}`);
    }
  }
  const end = commands.length - 1;
  const today = bucketStartUs(lastTsUs, dayUs);
  for (const instrument of engine.instruments.values()) {
    const id = instrument.id;
    for (const interval of candleIntervals) {
      const expected = expectedCandles(trades, id, intervalUs[interval]);
      const actual = candleRows(projection.candles(id, interval, { limit: Infinity }));
      if (!same(actual, expected)) return { commandIndex: end, message: `instrument ${id} ${interval} candles ${JSON.stringify(actual)}, trades give ${JSON.stringify(expected)}` };
    }
    const mine = trades.filter((t) => t.instrumentId === id);
    const todays = mine.filter((t) => t.tsUs >= today);
    const before = mine.filter((t) => t.tsUs < today);
    const prices = todays.map((t) => t.priceTicks);
    const expected = {
      openTicks: prices[0] ?? null,
      highTicks: prices.length === 0 ? null : Math.max(...prices),
      lowTicks: prices.length === 0 ? null : Math.min(...prices),
      previousCloseTicks: before[before.length - 1]?.priceTicks ?? instrument.referencePriceTicks,
      volumeLots: todays.reduce((sum, t) => sum + t.qtyLots, 0),
      notionalMinor: todays.reduce((sum, t) => sum + t.notionalMinor, 0),
      trades: todays.length,
    };
    const ticker = projection.ticker(id);
    const shown = {
      openTicks: ticker?.openTicks,
      highTicks: ticker?.highTicks,
      lowTicks: ticker?.lowTicks,
      previousCloseTicks: ticker?.previousCloseTicks,
      volumeLots: ticker?.volumeLots,
      notionalMinor: ticker?.notionalMinor,
      trades: ticker?.trades,
    };
    if (!same(shown, expected)) return { commandIndex: end, message: `ticker ${id} day statistics ${JSON.stringify(shown)}, trades give ${JSON.stringify(expected)}` };
    const kept = projection.trades(id, Infinity).map((t) => t.tradeId);
    const traded = mine.map((t) => t.tradeId).reverse();
    if (!same(kept, traded)) return { commandIndex: end, message: `instrument ${id} public trades ${JSON.stringify(kept)}, engine traded ${JSON.stringify(traded)}` };
  }
  return null;
}

const runs = Number(process.env["PROP_RUNS"] ?? 40);

describe("market data over generated streams", () => {
  it("books replay from deltas and equal the engine's; candles and tickers equal models built from the trades", () => {
    fc.assert(
      fc.property(streamCaseArbitrary({ actionsMin: 300, actionsMax: 1_500 }), timingArbitrary, (streamCase: StreamCase, timing: Timing) => {
        const check = (stream: GeneratedStream): StreamFailure | null => checkStream(stream, timing);
        if (check(materialize(streamCase)) !== null) {
          const stopAtMs = performance.now() + 12_000;
          const report = describeFailure(streamCase, check, { shouldStop: () => performance.now() > stopAtMs });
          throw new Error(`${report}\n(timing ${JSON.stringify(timing)})`);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
  });
});
