/**
 * The demo market: a handful of EU equities in EUR, demo accounts with cash and
 * shares, and a market simulator (market makers quoting around a drifting fair
 * value, noise traders sending small orders) so the book and the tape are alive.
 * The simulator goes through the shard's command path like any client; it is
 * seeded so a run can be reproduced.
 */
import type { CreateInstrument } from "@tradestream/contracts";
import { fromSteps, mulberry32, tickValueMinor, toSteps } from "@tradestream/kernel";
import type { CommandInput, Shard } from "@tradestream/shard";

type InstrumentInput = Omit<CreateInstrument, "type" | "tsUs">;

function equity(instrumentId: number, symbol: string, isin: string, mic: string, reference: string): InstrumentInput {
  const tickSize = "0.01";
  const lotSize = "1";
  const tickValue = tickValueMinor(tickSize, lotSize, 2);
  if (tickValue === null) throw new Error(`grid of ${symbol} does not land on cents`);
  const referenceTicks = toSteps(reference, tickSize);
  if (!referenceTicks.ok) throw new Error(`reference price ${reference} of ${symbol} is not on its tick grid`);
  return {
    instrumentId,
    symbol,
    isin,
    mic,
    currency: "EUR",
    tickSize,
    lotSize,
    tickValueMinor: tickValue,
    referencePriceTicks: referenceTicks.steps,
    priceBandBps: 1_000,
    circuitBandBps: 500,
    maxOrderQtyLots: 100_000,
    maxOrderNotionalMinor: 50_000_000_00,
    makerFeeBps: 1,
    takerFeeBps: 3,
  };
}

export const demoInstruments: readonly InstrumentInput[] = [
  equity(1, "SAP", "DE0007164600", "XETR", "230.00"),
  equity(2, "SIE", "DE0007236101", "XETR", "180.00"),
  equity(3, "ASML", "NL0010273215", "XAMS", "650.00"),
  equity(4, "TTE", "FR0000120271", "XPAR", "55.00"),
  equity(5, "MC", "FR0000121014", "XPAR", "600.00"),
];

export const demoAccounts = {
  traders: [1001, 1002, 1003],
  marketMakers: [2001, 2002],
  noise: [3001, 3002, 3003, 3004, 3005, 3006],
} as const;

/** Creates the demo instruments and accounts on an empty shard. */
export async function seedDemo(shard: Shard): Promise<void> {
  const commands: CommandInput[] = [];
  for (const spec of demoInstruments) commands.push({ type: "CreateInstrument", ...spec });
  const all = [...demoAccounts.traders, ...demoAccounts.marketMakers, ...demoAccounts.noise];
  for (const accountId of all) {
    const firmId = Math.floor(accountId / 1000);
    commands.push({ type: "CreateAccount", accountId, firmId, stpMode: "cancel_newest", openOrdersMax: 1_000, ordersPerSecondMax: 500 });
    const rich = firmId === 2;
    commands.push({ type: "DepositCash", accountId, currency: "EUR", amountMinor: rich ? 10_000_000_000 : 100_000_000 });
    for (const spec of demoInstruments) {
      commands.push({ type: "DepositSecurities", accountId, instrumentId: spec.instrumentId, qtyLots: rich ? 1_000_000 : 5_000 });
    }
  }
  let last: Promise<unknown> = Promise.resolve();
  for (const command of commands) last = shard.submit(command);
  await last;
}

export interface SimulatorOptions {
  readonly seed: number;
  readonly tickMs: number;
}

/** Runs the market simulator until the returned stop function is called. */
export function startSimulator(shard: Shard, options: SimulatorOptions): () => Promise<void> {
  const random = mulberry32(options.seed);
  const fair = new Map(demoInstruments.map((spec) => [spec.instrumentId, spec.referencePriceTicks]));
  const quotes = new Map<number, number[]>();
  let counter = 0;
  let running = true;
  let inFlight: Promise<unknown> = Promise.resolve();

  const clientOrderId = (): string => {
    counter += 1;
    return `sim-${options.seed}-${Date.now().toString(36)}-${counter}`;
  };

  const tick = async (): Promise<void> => {
    const submissions: Array<Promise<unknown>> = [];
    for (const spec of demoInstruments) {
      const id = spec.instrumentId;
      const state = shard.engine.instruments.get(id);
      if (state === undefined || state.state !== "open") continue;
      // Fair value: a random walk with occasional larger moves, kept inside the collar.
      const previous = fair.get(id) ?? spec.referencePriceTicks;
      const shock = random() < 0.02 ? 8 : 1;
      const band = Math.floor((state.referencePriceTicks * state.priceBandBps) / 20_000);
      const next = Math.min(state.referencePriceTicks + band, Math.max(state.referencePriceTicks - band, previous + Math.round((random() - 0.5) * 6 * shock)));
      fair.set(id, next);
      const maker = demoAccounts.marketMakers[id % demoAccounts.marketMakers.length] ?? 2001;
      for (const orderId of quotes.get(id) ?? []) submissions.push(shard.submit({ type: "CancelOrder", accountId: maker, orderId }));
      const placed: Array<Promise<{ events: readonly { type: string; orderId?: number }[] }>> = [];
      for (let level = 1; level <= 5; level += 1) {
        const size = 10 * (1 + Math.floor(random() * 20));
        for (const side of ["buy", "sell"] as const) {
          const priceTicks = side === "buy" ? next - level * 2 : next + level * 2;
          placed.push(
            shard.submit({ type: "PlaceOrder", accountId: maker, instrumentId: id, clientOrderId: clientOrderId(), side, orderType: "limit", tif: "DAY", priceTicks, stopPriceTicks: 0, qtyLots: size, displayQtyLots: 0, postOnly: false, sessionId: 0 }),
          );
        }
      }
      submissions.push(
        Promise.all(placed).then((results) => {
          const ids: number[] = [];
          for (const result of results) for (const event of result.events) if (event.type === "OrderAccepted" && event.orderId !== undefined) ids.push(event.orderId);
          quotes.set(id, ids);
        }),
      );
      if (random() < 0.6) {
        const trader = demoAccounts.noise[Math.floor(random() * demoAccounts.noise.length)] ?? 3001;
        const side = random() < 0.5 ? "buy" : "sell";
        const qtyLots = 1 + Math.floor(random() * 40);
        const marketable = random() < 0.5;
        submissions.push(
          shard.submit(
            marketable
              ? { type: "PlaceOrder", accountId: trader, instrumentId: id, clientOrderId: clientOrderId(), side, orderType: "market", tif: "IOC", priceTicks: 0, stopPriceTicks: 0, qtyLots, displayQtyLots: 0, postOnly: false, sessionId: 0 }
              : { type: "PlaceOrder", accountId: trader, instrumentId: id, clientOrderId: clientOrderId(), side, orderType: "limit", tif: "IOC", priceTicks: side === "buy" ? next + 3 : next - 3, stopPriceTicks: 0, qtyLots, displayQtyLots: 0, postOnly: false, sessionId: 0 },
          ),
        );
      }
    }
    await Promise.all(submissions);
  };

  const loop = async (): Promise<void> => {
    while (running) {
      inFlight = tick();
      await inFlight;
      await new Promise((resolve) => setTimeout(resolve, options.tickMs));
    }
  };
  const done = loop();
  return async () => {
    running = false;
    await done;
  };
}

/** One line per instrument: best bid/ask with sizes and the last trade. */
export function bookSummary(shard: Shard): string[] {
  const lines: string[] = [];
  for (const instrument of shard.engine.instruments.values()) {
    const spec = instrument.spec;
    const bid = instrument.book.levels("buy")[0];
    const ask = instrument.book.levels("sell")[0];
    const price = (ticks: number): string => fromSteps(ticks, spec.tickSize);
    const side = (level: { price: number; qty: number } | undefined): string => (level === undefined ? "—" : `${price(level.price)} x ${level.qty}`);
    const last = instrument.lastPriceTicks > 0 ? price(instrument.lastPriceTicks) : "—";
    lines.push(`${spec.symbol.padEnd(5)} ${spec.isin} ${spec.mic}  bid ${side(bid).padEnd(16)} ask ${side(ask).padEnd(16)} last ${last.padEnd(8)} ${instrument.state}`);
  }
  return lines;
}
