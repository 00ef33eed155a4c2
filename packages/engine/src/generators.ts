/**
 * Generated command streams for property tests, simulations and benchmarks.
 *
 * A stream is a small market (two instruments in two currencies, four to six
 * accounts of which two share a firm, every self-trade-prevention mode) funded
 * up front, followed by thousands of commands: limit orders of every time in
 * force (post-only and iceberg too), market, stop and stop-limit orders,
 * cancels and replaces of live orders, mass cancels, sessions with
 * cancel-on-disconnect, kill switches, halts and resumptions, reference price
 * moves, fee and band updates, deposits and withdrawals, end of day, and now and
 * then an invalid value. Prices cluster around the reference price so books are
 * deep and cross often; timestamps strictly increase.
 *
 * The stream is built in two steps so that failures shrink well. fast-check
 * generates abstract actions ("cancel the k-th live order", "buy 5 ticks above
 * the reference"); `materialize` turns them into concrete commands by running
 * them through a private engine and tracking order ids, sessions and prices from
 * the events it returns. When the action list shrinks, references still
 * resolve to live orders of the smaller stream: `minimizeFailure` reduces a
 * failing stream of thousands of commands to the handful that cause it.
 */
import type { Command, CreateInstrument, EngineEvent, OrderType, Side, StpMode, TimeInForce, TradingState } from "@tradestream/contracts";
import fc from "fast-check";
import { Engine } from "./engine.ts";
import { instrument } from "./fixtures.ts";
import { cashMinorMax, notionalMinorMax, positionLotsMax, qtyLotsMax } from "./limits.ts";

// ── Order tracking ──────────────────────────────────────────────────────────

/** One accepted order as the event stream describes it. */
export interface TrackedOrder {
  readonly orderId: number;
  readonly accountId: number;
  readonly instrumentId: number;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly tif: TimeInForce;
  readonly postOnly: boolean;
  readonly displayQtyLots: number;
  readonly stopPriceTicks: number;
  /** Limit price (0 for market and stop orders); replaces change it. */
  priceTicks: number;
  /** Ordered quantity; replaces change it. */
  qtyLots: number;
  filledLots: number;
  /** Cancelled, decremented by self-trade prevention, or expired. */
  removedLots: number;
  /** A stop order that has been triggered. */
  triggered: boolean;
}

/** Open quantity by the events: ordered − filled − cancelled/expired. */
export function trackedLeaves(order: TrackedOrder): number {
  return order.qtyLots - order.filledLots - order.removedLots;
}

/**
 * Follows every order through the event stream and checks each event against
 * the order's history: trades, cancels and expiries only of live orders, and
 * the leaves quantities the events state equal to what the history implies.
 */
export class OrderTracker {
  /** Every order ever accepted, by id. */
  readonly orders = new Map<number, TrackedOrder>();
  /** Orders with open quantity, in acceptance order. */
  readonly live = new Map<number, TrackedOrder>();
  /** The most recently finished order ids (newest last), for stale-id commands. */
  readonly finished: number[] = [];

  private static readonly finishedKept = 32;

  /** Folds a command's events in; returns what was inconsistent. */
  observe(events: readonly EngineEvent[]): string[] {
    const problems: string[] = [];
    const liveOrder = (orderId: number, what: string): TrackedOrder | null => {
      const order = this.live.get(orderId);
      if (order === undefined) problems.push(`${what} names order ${orderId}, which is ${this.orders.has(orderId) ? "finished" : "unknown"}`);
      return order ?? null;
    };
    for (const event of events) {
      switch (event.type) {
        case "OrderAccepted": {
          if (this.orders.has(event.orderId)) problems.push(`order id ${event.orderId} accepted twice`);
          const order: TrackedOrder = {
            orderId: event.orderId,
            accountId: event.accountId,
            instrumentId: event.instrumentId,
            side: event.side,
            orderType: event.orderType,
            tif: event.tif,
            postOnly: event.postOnly,
            displayQtyLots: event.displayQtyLots,
            stopPriceTicks: event.stopPriceTicks,
            priceTicks: event.priceTicks,
            qtyLots: event.qtyLots,
            filledLots: 0,
            removedLots: 0,
            triggered: false,
          };
          this.orders.set(order.orderId, order);
          this.live.set(order.orderId, order);
          break;
        }
        case "TradeExecuted": {
          if (event.qtyLots <= 0) problems.push(`trade ${event.tradeId} of ${event.qtyLots} lots`);
          if (event.makerOrderId === event.takerOrderId) problems.push(`trade ${event.tradeId} matches order ${event.makerOrderId} with itself`);
          for (const orderId of [event.makerOrderId, event.takerOrderId]) {
            const order = liveOrder(orderId, `trade ${event.tradeId}`);
            if (order === null) continue;
            order.filledLots += event.qtyLots;
            this.settle(order, problems, `trade ${event.tradeId}`);
          }
          break;
        }
        case "OrderCancelled": {
          const order = liveOrder(event.orderId, "OrderCancelled");
          if (order === null) break;
          if (event.cancelledQtyLots <= 0) problems.push(`order ${event.orderId} cancelled ${event.cancelledQtyLots} lots`);
          order.removedLots += event.cancelledQtyLots;
          if (trackedLeaves(order) !== event.leavesQtyLots) {
            problems.push(`order ${event.orderId} cancel says ${event.leavesQtyLots} lots left, history says ${trackedLeaves(order)}`);
          }
          this.settle(order, problems, "OrderCancelled");
          break;
        }
        case "OrderExpired": {
          const order = liveOrder(event.orderId, "OrderExpired");
          if (order === null) break;
          order.removedLots += event.expiredQtyLots;
          if (trackedLeaves(order) !== 0) problems.push(`order ${event.orderId} expired ${event.expiredQtyLots} lots, leaving ${trackedLeaves(order)}`);
          this.settle(order, problems, "OrderExpired");
          break;
        }
        case "OrderReplaced": {
          const order = liveOrder(event.orderId, "OrderReplaced");
          if (order === null) break;
          // Priority survives only a replace that keeps the price and does not add open quantity.
          const keeps = event.priceTicks === order.priceTicks && event.leavesQtyLots <= trackedLeaves(order);
          if (event.priorityKept !== keeps) problems.push(`order ${event.orderId} replace says priorityKept ${event.priorityKept}, expected ${keeps}`);
          order.priceTicks = event.priceTicks;
          order.qtyLots = event.qtyLots;
          if (trackedLeaves(order) !== event.leavesQtyLots || event.leavesQtyLots <= 0) {
            problems.push(`order ${event.orderId} replace says ${event.leavesQtyLots} lots left, history says ${trackedLeaves(order)}`);
          }
          break;
        }
        case "OrderTriggered": {
          const order = liveOrder(event.orderId, "OrderTriggered");
          if (order === null) break;
          if ((order.orderType !== "stop" && order.orderType !== "stop_limit") || order.triggered) {
            problems.push(`order ${event.orderId} (${order.orderType}${order.triggered ? ", already triggered" : ""}) triggered`);
          }
          order.triggered = true;
          break;
        }
        // Events that do not change an order.
        case "CommandRejected":
        case "InstrumentCreated":
        case "InstrumentUpdated":
        case "ReferencePriceSet":
        case "TradingStateChanged":
        case "AccountCreated":
        case "BalanceChanged":
        case "PositionChanged":
        case "SessionOpened":
        case "SessionClosed":
        case "KillSwitchSet":
        case "BookLevelChanged":
        case "DayEnded":
          break;
      }
    }
    return problems;
  }

  private settle(order: TrackedOrder, problems: string[], what: string): void {
    const leaves = trackedLeaves(order);
    if (leaves < 0) problems.push(`${what}: order ${order.orderId} has ${leaves} lots left`);
    if (leaves <= 0 && this.live.delete(order.orderId)) {
      this.finished.push(order.orderId);
      if (this.finished.length > OrderTracker.finishedKept) this.finished.shift();
    }
  }
}

// ── Actions ─────────────────────────────────────────────────────────────────

/** A deliberate defect in an order, or "none". Defects exercise every rejection path. */
export type OrderFlaw =
  | "none"
  | "zero_qty"
  | "negative_qty"
  | "fractional_qty"
  | "unknown_account"
  | "unknown_instrument"
  | "off_collar_price"
  | "zero_price"
  | "duplicate_client_order_id"
  | "empty_client_order_id"
  | "bad_display"
  | "bad_flags"
  | "unknown_session";

export type RefFlaw = "none" | "other_account" | "unknown_id" | "finished_id";
export type ReplaceFlaw = RefFlaw | "zero_qty" | "below_filled" | "no_change" | "off_collar_price";
export type FundsOp = "DepositCash" | "WithdrawCash" | "CreditCash" | "DebitCash" | "DepositSecurities" | "WithdrawSecurities";
export type FundsFlaw = "none" | "zero_amount" | "bad_currency" | "to_limit" | "past_limit";

/** Picks (`account`, `instrument`, `pick`, `session`) are indexes taken modulo what exists. */
export type Op =
  | {
      readonly kind: "limit";
      readonly account: number;
      readonly instrument: number;
      readonly side: Side;
      readonly tif: TimeInForce;
      readonly offsetTicks: number;
      /** A passive order is priced on its own side of the reference; an aggressive one may cross. */
      readonly aggressive: boolean;
      readonly qtyLots: number;
      readonly displayQtyLots: number;
      readonly postOnly: boolean;
      readonly session: number;
      readonly flaw: OrderFlaw;
    }
  | {
      readonly kind: "market";
      readonly account: number;
      readonly instrument: number;
      readonly side: Side;
      readonly tif: "IOC" | "FOK";
      readonly qtyLots: number;
      readonly session: number;
      readonly flaw: OrderFlaw;
    }
  | {
      readonly kind: "stop";
      readonly account: number;
      readonly instrument: number;
      readonly side: Side;
      readonly orderType: "stop" | "stop_limit";
      readonly tif: "GTC" | "DAY";
      readonly stopOffsetTicks: number;
      readonly limitOffsetTicks: number;
      readonly qtyLots: number;
      readonly session: number;
      readonly flaw: OrderFlaw;
    }
  | { readonly kind: "cancel"; readonly pick: number; readonly flaw: RefFlaw }
  | { readonly kind: "replace"; readonly pick: number; readonly offsetTicks: number; readonly qtyDeltaLots: number; readonly flaw: ReplaceFlaw }
  | { readonly kind: "massCancel"; readonly account: number; readonly instrument: number; readonly flaw: "none" | "unknown_account" | "unknown_instrument" }
  /** `reuse_open_id` must be refused; `reuse_closed_id` opens a new session under a closed one's id (maybe for another account). */
  | { readonly kind: "openSession"; readonly account: number; readonly cancelOnDisconnect: boolean; readonly flaw: "none" | "reuse_open_id" | "reuse_closed_id" | "unknown_account" }
  | { readonly kind: "closeSession"; readonly pick: number; readonly flaw: "none" | "unknown_id" }
  /** Releasing (`active: false`) picks among the switches that are on, so kills stay short. */
  | { readonly kind: "killSwitch"; readonly scope: "account" | "firm"; readonly pick: number; readonly active: boolean }
  /** Opening picks among the instruments not open (operator or circuit-breaker halts), so halts stay short. */
  | { readonly kind: "tradingState"; readonly instrument: number; readonly state: TradingState }
  | { readonly kind: "referencePrice"; readonly instrument: number; readonly toLastTrade: boolean; readonly offsetTicks: number; readonly flaw: "none" | "zero_price" }
  | { readonly kind: "updateInstrument"; readonly instrument: number; readonly makerFeeBps: number; readonly takerFeeBps: number; readonly bandScale: number }
  /**
   * `to_limit` moves exactly as much as the limits allow (a withdrawal all that
   * is available; a deposit up to the shard's total `cashMinorMax`, or the
   * largest single quantity for securities); `past_limit` one unit more.
   */
  | { readonly kind: "funds"; readonly account: number; readonly instrument: number; readonly op: FundsOp; readonly amount: number; readonly flaw: FundsFlaw }
  | { readonly kind: "endOfDay" };

export interface Action {
  /** Microseconds since the previous command (at least 1: timestamps strictly increase). */
  readonly gapUs: number;
  readonly op: Op;
}

/** The market a stream trades in; the setup commands are derived from it. */
export interface MarketSetup {
  readonly instruments: readonly CreateInstrument[];
  /** Passive orders sit up to this many times farther from the reference: larger means deeper books with more levels. */
  readonly passiveSpreadScale: number;
  /** Resting orders per side and instrument laid out before the stream starts, over up to `ladderLevels` prices. */
  readonly ladderOrders: number;
  readonly ladderLevels: number;
  readonly accounts: ReadonlyArray<{
    readonly accountId: number;
    readonly firmId: number;
    readonly stpMode: StpMode;
    readonly openOrdersMax: number;
    readonly ordersPerSecondMax: number;
    /** Cash deposited up front in each instrument's currency, per minor unit of its tick value. */
    readonly cashMinor: number;
    /** Securities deposited up front in each instrument. */
    readonly lots: number;
  }>;
}

export interface GeneratedStream {
  readonly setup: MarketSetup;
  /** Setup commands first (`setupCount` of them), then the generated ones. */
  readonly commands: readonly Command[];
  readonly setupCount: number;
}

const stpModes: readonly StpMode[] = ["none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement_and_cancel"];

/** The firm that the first two accounts share (firm-wide kill switch, cross-account trades within a firm). */
export const sharedFirmId = 100;

/** Offsets from the reference price in ticks: mostly within a few ticks, sometimes far (circuit breakers, collars). */
const offsetArb = fc.oneof(
  { weight: 16, arbitrary: fc.integer({ min: -6, max: 6 }) },
  { weight: 3, arbitrary: fc.integer({ min: -40, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: -1_200, max: 1_200 }) },
);

const qtyArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 2_000 }) },
);

function flawArb<T extends string>(none: T, flaws: readonly T[], noneWeight: number): fc.Arbitrary<T> {
  return fc.oneof({ weight: noneWeight, arbitrary: fc.constant(none) }, { weight: 1, arbitrary: fc.constantFrom(...flaws) });
}

const orderFlawArb = flawArb<OrderFlaw>(
  "none",
  [
    "zero_qty",
    "negative_qty",
    "fractional_qty",
    "unknown_account",
    "unknown_instrument",
    "off_collar_price",
    "zero_price",
    "duplicate_client_order_id",
    "empty_client_order_id",
    "bad_display",
    "bad_flags",
    "unknown_session",
  ],
  30,
);

const sideArb = fc.constantFrom<Side>("buy", "sell");
const pickArb = fc.nat({ max: 1_000 });
const sessionPickArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 120,
    arbitrary: fc.record({
      kind: fc.constant("limit" as const),
      account: pickArb,
      instrument: fc.nat({ max: 1 }),
      side: sideArb,
      tif: fc.constantFrom<TimeInForce>("GTC", "GTC", "GTC", "DAY", "IOC", "FOK"),
      offsetTicks: offsetArb,
      aggressive: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      qtyLots: qtyArb,
      displayQtyLots: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }) }),
      postOnly: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      session: sessionPickArb,
      flaw: orderFlawArb,
    }),
  },
  {
    weight: 15,
    arbitrary: fc.record({
      kind: fc.constant("market" as const),
      account: pickArb,
      instrument: fc.nat({ max: 1 }),
      side: sideArb,
      tif: fc.constantFrom<"IOC" | "FOK">("IOC", "IOC", "FOK"),
      qtyLots: qtyArb,
      session: sessionPickArb,
      flaw: orderFlawArb,
    }),
  },
  {
    weight: 18,
    arbitrary: fc.record({
      kind: fc.constant("stop" as const),
      account: pickArb,
      instrument: fc.nat({ max: 1 }),
      side: sideArb,
      orderType: fc.constantFrom<"stop" | "stop_limit">("stop", "stop_limit"),
      tif: fc.constantFrom<"GTC" | "DAY">("GTC", "DAY"),
      stopOffsetTicks: offsetArb,
      limitOffsetTicks: fc.integer({ min: -5, max: 5 }),
      qtyLots: qtyArb,
      session: sessionPickArb,
      flaw: orderFlawArb,
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant("cancel" as const),
      pick: pickArb,
      flaw: flawArb<RefFlaw>("none", ["other_account", "unknown_id", "finished_id"], 12),
    }),
  },
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant("replace" as const),
      pick: pickArb,
      offsetTicks: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -8, max: 8 }) }),
      qtyDeltaLots: fc.integer({ min: -10, max: 10 }),
      flaw: flawArb<ReplaceFlaw>("none", ["other_account", "unknown_id", "finished_id", "zero_qty", "below_filled", "no_change", "off_collar_price"], 12),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("massCancel" as const),
      account: fc.oneof({ weight: 1, arbitrary: fc.constant(-1) }, { weight: 6, arbitrary: pickArb }),
      instrument: fc.oneof({ weight: 1, arbitrary: fc.constant(-1) }, { weight: 3, arbitrary: fc.nat({ max: 1 }) }),
      flaw: flawArb<"none" | "unknown_account" | "unknown_instrument">("none", ["unknown_account", "unknown_instrument"], 6),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("openSession" as const),
      account: pickArb,
      cancelOnDisconnect: fc.boolean(),
      flaw: flawArb<"none" | "reuse_open_id" | "reuse_closed_id" | "unknown_account">("none", ["reuse_open_id", "reuse_closed_id", "reuse_closed_id", "unknown_account"], 6),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("closeSession" as const),
      pick: pickArb,
      flaw: flawArb<"none" | "unknown_id">("none", ["unknown_id"], 8),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("killSwitch" as const),
      scope: fc.constantFrom<"account" | "firm">("account", "account", "firm"),
      pick: pickArb,
      active: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("tradingState" as const),
      instrument: fc.nat({ max: 1 }),
      state: fc.oneof(
        { weight: 8, arbitrary: fc.constant<TradingState>("open") },
        { weight: 1, arbitrary: fc.constantFrom<TradingState>("halted", "closed") },
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("referencePrice" as const),
      instrument: fc.nat({ max: 1 }),
      toLastTrade: fc.boolean(),
      offsetTicks: fc.integer({ min: -30, max: 30 }),
      flaw: flawArb<"none" | "zero_price">("none", ["zero_price"], 10),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("updateInstrument" as const),
      instrument: fc.nat({ max: 1 }),
      makerFeeBps: fc.integer({ min: 0, max: 20 }),
      takerFeeBps: fc.integer({ min: 0, max: 40 }),
      bandScale: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("funds" as const),
      account: pickArb,
      instrument: fc.nat({ max: 1 }),
      op: fc.constantFrom<FundsOp>("DepositCash", "WithdrawCash", "CreditCash", "DebitCash", "DepositSecurities", "WithdrawSecurities"),
      amount: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 1_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000_000 }) }),
      flaw: flawArb<FundsFlaw>("none", ["zero_amount", "bad_currency", "to_limit", "past_limit"], 6),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "endOfDay" as const }) },
);

const gapArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 2_000_000 }) },
);

export const actionArbitrary: fc.Arbitrary<Action> = fc.record({ gapUs: gapArb, op: opArb });

/**
 * Instrument 1 is a wide-collar EUR stock; instrument 2 a cheap USD one whose
 * tight circuit band trips often, with a tick value from the setup (large tick
 * values make large notionals and fees).
 */
function instrumentsOf(fees: readonly [number, number, number, number], tickValue2Minor: number): CreateInstrument[] {
  const [maker1, taker1, maker2, taker2] = fees;
  return [
    instrument({ maxOrderQtyLots: 1_500, maxOrderNotionalMinor: 15_000_000, makerFeeBps: maker1, takerFeeBps: taker1 }),
    instrument({
      instrumentId: 2,
      symbol: "BOLT",
      isin: "US000BOLT002",
      mic: "XNAS",
      currency: "USD",
      tickSize: "0.1",
      tickValueMinor: tickValue2Minor,
      referencePriceTicks: 500,
      priceBandBps: 2_000,
      circuitBandBps: 300,
      maxOrderQtyLots: 5_000,
      maxOrderNotionalMinor: Math.min(notionalMinorMax, 2_000_000 * tickValue2Minor),
      makerFeeBps: maker2,
      takerFeeBps: taker2,
    }),
  ];
}

export const marketSetupArbitrary: fc.Arbitrary<MarketSetup> = fc
  .record({
    accountCount: fc.integer({ min: 4, max: 6 }),
    passiveSpreadScale: fc.integer({ min: 1, max: 4 }),
    ladderOrders: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 300 }) }),
    ladderLevels: fc.integer({ min: 1, max: 60 }),
    stpRotation: fc.nat({ max: stpModes.length - 1 }),
    tickValue2Minor: fc.constantFrom(10, 10, 997, 25_000),
    fees: fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 25 })),
  })
  .map(({ accountCount, passiveSpreadScale, ladderOrders, ladderLevels, stpRotation, tickValue2Minor, fees }) => {
    const modes = Array.from({ length: accountCount }, (_, i) => stpModes[(i + stpRotation) % stpModes.length] ?? "none");
    if (!modes.includes("none")) modes[accountCount - 1] = "none";
    const accounts = modes.map((stpMode, i) => {
      const accountId = i + 1;
      // Account 3 is throttled (few open orders, low rate); the last account is poor.
      const throttled = accountId === 3;
      const poor = accountId === accountCount;
      return {
        accountId,
        firmId: accountId <= 2 ? sharedFirmId : sharedFirmId + accountId,
        stpMode,
        openOrdersMax: throttled ? 12 : 10_000,
        ordersPerSecondMax: throttled ? 30 : 100_000,
        cashMinor: poor ? 2_000_000 : 2_000_000_000,
        lots: poor ? 100 : 50_000,
      };
    });
    return { instruments: instrumentsOf(fees, tickValue2Minor), passiveSpreadScale, ladderOrders, ladderLevels, accounts };
  });

/**
 * Commands that create and fund the market, then lay a ladder of resting
 * orders (some icebergs, some DAY) on both sides of each book, one microsecond apart.
 */
export function setupCommands(setup: MarketSetup, startTsUs: number): Command[] {
  let tsUs = startTsUs;
  const commands: Command[] = setup.instruments.map((spec) => ({ ...spec, tsUs: tsUs++ }));
  for (const a of setup.accounts) {
    commands.push({
      type: "CreateAccount",
      tsUs: tsUs++,
      accountId: a.accountId,
      firmId: a.firmId,
      stpMode: a.stpMode,
      openOrdersMax: a.openOrdersMax,
      ordersPerSecondMax: a.ordersPerSecondMax,
    });
  }
  for (const a of setup.accounts) {
    for (const spec of setup.instruments) {
      commands.push({ type: "DepositCash", tsUs: tsUs++, accountId: a.accountId, currency: spec.currency, amountMinor: a.cashMinor * spec.tickValueMinor });
      commands.push({ type: "DepositSecurities", tsUs: tsUs++, accountId: a.accountId, instrumentId: spec.instrumentId, qtyLots: a.lots });
    }
  }
  for (let k = 0; k < setup.ladderOrders; k += 1) {
    for (const spec of setup.instruments) {
      for (const side of ["buy", "sell"] as const) {
        const account = at(setup.accounts, k + (side === "buy" ? 0 : 1));
        const distance = 1 + ((k * 7) % setup.ladderLevels);
        const qtyLots = 1 + ((k * 13) % 50);
        commands.push({
          type: "PlaceOrder",
          tsUs: tsUs++,
          accountId: account.accountId,
          instrumentId: spec.instrumentId,
          clientOrderId: `L${spec.instrumentId}${side}${k}`,
          side,
          orderType: "limit",
          tif: k % 4 === 3 ? "DAY" : "GTC",
          priceTicks: spec.referencePriceTicks + (side === "buy" ? -distance : distance),
          stopPriceTicks: 0,
          qtyLots,
          displayQtyLots: k % 5 === 4 ? 1 + (k % 3) : 0,
          postOnly: k % 7 === 6,
          sessionId: 0,
        });
      }
    }
  }
  return commands;
}

// ── Materialization ─────────────────────────────────────────────────────────

const startUs = 1_700_000_000_000_000;
const unknownId = 999_999;

function at<T>(items: readonly T[], index: number): T {
  const item = items[index % items.length];
  if (item === undefined) throw new RangeError("pick from an empty list");
  return item;
}

/** Turns actions into commands, resolving picks against a private engine's events. */
class Materializer {
  private readonly engine = new Engine();
  readonly tracker = new OrderTracker();
  readonly commands: Command[] = [];
  private tsUs = startUs;
  private nextClientOrder = 1;
  private nextSessionId = 1;
  private readonly sessions = new Map<number, number>();
  /** Cash and securities deposited minus withdrawn, by currency and instrument. */
  private readonly cashOutstanding = new Map<string, bigint>();
  private readonly lotsOutstanding = new Map<number, bigint>();
  /** The account that last held each session id. */
  private readonly lastClientOrderId = new Map<number, string>();
  private readonly referenceTicks = new Map<number, number>();
  private readonly lastTradeTicks = new Map<number, number>();
  private readonly tradingStates = new Map<number, TradingState>();
  /** Active kill switches as "scope:id". */
  private readonly kills = new Set<string>();

  constructor(
    private readonly setup: MarketSetup,
    private readonly wireSafe: boolean,
  ) {
    for (const command of setupCommands(setup, this.tsUs)) this.push(command);
    this.tsUs = this.commands[this.commands.length - 1]?.tsUs ?? this.tsUs;
  }

  private push(command: Command): void {
    this.commands.push(command);
    let events: EngineEvent[];
    try {
      events = this.engine.apply(command);
    } catch {
      // The engine is broken; the property tests report it. Keep generating from what we know.
      return;
    }
    this.tracker.observe(events);
    if (!events.some((e) => e.type === "CommandRejected")) this.countMovement(command);
    for (const event of events) {
      switch (event.type) {
        case "InstrumentCreated":
        case "ReferencePriceSet":
          this.referenceTicks.set(event.instrumentId, event.type === "InstrumentCreated" ? event.referencePriceTicks : event.priceTicks);
          break;
        case "TradeExecuted":
          this.lastTradeTicks.set(event.instrumentId, event.priceTicks);
          break;
        case "SessionOpened":
          this.sessions.set(event.sessionId, event.accountId);
          break;
        case "SessionClosed":
          this.sessions.delete(event.sessionId);
          break;
        case "TradingStateChanged":
          this.tradingStates.set(event.instrumentId, event.state);
          break;
        case "KillSwitchSet":
          if (event.active) this.kills.add(`${event.scope}:${event.id}`);
          else this.kills.delete(`${event.scope}:${event.id}`);
          break;
        // Events that tell the generator nothing it uses.
        case "OrderAccepted":
        case "CommandRejected":
        case "OrderCancelled":
        case "OrderReplaced":
        case "OrderExpired":
        case "OrderTriggered":
        case "InstrumentUpdated":
        case "AccountCreated":
        case "BalanceChanged":
        case "PositionChanged":
        case "BookLevelChanged":
        case "DayEnded":
          break;
      }
    }
  }

  private countMovement(command: Command): void {
    const sign = command.type === "DepositCash" || command.type === "CreditCash" || command.type === "DepositSecurities" ? 1n : -1n;
    switch (command.type) {
      case "DepositCash":
      case "WithdrawCash":
      case "CreditCash":
      case "DebitCash":
        this.cashOutstanding.set(command.currency, (this.cashOutstanding.get(command.currency) ?? 0n) + sign * BigInt(command.amountMinor));
        break;
      case "DepositSecurities":
      case "WithdrawSecurities":
        this.lotsOutstanding.set(command.instrumentId, (this.lotsOutstanding.get(command.instrumentId) ?? 0n) + sign * BigInt(command.qtyLots));
        break;
      // Commands that move no cash or securities.
      case "PlaceOrder":
      case "CancelOrder":
      case "ReplaceOrder":
      case "MassCancel":
      case "OpenSession":
      case "CloseSession":
      case "CreateInstrument":
      case "UpdateInstrument":
      case "SetReferencePrice":
      case "SetTradingState":
      case "CreateAccount":
      case "SetKillSwitch":
      case "EndOfDay":
        break;
    }
  }

  private accountId(pick: number): number {
    return at(this.setup.accounts, pick).accountId;
  }

  private instrument(pick: number): CreateInstrument {
    return at(this.setup.instruments, pick);
  }

  private reference(instrumentId: number): number {
    return this.referenceTicks.get(instrumentId) ?? 1;
  }

  private collarTicks(spec: CreateInstrument): number {
    const instrument = this.engine.instruments.get(spec.instrumentId);
    const bandBps = instrument?.priceBandBps ?? spec.priceBandBps;
    return Math.floor((this.reference(spec.instrumentId) * bandBps) / 10_000);
  }

  private sessionFor(accountId: number, pick: number): number {
    if (pick === 0) return 0;
    const own = [...this.sessions].filter(([, owner]) => owner === accountId).map(([id]) => id);
    return own.length === 0 ? 0 : at(own, pick);
  }

  private clientOrderId(accountId: number): string {
    const id = `c${this.nextClientOrder}`;
    this.nextClientOrder += 1;
    this.lastClientOrderId.set(accountId, id);
    return id;
  }

  /** Exactly one command per action, so a prefix of the actions gives a prefix of the stream. */
  apply(action: Action): void {
    this.tsUs += action.gapUs;
    this.push(this.commandFor(action.op));
  }

  private commandFor(op: Op): Command {
    const tsUs = this.tsUs;
    switch (op.kind) {
      case "limit":
      case "market":
      case "stop":
        return this.order(op);
      case "cancel": {
        const target = this.target(op.pick, op.flaw);
        return { type: "CancelOrder", tsUs, accountId: target.accountId, orderId: target.orderId };
      }
      case "replace":
        return this.replace(op);
      case "massCancel": {
        let accountId = op.account < 0 ? 0 : this.accountId(op.account);
        let instrumentId = op.instrument < 0 ? 0 : this.instrument(op.instrument).instrumentId;
        if (op.flaw === "unknown_account") accountId = unknownId;
        if (op.flaw === "unknown_instrument") instrumentId = unknownId;
        return { type: "MassCancel", tsUs, accountId, instrumentId };
      }
      case "openSession": {
        const open = [...this.sessions.keys()];
        const closed = Array.from({ length: this.nextSessionId - 1 }, (_, i) => i + 1).filter((id) => !this.sessions.has(id));
        let sessionId = this.nextSessionId;
        if (op.flaw === "reuse_open_id" && open.length > 0) sessionId = at(open, op.account);
        else if (op.flaw === "reuse_closed_id" && closed.length > 0) sessionId = at(closed, op.account);
        else this.nextSessionId += 1;
        const accountId = op.flaw === "unknown_account" ? unknownId : this.accountId(op.account);
        return { type: "OpenSession", tsUs, sessionId, accountId, cancelOnDisconnect: op.cancelOnDisconnect };
      }
      case "closeSession": {
        const open = [...this.sessions.keys()];
        const sessionId = op.flaw === "unknown_id" || open.length === 0 ? unknownId : at(open, op.pick);
        return { type: "CloseSession", tsUs, sessionId };
      }
      case "killSwitch": {
        const active = [...this.kills];
        if (!op.active && active.length > 0) {
          const [scope, id] = at(active, op.pick).split(":");
          return { type: "SetKillSwitch", tsUs, scope: scope === "firm" ? "firm" : "account", id: Number(id), active: false };
        }
        const account = at(this.setup.accounts, op.pick);
        return { type: "SetKillSwitch", tsUs, scope: op.scope, id: op.scope === "account" ? account.accountId : account.firmId, active: op.active };
      }
      case "tradingState": {
        const closed = [...this.tradingStates].filter(([, state]) => state !== "open").map(([id]) => id);
        const instrumentId = op.state === "open" && closed.length > 0 ? at(closed, op.instrument) : this.instrument(op.instrument).instrumentId;
        return { type: "SetTradingState", tsUs, instrumentId, state: op.state };
      }
      case "referencePrice": {
        const instrumentId = this.instrument(op.instrument).instrumentId;
        const anchor = op.toLastTrade ? (this.lastTradeTicks.get(instrumentId) ?? this.reference(instrumentId)) : this.reference(instrumentId);
        const priceTicks = op.flaw === "zero_price" ? 0 : Math.max(1, anchor + (op.toLastTrade ? 0 : op.offsetTicks));
        return { type: "SetReferencePrice", tsUs, instrumentId, priceTicks };
      }
      case "updateInstrument": {
        const spec = this.instrument(op.instrument);
        return {
          type: "UpdateInstrument",
          tsUs,
          instrumentId: spec.instrumentId,
          priceBandBps: Math.min(10_000, spec.priceBandBps * op.bandScale),
          circuitBandBps: Math.min(10_000, spec.circuitBandBps * op.bandScale),
          maxOrderQtyLots: spec.maxOrderQtyLots,
          maxOrderNotionalMinor: spec.maxOrderNotionalMinor,
          makerFeeBps: op.makerFeeBps,
          takerFeeBps: op.takerFeeBps,
        };
      }
      case "funds":
        return this.funds(op);
      case "endOfDay":
        return { type: "EndOfDay", tsUs };
    }
  }

  private funds(op: Extract<Op, { kind: "funds" }>): Command {
    const tsUs = this.tsUs;
    const accountId = this.accountId(op.account);
    const spec = this.instrument(op.instrument);
    const account = this.engine.accounts.get(accountId);
    let amount = op.flaw === "zero_amount" ? 0 : op.amount;
    const extra = op.flaw === "past_limit" ? 1 : 0;
    if (op.op === "DepositCash" || op.op === "WithdrawCash" || op.op === "CreditCash" || op.op === "DebitCash") {
      const slot = account?.cash.get(spec.currency);
      const room =
        op.op === "DepositCash" || op.op === "CreditCash"
          ? cashMinorMax - Number(this.cashOutstanding.get(spec.currency) ?? 0n)
          : (slot?.balance ?? 0) - (slot?.reserved ?? 0);
      if (op.flaw === "to_limit" || op.flaw === "past_limit") amount = Math.max(1, room + extra);
      if (this.wireSafe) amount = Math.min(amount, Number.MAX_SAFE_INTEGER);
      const currency = op.flaw === "bad_currency" ? "eur" : spec.currency;
      // Payment ids from a small pool, so that repeats (refused as duplicate_payment) happen.
      if (op.op === "CreditCash" || op.op === "DebitCash") return { type: op.op, tsUs, accountId, currency, amountMinor: amount, paymentId: `pay_${String(op.amount % 16)}` };
      return { type: op.op, tsUs, accountId, currency, amountMinor: amount };
    }
    const slot = account?.positions.get(spec.instrumentId);
    if (op.flaw === "to_limit" || op.flaw === "past_limit") {
      const room =
        op.op === "DepositSecurities"
          ? Math.min(qtyLotsMax, positionLotsMax - Number(this.lotsOutstanding.get(spec.instrumentId) ?? 0n))
          : (slot?.position ?? 0) - (slot?.reserved ?? 0);
      amount = Math.max(1, room + extra);
    }
    return { type: op.op, tsUs, accountId, instrumentId: op.flaw === "bad_currency" ? unknownId : spec.instrumentId, qtyLots: amount };
  }

  /** The order a cancel or replace names: a live one, or a deliberately wrong one. */
  private target(pick: number, flaw: RefFlaw | ReplaceFlaw): { accountId: number; orderId: number; order: TrackedOrder | null } {
    const live = [...this.tracker.live.values()];
    if (flaw === "unknown_id" || (live.length === 0 && flaw !== "finished_id")) {
      return { accountId: this.accountId(pick), orderId: unknownId + pick, order: null };
    }
    if (flaw === "finished_id" && this.tracker.finished.length > 0) {
      const order = this.tracker.orders.get(at(this.tracker.finished, pick));
      if (order !== undefined) return { accountId: order.accountId, orderId: order.orderId, order: null };
    }
    if (live.length === 0) return { accountId: this.accountId(pick), orderId: unknownId, order: null };
    const order = at(live, pick);
    if (flaw === "other_account") {
      const other = this.setup.accounts.find((a) => a.accountId !== order.accountId);
      return { accountId: other?.accountId ?? unknownId, orderId: order.orderId, order: null };
    }
    return { accountId: order.accountId, orderId: order.orderId, order };
  }

  private replace(op: Extract<Op, { kind: "replace" }>): Command {
    const { accountId, orderId, order } = this.target(op.pick, op.flaw);
    let priceTicks = order === null || order.priceTicks === 0 ? this.reference(1) : order.priceTicks + op.offsetTicks;
    let qtyLots = order === null ? 10 : Math.max(1, order.qtyLots + op.qtyDeltaLots);
    if (order !== null) {
      const spec = this.setup.instruments.find((i) => i.instrumentId === order.instrumentId);
      switch (op.flaw) {
        case "zero_qty":
          qtyLots = 0;
          break;
        case "below_filled":
          qtyLots = order.filledLots + order.removedLots;
          break;
        case "no_change":
          priceTicks = order.priceTicks;
          qtyLots = order.qtyLots;
          break;
        case "off_collar_price":
          if (spec !== undefined) priceTicks = this.reference(spec.instrumentId) + (order.side === "buy" ? 1 : -1) * (this.collarTicks(spec) + 1);
          break;
        // Flaws that need no change to a valid price and quantity.
        case "none":
        case "other_account":
        case "unknown_id":
        case "finished_id":
          break;
      }
    }
    return { type: "ReplaceOrder", tsUs: this.tsUs, accountId, orderId, priceTicks: Math.max(0, priceTicks), qtyLots };
  }

  private order(op: Extract<Op, { kind: "limit" | "market" | "stop" }>): Command {
    const spec = this.instrument(op.instrument);
    let accountId = this.accountId(op.account);
    const reference = this.reference(spec.instrumentId);
    let orderType: OrderType = "limit";
    let priceTicks = 0;
    let stopPriceTicks = 0;
    let displayQtyLots = 0;
    let postOnly = false;
    let tif: TimeInForce = op.tif;
    switch (op.kind) {
      case "limit":
        priceTicks = Math.max(
          1,
          reference + (op.aggressive ? op.offsetTicks : (op.side === "buy" ? -1 : 1) * Math.abs(op.offsetTicks) * this.setup.passiveSpreadScale),
        );
        displayQtyLots = Math.min(op.displayQtyLots, op.qtyLots);
        // Icebergs and post-only orders must rest, so they only come with GTC or DAY.
        if (tif !== "GTC" && tif !== "DAY") displayQtyLots = 0;
        postOnly = op.postOnly && (tif === "GTC" || tif === "DAY");
        break;
      case "market":
        orderType = "market";
        break;
      case "stop":
        orderType = op.orderType;
        stopPriceTicks = Math.max(1, reference + op.stopOffsetTicks);
        if (op.orderType === "stop_limit") priceTicks = Math.max(1, stopPriceTicks + op.limitOffsetTicks);
        break;
    }
    let instrumentId = spec.instrumentId;
    let qtyLots = op.qtyLots;
    const previousClientOrderId = this.lastClientOrderId.get(accountId);
    let clientOrderId = this.clientOrderId(accountId);
    let sessionId = this.sessionFor(accountId, op.session);
    switch (op.flaw) {
      case "none":
        break;
      case "zero_qty":
        qtyLots = 0;
        break;
      case "negative_qty":
        qtyLots = -qtyLots;
        break;
      case "fractional_qty":
        // The codec refuses a fraction, so a stream that must cross the wire gets a negative quantity instead.
        qtyLots = this.wireSafe ? -qtyLots : qtyLots + 0.5;
        break;
      case "unknown_account":
        accountId = unknownId;
        break;
      case "unknown_instrument":
        instrumentId = unknownId;
        break;
      case "off_collar_price": {
        const outside = this.collarTicks(spec) + 1 + (op.qtyLots % 50);
        if (orderType === "market") priceTicks = reference;
        else if (orderType === "stop") stopPriceTicks = reference + outside;
        else priceTicks = reference + (op.side === "buy" ? outside : -outside);
        break;
      }
      case "zero_price":
        if (orderType === "market") stopPriceTicks = reference;
        else if (orderType === "stop") stopPriceTicks = 0;
        else priceTicks = 0;
        break;
      case "duplicate_client_order_id":
        clientOrderId = previousClientOrderId ?? clientOrderId;
        break;
      case "empty_client_order_id":
        clientOrderId = "";
        break;
      case "bad_display":
        displayQtyLots = orderType === "limit" ? qtyLots + 1 : 1;
        if (orderType === "limit") tif = "GTC";
        break;
      case "bad_flags":
        if (orderType === "limit") {
          postOnly = true;
          tif = "IOC";
        } else if (orderType === "market") tif = "GTC";
        else tif = "IOC";
        break;
      case "unknown_session":
        sessionId = unknownId;
        break;
    }
    return {
      type: "PlaceOrder",
      tsUs: this.tsUs,
      accountId,
      instrumentId,
      clientOrderId,
      side: op.side,
      orderType,
      tif,
      priceTicks,
      stopPriceTicks,
      qtyLots,
      displayQtyLots,
      postOnly,
      sessionId,
    };
  }
}

/** A stream before materialization: what fast-check generates and shrinks. */
export interface StreamCase {
  readonly setup: MarketSetup;
  readonly actions: readonly Action[];
}

export interface StreamOptions {
  /** Fewest generated commands after the setup (fast-check will not shrink below it; `minimizeFailure` does). */
  readonly actionsMin?: number;
  /** Most generated commands after the setup. */
  readonly actionsMax?: number;
  /**
   * Only values the binary codec can carry (no fractional quantities, no amounts
   * beyond the safe integers), for streams that go through the command log.
   * Invalid values remain, as business rejections.
   */
  readonly wireSafe?: boolean;
}

/** Resolves an action list into the concrete command stream, setup included. */
export function materialize(streamCase: StreamCase, options: StreamOptions = {}): GeneratedStream {
  const materializer = new Materializer(streamCase.setup, options.wireSafe ?? false);
  const setupCount = materializer.commands.length;
  for (const action of streamCase.actions) materializer.apply(action);
  return { setup: streamCase.setup, commands: materializer.commands, setupCount };
}

/** The arbitrary of stream cases: a market setup and 1 500 to 4 000 actions by default. */
export function streamCaseArbitrary(options: StreamOptions = {}): fc.Arbitrary<StreamCase> {
  const actionsMin = options.actionsMin ?? 1_500;
  const actionsMax = Math.max(actionsMin, options.actionsMax ?? 4_000);
  return fc.record({ setup: marketSetupArbitrary, actions: fc.array(actionArbitrary, { minLength: actionsMin, maxLength: actionsMax }) });
}

/** The arbitrary of whole, materialized streams. */
export function streamArbitrary(options: StreamOptions = {}): fc.Arbitrary<GeneratedStream> {
  return streamCaseArbitrary(options).map((streamCase) => materialize(streamCase, options));
}

/**
 * One stream for a seed, with exactly `actions` generated commands after the
 * setup: for simulations and benchmarks, which want a fixed length and no
 * shrinking. The same seed always gives the same commands (with this fast-check version).
 */
export function generateStream(seed: number, options: { readonly actions?: number; readonly wireSafe?: boolean } = {}): GeneratedStream {
  const actions = options.actions ?? 3_000;
  const [sample] = fc.sample(streamCaseArbitrary({ actionsMin: actions, actionsMax: actions }), { seed, numRuns: 1 });
  if (sample === undefined) throw new RangeError("fast-check produced no sample");
  return materialize(sample, options);
}

// ── Failure minimization ────────────────────────────────────────────────────

/** What a stream check found: the command after which a property broke, and how. */
export interface StreamFailure {
  readonly commandIndex: number;
  /** The first line names the broken property; it is the failure's signature. */
  readonly message: string;
}

export type StreamCheck = (stream: GeneratedStream) => StreamFailure | null;

/** Two failures are the same when their first lines agree up to numbers (ids, prices, quantities). */
function signature(failure: StreamFailure): string {
  return (failure.message.split("\n")[0] ?? "").replace(/\d+/g, "#");
}

/**
 * Reduces a failing case to a small one that fails the same way: the actions
 * up to the failing command, a simpler setup (no ladder, tight prices), the
 * shortest recent history that still fails (most failures depend on the last
 * few dozen commands), then delta debugging (drop ever smaller chunks of
 * actions while the failure stays). It stops after `attemptsMax` checks or
 * when `shouldStop` (the caller's clock: this module reads none) says so.
 */
export function minimizeFailure(
  failing: StreamCase,
  check: StreamCheck,
  options: StreamOptions & { readonly attemptsMax?: number; readonly shouldStop?: () => boolean } = {},
): { readonly streamCase: StreamCase; readonly stream: GeneratedStream; readonly failure: StreamFailure } {
  let attemptsLeft = options.attemptsMax ?? 2_000;
  const stop = options.shouldStop ?? ((): boolean => false);
  const evaluate = (candidate: StreamCase): { stream: GeneratedStream; failure: StreamFailure | null } => {
    attemptsLeft -= 1;
    const stream = materialize(candidate, options);
    return { stream, failure: check(stream) };
  };
  const attempts = (): number => (stop() ? 0 : attemptsLeft);
  let best = evaluate(failing);
  if (best.failure === null) throw new Error("minimizeFailure: the case does not fail");
  let current = failing;
  const target = signature(best.failure);
  /** Keeps `candidate` (cut after its failing command) when it fails the same way. */
  const tryCase = (candidate: StreamCase): boolean => {
    if (attempts() <= 0) return false;
    const result = evaluate(candidate);
    if (result.failure === null || signature(result.failure) !== target) return false;
    // Each action makes one command, so cutting the actions cuts the stream at the same place.
    const keep = Math.max(0, result.failure.commandIndex - result.stream.setupCount + 1);
    current = { setup: candidate.setup, actions: candidate.actions.slice(0, keep) };
    best = { stream: { ...result.stream, commands: result.stream.commands.slice(0, result.failure.commandIndex + 1) }, failure: result.failure };
    return true;
  };
  tryCase(current);
  for (let ladderOrders = 0; ladderOrders < current.setup.ladderOrders; ladderOrders = Math.max(1, ladderOrders * 2)) {
    if (tryCase({ setup: { ...current.setup, ladderOrders }, actions: current.actions })) break;
  }
  if (current.setup.passiveSpreadScale > 1) tryCase({ setup: { ...current.setup, passiveSpreadScale: 1 }, actions: current.actions });
  for (let recent = 4; recent < current.actions.length; recent *= 2) {
    if (tryCase({ setup: current.setup, actions: current.actions.slice(-recent) })) break;
  }
  for (let chunk = Math.max(1, Math.floor(current.actions.length / 2)); chunk >= 1 && attempts() > 0; chunk = Math.floor(chunk / 2)) {
    for (let from = 0; from < current.actions.length && attempts() > 0; ) {
      const actions = [...current.actions.slice(0, from), ...current.actions.slice(from + chunk)];
      if (!tryCase({ setup: current.setup, actions })) from += chunk;
    }
  }
  const failure = best.failure ?? { commandIndex: -1, message: "" };
  return { streamCase: current, stream: best.stream, failure };
}

/** A failure report: the minimized command list, one JSON command per line (the ladder summarized). */
export function describeFailure(failing: StreamCase, check: StreamCheck, options: StreamOptions & { readonly shouldStop?: () => boolean } = {}): string {
  const { stream, failure } = minimizeFailure(failing, check, options);
  const shown = stream.commands.slice(0, failure.commandIndex + 1);
  const ladder = stream.setup.ladderOrders * 2 * stream.setup.instruments.length;
  const lines = shown.map((command, index) => `  ${index === failure.commandIndex ? "→" : " "} ${JSON.stringify(command)}`);
  const setupEnd = stream.setupCount - ladder;
  return [
    `${failure.message}`,
    `minimized to ${shown.length} commands (${stream.setupCount} setup, ${ladder} of them the order ladder), failing at #${failure.commandIndex}:`,
    ...lines.slice(0, setupEnd),
    ...(ladder > 0 ? [`    … ${ladder} ladder orders (setupCommands of ${JSON.stringify({ ...stream.setup, instruments: undefined, accounts: undefined })})`] : []),
    ...lines.slice(stream.setupCount),
  ].join("\n");
}
