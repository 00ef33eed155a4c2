/**
 * The demo market: a handful of EU equities in EUR, demo accounts with cash and
 * shares, and demo users in every group (see demo-users.ts). The market
 * simulator (simulator.ts) trades through the public API.
 */
import type { CreateInstrument } from "@tradestream/contracts";
import { tickValueMinor, toSteps } from "@tradestream/kernel";
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
