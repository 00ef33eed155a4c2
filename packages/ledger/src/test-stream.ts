/**
 * Seeded engine streams for the ledger's tests, crash child and benchmark: the real
 * engine applies generated commands and its events are the ledger's input. Two
 * instruments in two currencies with maker and taker fees; each round places a
 * resting order and a marketable one against it, so almost every round trades; with
 * `payments` some rounds deposit or withdraw cash or securities instead (a withdrawal
 * beyond the available balance is rejected by the engine, which is fine).
 * Same seed and options, same events.
 */
import type { Command, EngineEvent, PlaceOrder } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { mulberry32 } from "@tradestream/kernel";

export const streamStartUs = 1_767_225_600_000_000;

export interface StreamOptions {
  readonly seed: number;
  /** Trading rounds (each usually one trade). */
  readonly rounds: number;
  readonly accounts?: number;
  /** Mix deposits and withdrawals into the rounds. */
  readonly payments?: boolean;
}

export const streamInstruments = [
  fixtures.instrument({ instrumentId: 1, symbol: "ACME", currency: "EUR", makerFeeBps: 1, takerFeeBps: 2 }),
  fixtures.instrument({ instrumentId: 2, symbol: "GLOBX", isin: "US0000GLOBX1", mic: "XNAS", currency: "USD", makerFeeBps: 0, takerFeeBps: 3, referencePriceTicks: 5_000 }),
];

/** The stream's commands, stamped one millisecond apart. */
export function* streamCommands(options: StreamOptions): Generator<Command> {
  const random = mulberry32(options.seed);
  const accounts = options.accounts ?? 20;
  let tsUs = streamStartUs;
  const stamp = <C extends Command>(command: C): C => {
    tsUs += 1_000;
    return { ...command, tsUs };
  };
  for (const instrument of streamInstruments) yield stamp(instrument);
  for (let accountId = 1; accountId <= accounts; accountId += 1) {
    yield stamp(fixtures.account(accountId, { firmId: 1 + (accountId % 3), ordersPerSecondMax: 1_000_000 }));
    yield stamp({ type: "DepositCash", tsUs: 0, accountId, currency: "EUR", amountMinor: 50_000_000_000 });
    yield stamp({ type: "DepositCash", tsUs: 0, accountId, currency: "USD", amountMinor: 50_000_000_000 });
    for (const instrument of streamInstruments) yield stamp({ type: "DepositSecurities", tsUs: 0, accountId, instrumentId: instrument.instrumentId, qtyLots: 10_000_000 });
  }
  const pick = () => 1 + Math.floor(random() * accounts);
  for (let round = 0; round < options.rounds; round += 1) {
    if (options.payments === true && random() < 0.1) {
      const accountId = pick();
      const roll = random();
      const currency = random() < 0.5 ? "EUR" : "USD";
      const instrumentId = random() < 0.5 ? 1 : 2;
      if (roll < 0.3) yield stamp({ type: "DepositCash", tsUs: 0, accountId, currency, amountMinor: 1 + Math.floor(random() * 10_000_000) });
      else if (roll < 0.6) yield stamp({ type: "WithdrawCash", tsUs: 0, accountId, currency, amountMinor: 1 + Math.floor(random() * 10_000_000) });
      else if (roll < 0.8) yield stamp({ type: "DepositSecurities", tsUs: 0, accountId, instrumentId, qtyLots: 1 + Math.floor(random() * 1_000) });
      else yield stamp({ type: "WithdrawSecurities", tsUs: 0, accountId, instrumentId, qtyLots: 1 + Math.floor(random() * 1_000) });
      continue;
    }
    const instrument = random() < 0.7 ? streamInstruments[0] : streamInstruments[1];
    if (instrument === undefined) continue;
    const maker = pick();
    let taker = pick();
    if (taker === maker) taker = (maker % accounts) + 1;
    const makerSide = random() < 0.5 ? "buy" : "sell";
    const priceTicks = instrument.referencePriceTicks - 100 + Math.floor(random() * 200);
    const qtyLots = 1 + Math.floor(random() * 50);
    const order = (accountId: number, side: "buy" | "sell", qty: number, tif: PlaceOrder["tif"]): PlaceOrder =>
      fixtures.limit(accountId, side, priceTicks, qty, { instrumentId: instrument.instrumentId, tif, clientOrderId: `r${round}-${accountId}-${side}` });
    yield stamp(order(maker, makerSide, qtyLots, "GTC"));
    yield stamp(order(taker, makerSide === "buy" ? "sell" : "buy", 1 + Math.floor(random() * qtyLots), "IOC"));
  }
}

/** The events the engine emits for the stream, per command. */
export function* streamEventBatches(options: StreamOptions): Generator<EngineEvent[]> {
  const engine = new Engine();
  for (const command of streamCommands(options)) yield engine.apply(command);
}

/** All the stream's events and the engine that produced them (for its balances). */
export function streamEvents(options: StreamOptions): { readonly events: EngineEvent[]; readonly engine: Engine } {
  const engine = new Engine();
  const events: EngineEvent[] = [];
  for (const command of streamCommands(options)) for (const event of engine.apply(command)) events.push(event);
  return { events, engine };
}

/** The engine's cash per account and currency, as reconciliation takes it. */
export function engineCash(engine: Engine): { accountId: number; currency: string; balanceMinor: number }[] {
  return [...engine.accounts.values()].flatMap((account) => [...account.cash.values()].map((slot) => ({ accountId: account.id, currency: slot.currency, balanceMinor: slot.balance })));
}

/** The engine's positions per account and instrument, as reconciliation takes them. */
export function enginePositions(engine: Engine): { accountId: number; instrumentId: number; positionLots: number }[] {
  return [...engine.accounts.values()].flatMap((account) =>
    [...account.positions.values()].map((slot) => ({ accountId: account.id, instrumentId: slot.instrumentId, positionLots: slot.position })),
  );
}

/** Every posting as one line (`entry kind ref tsUs | code amount; …`), in entry order: equal dumps, equal books. */
export async function dumpJournal(sql: { query<R extends Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> }): Promise<string[]> {
  const rows = await sql.query<{ line: string }>(
    `SELECT e.kind || ' ' || e.ref || ' ' || e.ts_us || ' | ' || string_agg(a.code || ' ' || p.amount, '; ' ORDER BY p.posting_no) AS line
       FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.entry_id JOIN ledger_accounts a ON a.account_id = p.account_id
      GROUP BY e.entry_id ORDER BY e.entry_id`,
  );
  return rows.map((row) => row.line);
}
