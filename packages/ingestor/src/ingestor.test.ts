import type { EngineEvent } from "@tradestream/contracts";
import { describe, expect, it } from "vitest";
import { InProcessBus } from "./bus.ts";
import { Ingestor } from "./ingestor.ts";
import { SimulatedFeed, SimulatedMarket } from "./simulated.ts";
import { testInstruments } from "./testing.ts";
import type { Feed, FeedAlert, FeedSink, IngestorCommand, NormalizedTick } from "./types.ts";

const baseUs = 1_714_555_800_000_000;

/** A feed the test drives by hand. */
class ManualFeed implements Feed {
  sink: FeedSink | null = null;
  constructor(readonly source: string) {}
  start(sink: FeedSink): Promise<void> {
    this.sink = sink;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  status() {
    return { source: this.source, state: "connected" as const, reconnects: 0, messages: 0, lastError: null };
  }
  send(raw: unknown): void {
    this.sink?.record(raw);
  }
}

function tradingRecorder(): { commands: IngestorCommand[]; submit(command: IngestorCommand): Promise<{ events: readonly EngineEvent[] }> } {
  const commands: IngestorCommand[] = [];
  return {
    commands,
    submit(command) {
      commands.push(command);
      return Promise.resolve({ events: [] });
    },
  };
}

describe("simulated market", () => {
  it("is deterministic by seed", () => {
    const run = (seed: number): unknown[] => {
      const market = new SimulatedMarket({ instruments: testInstruments, seed });
      return Array.from({ length: 2_000 }, (_, i) => market.next(baseUs + i * 1000));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("produces valid quotes and trades near the reference prices, with trades and gaps", () => {
    const market = new SimulatedMarket({ instruments: testInstruments, seed: 3, maxDeviationBps: 250, sequenceGapProbability: 0.01 });
    const ingestor = new Ingestor({ instruments: testInstruments, feeds: [new ManualFeed("sim")], clockUs: () => baseUs });
    const alerts: FeedAlert[] = [];
    ingestor.onAlert((alert) => alerts.push(alert));
    let trades = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const tick = ingestor.ingest(0, market.next(baseUs + i));
      expect(tick).not.toBeNull();
      if (tick === null) continue;
      const reference = testInstruments.find((instrument) => instrument.spec.instrumentId === tick.instrumentId)?.spec.referencePriceTicks ?? 0;
      const price = tick.kind === "trade" ? tick.priceTicks : tick.bidTicks;
      expect(Math.abs(price / reference - 1)).toBeLessThan(0.03);
      if (tick.kind === "trade") trades += 1;
    }
    expect(trades).toBeGreaterThan(4_000);
    expect(alerts.filter((alert) => alert.kind === "gap").length).toBeGreaterThan(50);
    expect(ingestor.deadLetters.size).toBe(0);
  });

  it("emits at its configured rate", async () => {
    const feed = new SimulatedFeed({ instruments: testInstruments, seed: 1, ratePerS: 200 });
    const received: unknown[] = [];
    await feed.start({ record: (raw) => received.push(raw) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await feed.stop();
    expect(received.length).toBeGreaterThan(50);
    expect(received.length).toBeLessThan(150);
    expect(feed.status()).toMatchObject({ state: "stopped", messages: received.length });
  });
});

describe("ingestor", () => {
  it("publishes normalized ticks on the bus, builds candles and tickers, dead-letters bad records", async () => {
    const feed = new ManualFeed("vendor");
    const bus = new InProcessBus();
    const ticks: NormalizedTick[] = [];
    bus.subscribe((tick) => ticks.push(tick));
    bus.subscribe(() => {
      throw new Error("a broken consumer");
    });
    const ingestor = new Ingestor({ instruments: testInstruments, feeds: [feed], bus, clockUs: () => baseUs + 5_000 });
    await ingestor.start();
    feed.send({ type: "trade", symbol: "SAP", seq: 1, tsUs: baseUs, price: "230.50", size: "10" });
    feed.send({ type: "trade", symbol: "SAP", seq: 2, tsUs: baseUs + 1, price: "229.50", size: "30" });
    feed.send({ type: "quote", symbol: "SAP", seq: 3, tsUs: baseUs + 2, bid: "229.40", ask: "229.60", bidSize: "5", askSize: "7" });
    feed.send("garbage");
    expect(ticks).toHaveLength(3);
    const ticker = ingestor.external.projection.ticker(1);
    expect(ticker).toMatchObject({ lastPriceTicks: 22950, highTicks: 23050, lowTicks: 22950, volumeLots: 40, notionalMinor: 23050 * 10 + 22950 * 30, bestBidTicks: 22940, bestAskTicks: 22960, previousCloseTicks: 23000 });
    expect(ingestor.external.projection.candles(1, "1m", { limit: 10 })).toMatchObject([{ open: 23050, high: 23050, low: 22950, close: 22950, volumeLots: 40, trades: 2 }]);
    expect(ingestor.status().sources[0]).toMatchObject({ source: "vendor", received: 4, published: 3, deadLettered: 1, lagUs: 5_000 - 2 });
    expect(ingestor.status().bus[0]).toMatchObject({ name: "in-process", published: 3, failed: 3 });
    await ingestor.stop();
  });

  it("sends reference prices through the trading port, throttled and only on change", async () => {
    const feed = new ManualFeed("vendor");
    const trading = tradingRecorder();
    const ingestor = new Ingestor({ instruments: testInstruments, feeds: [feed], trading, referenceIntervalMs: 60_000, clockUs: () => baseUs });
    await ingestor.start();
    for (let i = 0; i < 100; i += 1) feed.send({ type: "trade", symbol: "SAP", tsUs: baseUs + i, price: (23_000 + i) / 100, size: 1 });
    feed.send({ type: "quote", symbol: "SIE", tsUs: baseUs, bid: "180.01", ask: "180.04" });
    await ingestor.flushReferencePrices();
    expect(trading.commands).toEqual([
      { type: "SetReferencePrice", instrumentId: 1, priceTicks: 23_099 },
      { type: "SetReferencePrice", instrumentId: 2, priceTicks: 18_002 },
    ]);
    await ingestor.flushReferencePrices();
    expect(trading.commands).toHaveLength(2); // unchanged: nothing sent
    feed.send({ type: "trade", symbol: "SAP", tsUs: baseUs + 1_000, price: "231.00", size: 1 });
    await ingestor.flushReferencePrices();
    expect(trading.commands.at(-1)).toEqual({ type: "SetReferencePrice", instrumentId: 1, priceTicks: 23_100 });
    expect(ingestor.status().referencePrices).toEqual({ submitted: 3, rejected: 0 });
    await ingestor.stop();
  });

  it("raises a stale alert after silence, halts when configured, and resumes on recovery", async () => {
    const feed = new ManualFeed("vendor");
    const trading = tradingRecorder();
    let nowUs = baseUs;
    const ingestor = new Ingestor({ instruments: testInstruments.slice(0, 2), feeds: [feed], trading, stale: { afterMs: 5_000, halt: true }, referenceIntervalMs: 60_000, clockUs: () => nowUs });
    const alerts: FeedAlert[] = [];
    ingestor.onAlert((alert) => alerts.push(alert));
    await ingestor.start();
    nowUs += 4_000_000;
    feed.send({ type: "trade", symbol: "SAP", tsUs: nowUs, price: "230", size: 1 });
    ingestor.checkStale();
    expect(alerts).toEqual([]);
    nowUs += 2_000_000; // SIE silent for 6 s, SAP for 2 s
    ingestor.checkStale();
    ingestor.checkStale(); // raised once
    expect(alerts).toEqual([{ kind: "stale", instrumentId: 2, symbol: "SIE", silentMs: 6_000, halted: true }]);
    expect(trading.commands).toEqual([{ type: "SetTradingState", instrumentId: 2, state: "halted" }]);
    expect(ingestor.status().instruments[1]).toMatchObject({ symbol: "SIE", stale: true, haltedByFeed: true });
    feed.send({ type: "trade", symbol: "SIE", tsUs: nowUs, price: "180", size: 1 });
    expect(alerts.at(-1)).toEqual({ kind: "recovered", instrumentId: 2, symbol: "SIE", resumed: true });
    expect(trading.commands.at(-1)).toEqual({ type: "SetTradingState", instrumentId: 2, state: "open" });
    await ingestor.stop();
  });

  it("leaves an instrument to the operator: never halts one already halted, never resumes one the operator changed after the feed's halt", async () => {
    const feed = new ManualFeed("vendor");
    const trading = tradingRecorder();
    let nowUs = baseUs;
    let seq = 100;
    const changed = (instrumentId: number, state: "open" | "halted" | "closed"): EngineEvent => ({ type: "TradingStateChanged", seq: (seq += 1), tsUs: nowUs, instrumentId, state, reason: "operator" });
    const ingestor = new Ingestor({ instruments: testInstruments.slice(0, 2), feeds: [feed], trading, stale: { afterMs: 5_000, halt: true }, referenceIntervalMs: 60_000, clockUs: () => nowUs });
    await ingestor.start();
    // SAP was halted by an operator before the feed went quiet.
    ingestor.noteTradingState(1, "halted");
    nowUs += 6_000_000;
    ingestor.checkStale();
    // SIE: halted by the feed (its own change comes back from the engine)…
    expect(trading.commands).toEqual([{ type: "SetTradingState", instrumentId: 2, state: "halted" }]);
    ingestor.observeEngine([changed(2, "halted")]);
    expect(ingestor.status().instruments.map((i) => [i.symbol, i.stale, i.haltedByFeed])).toEqual([["SAP", true, false], ["SIE", true, true]]);
    // …then an operator resumes it and halts it again themselves.
    ingestor.observeEngine([changed(2, "open"), changed(2, "halted")]);
    expect(ingestor.status().instruments[1]).toMatchObject({ haltedByFeed: false });
    // The feed comes back: the alerts say recovered, but neither instrument is resumed.
    feed.send({ type: "trade", symbol: "SAP", tsUs: nowUs, price: "230", size: 1 });
    feed.send({ type: "trade", symbol: "SIE", tsUs: nowUs, price: "180", size: 1 });
    expect(trading.commands).toHaveLength(1);
    await ingestor.stop();
  });

  it("only alerts on staleness when halting is off", () => {
    const trading = tradingRecorder();
    let nowUs = baseUs;
    const ingestor = new Ingestor({ instruments: testInstruments.slice(0, 1), feeds: [], trading, stale: { afterMs: 1_000 }, clockUs: () => nowUs });
    const alerts: FeedAlert[] = [];
    ingestor.onAlert((alert) => alerts.push(alert));
    nowUs += 1_000_000;
    ingestor.checkStale();
    expect(alerts).toEqual([{ kind: "stale", instrumentId: 1, symbol: "SAP", silentMs: 1_000, halted: false }]);
    expect(trading.commands).toEqual([]);
  });
});
