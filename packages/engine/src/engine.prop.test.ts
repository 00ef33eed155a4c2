/**
 * Safety properties of the engine over generated command streams, checked
 * after every command:
 * - no command throws; events carry consecutive sequence numbers and the
 *   command's timestamp; a rejection comes alone;
 * - `invariantViolations` is empty (uncrossed books in price-time order,
 *   reservations equal to what open orders need, 0 ≤ reserved ≤ balance, open
 *   order counts, kill switches honoured);
 * - every order's quantity is conserved: ordered = filled + open +
 *   cancelled/expired, across replaces, and the engine agrees with the events;
 * - cash plus fees and positions change only by deposits and withdrawals (in
 *   exact integer arithmetic), and fee income equals the fees of the trades;
 * - balance, position and book-level events state the values they report;
 * - every event has a cause: trades only in open instruments, at the maker's
 *   price, within the taker's limit and the circuit band, never against the
 *   account itself unless its STP mode allows, never with a post-only taker;
 *   accepted limit prices inside the collar; each cancel reason matches its
 *   command (cancel-on-disconnect cancels only that session's orders, kill
 *   switches only the target's); expiries only of DAY orders at end of day;
 *   IOC, FOK and market orders never survive their command and FOK never
 *   fills in part.
 *
 * A failure is reported minimized; see property-parameters.ts to replay it or run more cases.
 */
import type { Command, EngineEvent, OrderCancelled, Side } from "@tradestream/contracts";
import fc from "fast-check";
import { describe, it } from "vitest";
import { Engine } from "./engine.ts";
import {
  type GeneratedStream,
  OrderTracker,
  type StreamFailure,
  type TrackedOrder,
  describeFailure,
  materialize,
  streamCaseArbitrary,
  trackedLeaves,
} from "./generators.ts";
import { invariantViolations, totalCash, totalPositions } from "./invariants.ts";
import { minimizeDeadline, propertyParameters } from "./property-parameters.ts";


function add<K>(map: Map<K, bigint>, key: K, delta: number): void {
  map.set(key, (map.get(key) ?? 0n) + BigInt(delta));
}

function sameTotals<K>(actual: Map<K, bigint>, expected: Map<K, bigint>): boolean {
  const keys = new Set([...actual.keys(), ...expected.keys()]);
  return [...keys].every((key) => (actual.get(key) ?? 0n) === (expected.get(key) ?? 0n));
}

function show<K>(map: Map<K, bigint | number>): string {
  return [...map].map(([key, value]) => `${String(key)}=${value}`).join(" ");
}

/** A session as opened: `instance` tells a session apart from an earlier one with the same id. */
interface OpenedSession {
  readonly instance: number;
  readonly accountId: number;
  readonly cancelOnDisconnect: boolean;
}

/** Everything the checker knows from the events alone, checked against the engine after each command. */
class StreamChecker {
  private readonly tracker = new OrderTracker();
  private readonly expectedCash = new Map<string, bigint>();
  private readonly expectedLots = new Map<number, bigint>();
  private readonly expectedFees = new Map<string, bigint>();
  /** The L2 book as the BookLevelChanged events describe it: "instrument:side" → price → level. */
  private readonly levels = new Map<string, Map<number, { qty: number; count: number }>>();
  private readonly tradingState = new Map<number, string>();
  private readonly referenceTicks = new Map<number, number>();
  private readonly lastTradeTicks = new Map<number, number>();
  private readonly sessions = new Map<number, OpenedSession>();
  private readonly orderSession = new Map<number, number>();
  private sessionInstances = 0;
  private lastSeq = 0;

  constructor(private readonly engine: Engine) {}

  check(command: Command, events: readonly EngineEvent[]): string[] {
    const problems: string[] = [];
    for (const event of events) {
      if (event.seq !== this.lastSeq + 1) problems.push(`event ${event.type} has seq ${event.seq} after ${this.lastSeq}`);
      if (event.tsUs !== command.tsUs) problems.push(`event ${event.type} has tsUs ${event.tsUs}, command ${command.tsUs}`);
      this.lastSeq = event.seq;
    }
    const rejected = events.some((e) => e.type === "CommandRejected");
    if (rejected && events.length !== 1) problems.push(`a rejection came with ${events.length - 1} other events`);
    if (!rejected) this.expectMovement(command);
    const accepted: TrackedOrder[] = [];
    const before = new Map(this.sessions);
    problems.push(...this.tracker.observe(events));
    for (const event of events) {
      problems.push(...this.checkCause(command, event, before));
      if (event.type === "OrderAccepted") {
        const order = this.tracker.orders.get(event.orderId);
        if (order !== undefined) accepted.push(order);
      }
    }
    problems.push(...this.checkAftermath(command, events, accepted, before));
    problems.push(...this.checkConservation(events));
    problems.push(...this.checkOrders());
    problems.push(...this.checkProjections(events));
    problems.push(...invariantViolations(this.engine));
    return problems;
  }

  private expectMovement(command: Command): void {
    switch (command.type) {
      case "DepositCash":
      case "CreditCash":
        add(this.expectedCash, command.currency, command.amountMinor);
        break;
      case "WithdrawCash":
      case "DebitCash":
        add(this.expectedCash, command.currency, -command.amountMinor);
        break;
      case "DepositSecurities":
        add(this.expectedLots, command.instrumentId, command.qtyLots);
        break;
      case "WithdrawSecurities":
        add(this.expectedLots, command.instrumentId, -command.qtyLots);
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

  /** Checks one event against the command and the state just before it; updates that state. */
  private checkCause(command: Command, event: EngineEvent, sessionsBefore: Map<number, OpenedSession>): string[] {
    const problems: string[] = [];
    switch (event.type) {
      case "InstrumentCreated":
        this.referenceTicks.set(event.instrumentId, event.referencePriceTicks);
        this.tradingState.set(event.instrumentId, "open");
        break;
      case "ReferencePriceSet":
        this.referenceTicks.set(event.instrumentId, event.priceTicks);
        break;
      case "TradingStateChanged":
        this.tradingState.set(event.instrumentId, event.state);
        break;
      case "SessionOpened":
        this.sessionInstances += 1;
        this.sessions.set(event.sessionId, { instance: this.sessionInstances, accountId: event.accountId, cancelOnDisconnect: event.cancelOnDisconnect });
        break;
      case "SessionClosed":
        this.sessions.delete(event.sessionId);
        break;
      case "OrderAccepted": {
        if (this.tradingState.get(event.instrumentId) !== "open") problems.push(`order ${event.orderId} accepted while instrument ${event.instrumentId} is not open`);
        if (command.type === "PlaceOrder" && command.sessionId !== 0) {
          const session = this.sessions.get(command.sessionId);
          if (session === undefined || session.accountId !== event.accountId) problems.push(`order ${event.orderId} accepted on a session its account does not hold`);
          else this.orderSession.set(event.orderId, session.instance);
        }
        if (event.orderType === "limit" || event.orderType === "stop_limit") {
          const instrument = this.engine.instruments.get(event.instrumentId);
          const reference = this.referenceTicks.get(event.instrumentId) ?? 0;
          const collar = Math.floor((reference * (instrument?.priceBandBps ?? 0)) / 10_000);
          if (event.priceTicks > reference + collar || event.priceTicks < Math.max(1, reference - collar)) {
            problems.push(`order ${event.orderId} accepted at ${event.priceTicks}, outside the collar ${reference}±${collar}`);
          }
        }
        break;
      }
      case "TradeExecuted":
        problems.push(...this.checkTrade(event));
        break;
      case "OrderCancelled":
        problems.push(...this.checkCancelCause(command, event, sessionsBefore));
        break;
      case "OrderExpired": {
        const order = this.tracker.orders.get(event.orderId);
        if (command.type !== "EndOfDay" || order?.tif !== "DAY") problems.push(`order ${event.orderId} (${order?.tif}) expired on ${command.type}`);
        break;
      }
      case "OrderReplaced":
        if (command.type !== "ReplaceOrder" || command.orderId !== event.orderId) problems.push(`order ${event.orderId} replaced by ${command.type}`);
        break;
      case "OrderTriggered": {
        const order = this.tracker.orders.get(event.orderId);
        const crossed = order !== undefined && (order.side === "buy" ? event.lastPriceTicks >= order.stopPriceTicks : event.lastPriceTicks <= order.stopPriceTicks);
        if (!crossed) problems.push(`stop ${event.orderId} at ${order?.stopPriceTicks} triggered by last price ${event.lastPriceTicks}`);
        if (this.tradingState.get(event.instrumentId) !== "open") problems.push(`stop ${event.orderId} triggered while instrument ${event.instrumentId} is not open`);
        break;
      }
      // Events with nothing to check on their own.
      case "CommandRejected":
      case "InstrumentUpdated":
      case "AccountCreated":
      case "BalanceChanged":
      case "PositionChanged":
      case "KillSwitchSet":
      case "BookLevelChanged":
      case "DayEnded":
        break;
    }
    return problems;
  }

  private checkTrade(event: Extract<EngineEvent, { type: "TradeExecuted" }>): string[] {
    const problems: string[] = [];
    const instrument = this.engine.instruments.get(event.instrumentId);
    if (instrument === undefined) return [`trade ${event.tradeId} in unknown instrument ${event.instrumentId}`];
    if (this.tradingState.get(event.instrumentId) !== "open") problems.push(`trade ${event.tradeId} while instrument ${event.instrumentId} is not open`);
    if (event.notionalMinor !== event.priceTicks * event.qtyLots * instrument.tickValueMinor) problems.push(`trade ${event.tradeId} notional ${event.notionalMinor} ≠ price × qty × tick value`);
    if (event.makerFeeMinor < 0 || event.takerFeeMinor < 0) problems.push(`trade ${event.tradeId} has a negative fee`);
    const anchor = this.lastTradeTicks.get(event.instrumentId) ?? this.referenceTicks.get(event.instrumentId) ?? 0;
    const band = Math.floor((anchor * instrument.circuitBandBps) / 10_000);
    if (Math.abs(event.priceTicks - anchor) > band) problems.push(`trade ${event.tradeId} at ${event.priceTicks} breaks the circuit band ${anchor}±${band}`);
    this.lastTradeTicks.set(event.instrumentId, event.priceTicks);
    if (event.makerAccountId === event.takerAccountId && this.engine.accounts.get(event.takerAccountId)?.stpMode !== "none") {
      problems.push(`trade ${event.tradeId} matches account ${event.takerAccountId} with itself despite its STP mode`);
    }
    const maker = this.tracker.orders.get(event.makerOrderId);
    const taker = this.tracker.orders.get(event.takerOrderId);
    if (maker === undefined || taker === undefined) return problems;
    if (maker.side === taker.side || taker.side !== event.takerSide) problems.push(`trade ${event.tradeId} sides are wrong`);
    if (maker.accountId !== event.makerAccountId || taker.accountId !== event.takerAccountId) problems.push(`trade ${event.tradeId} names the wrong accounts`);
    if (maker.priceTicks !== 0 && maker.priceTicks !== event.priceTicks) problems.push(`trade ${event.tradeId} is not at the maker's price ${maker.priceTicks}`);
    if (taker.postOnly) problems.push(`post-only order ${taker.orderId} took liquidity in trade ${event.tradeId}`);
    const limited = taker.orderType === "limit" || taker.orderType === "stop_limit";
    if (limited && (taker.side === "buy" ? event.priceTicks > taker.priceTicks : event.priceTicks < taker.priceTicks)) {
      problems.push(`trade ${event.tradeId} at ${event.priceTicks} is through the taker's limit ${taker.priceTicks}`);
    }
    return problems;
  }

  private checkCancelCause(command: Command, event: OrderCancelled, sessionsBefore: Map<number, OpenedSession>): string[] {
    const order = this.tracker.orders.get(event.orderId);
    if (order === undefined) return [];
    const account = this.engine.accounts.get(order.accountId);
    let ok: boolean;
    switch (event.reason) {
      case "user_request":
        ok = command.type === "CancelOrder" && command.orderId === event.orderId && command.accountId === order.accountId;
        break;
      case "mass_cancel":
        ok =
          command.type === "MassCancel" &&
          (command.accountId === 0 || command.accountId === order.accountId) &&
          (command.instrumentId === 0 || command.instrumentId === order.instrumentId);
        break;
      case "kill_switch":
        ok = command.type === "SetKillSwitch" && command.active && (command.scope === "account" ? command.id === order.accountId : command.id === account?.firmId);
        break;
      case "session_disconnect": {
        const session = command.type === "CloseSession" ? sessionsBefore.get(command.sessionId) : undefined;
        ok = session !== undefined && session.cancelOnDisconnect && this.orderSession.get(order.orderId) === session.instance;
        break;
      }
      case "ioc_remainder":
        ok = order.tif === "IOC" || order.tif === "FOK";
        break;
      case "fok_not_filled":
        ok = order.tif === "FOK" && order.filledLots === 0;
        break;
      case "market_no_liquidity":
        ok = order.orderType === "market" || order.orderType === "stop";
        break;
      case "self_trade_prevention":
        ok = account !== undefined && account.stpMode !== "none";
        break;
      case "circuit_breaker":
      case "instrument_halted":
        ok = this.tradingState.get(order.instrumentId) === "halted";
        break;
    }
    return ok ? [] : [`order ${event.orderId} cancelled for ${event.reason} by ${JSON.stringify(command)}`];
  }

  /** What must be true once the command is done. */
  private checkAftermath(command: Command, events: readonly EngineEvent[], accepted: readonly TrackedOrder[], sessionsBefore: Map<number, OpenedSession>): string[] {
    const problems: string[] = [];
    for (const order of accepted) {
      const immediate = order.tif === "IOC" || order.tif === "FOK" || order.orderType === "market";
      if (immediate && this.tracker.live.has(order.orderId)) problems.push(`${order.tif} ${order.orderType} order ${order.orderId} outlived its command`);
      if (order.tif === "FOK" && order.filledLots !== 0 && order.filledLots !== order.qtyLots) problems.push(`FOK order ${order.orderId} filled ${order.filledLots} of ${order.qtyLots}`);
    }
    for (const order of this.tracker.live.values()) {
      if (order.orderType === "stop" && order.triggered) problems.push(`triggered stop ${order.orderId} outlived its command`);
    }
    if (events.some((e) => e.type === "DayEnded")) {
      for (const order of this.tracker.live.values()) if (order.tif === "DAY") problems.push(`DAY order ${order.orderId} survived the end of day`);
    }
    if (command.type === "CloseSession" && events.some((e) => e.type === "SessionClosed")) {
      const session = sessionsBefore.get(command.sessionId);
      if (session?.cancelOnDisconnect === true) {
        for (const order of this.tracker.live.values()) {
          if (this.orderSession.get(order.orderId) === session.instance) problems.push(`order ${order.orderId} survived its session's disconnect`);
        }
      }
    }
    return problems;
  }

  /** Exact totals: balances near the limit would make a float sum inexact. */
  private checkConservation(events: readonly EngineEvent[]): string[] {
    const problems: string[] = [];
    const cash = new Map<string, bigint>();
    const lots = new Map<number, bigint>();
    for (const account of this.engine.accounts.values()) {
      for (const slot of account.cash.values()) add(cash, slot.currency, slot.balance);
      for (const slot of account.positions.values()) add(lots, slot.instrumentId, slot.position);
    }
    for (const [currency, fees] of this.engine.feesCollected) add(cash, currency, fees);
    if (!sameTotals(cash, this.expectedCash)) problems.push(`cash + fees ${show(cash)} ≠ deposits − withdrawals ${show(this.expectedCash)}`);
    if (!sameTotals(lots, this.expectedLots)) problems.push(`positions ${show(lots)} ≠ deposits − withdrawals ${show(this.expectedLots)}`);
    // The engine's own totals must agree wherever they are exact.
    for (const [currency, total] of totalCash(this.engine)) {
      const exact = cash.get(currency) ?? 0n;
      if (exact <= BigInt(Number.MAX_SAFE_INTEGER) && BigInt(total) !== exact) problems.push(`totalCash ${currency} ${total} ≠ ${exact}`);
    }
    for (const [instrumentId, total] of totalPositions(this.engine)) {
      if (BigInt(total) !== (lots.get(instrumentId) ?? 0n)) problems.push(`totalPositions ${instrumentId} ${total} ≠ ${lots.get(instrumentId)}`);
    }
    for (const event of events) {
      if (event.type !== "TradeExecuted") continue;
      const currency = this.engine.instruments.get(event.instrumentId)?.currency ?? "?";
      add(this.expectedFees, currency, event.makerFeeMinor + event.takerFeeMinor);
    }
    const fees = new Map<string, bigint>();
    for (const [currency, amount] of this.engine.feesCollected) add(fees, currency, amount);
    if (!sameTotals(fees, this.expectedFees)) problems.push(`fees collected ${show(fees)} ≠ fees of trades ${show(this.expectedFees)}`);
    return problems;
  }

  /** Per-order quantity conservation: the events' history equals the engine's open orders. */
  private checkOrders(): string[] {
    const problems: string[] = [];
    for (const tracked of this.tracker.live.values()) {
      const order = this.engine.orders.get(tracked.orderId);
      if (order === undefined) {
        problems.push(`order ${tracked.orderId} has ${trackedLeaves(tracked)} lots open by its events but is not open in the engine`);
        continue;
      }
      if (order.leaves !== trackedLeaves(tracked) || order.qty !== tracked.qtyLots || order.filled !== tracked.filledLots) {
        problems.push(
          `order ${tracked.orderId}: engine qty ${order.qty} filled ${order.filled} leaves ${order.leaves}; ` +
            `events qty ${tracked.qtyLots} = filled ${tracked.filledLots} + open ${trackedLeaves(tracked)} + removed ${tracked.removedLots}`,
        );
      }
    }
    if (this.engine.orders.size !== this.tracker.live.size) {
      const unknown = [...this.engine.orders.keys()].filter((id) => !this.tracker.live.has(id));
      problems.push(`engine has ${this.engine.orders.size} open orders, events ${this.tracker.live.size} (not in events: ${unknown.join(", ")})`);
    }
    return problems;
  }

  /** Balance, position and level events state the final values of what they report, once per thing per command. */
  private checkProjections(events: readonly EngineEvent[]): string[] {
    const problems: string[] = [];
    const reported = new Set<string>();
    for (const event of events) {
      const subject =
        event.type === "BalanceChanged"
          ? `${event.type} ${event.accountId} ${event.currency}`
          : event.type === "PositionChanged"
            ? `${event.type} ${event.accountId} ${event.instrumentId}`
            : event.type === "BookLevelChanged"
              ? `${event.type} ${event.instrumentId} ${event.side} ${event.priceTicks}`
              : null;
      if (subject !== null && reported.has(subject)) problems.push(`${subject} reported twice by one command`);
      if (subject !== null) reported.add(subject);
      switch (event.type) {
        case "BalanceChanged": {
          const slot = this.engine.accounts.get(event.accountId)?.cash.get(event.currency);
          if (slot === undefined || slot.balance !== event.balanceMinor || slot.reserved !== event.reservedMinor) {
            problems.push(`BalanceChanged ${event.accountId} ${event.currency} says ${event.balanceMinor}/${event.reservedMinor}, state ${slot?.balance}/${slot?.reserved}`);
          }
          break;
        }
        case "PositionChanged": {
          const slot = this.engine.accounts.get(event.accountId)?.positions.get(event.instrumentId);
          if (slot === undefined || slot.position !== event.positionLots || slot.reserved !== event.reservedLots) {
            problems.push(`PositionChanged ${event.accountId} ${event.instrumentId} says ${event.positionLots}/${event.reservedLots}, state ${slot?.position}/${slot?.reserved}`);
          }
          break;
        }
        case "BookLevelChanged": {
          const key = `${event.instrumentId}:${event.side}`;
          const side = this.levels.get(key) ?? new Map<number, { qty: number; count: number }>();
          this.levels.set(key, side);
          if (event.orderCount === 0) side.delete(event.priceTicks);
          else side.set(event.priceTicks, { qty: event.qtyLots, count: event.orderCount });
          break;
        }
        // Events that report no balance, position or level.
        case "OrderAccepted":
        case "CommandRejected":
        case "TradeExecuted":
        case "OrderCancelled":
        case "OrderReplaced":
        case "OrderExpired":
        case "OrderTriggered":
        case "InstrumentCreated":
        case "InstrumentUpdated":
        case "ReferencePriceSet":
        case "TradingStateChanged":
        case "AccountCreated":
        case "SessionOpened":
        case "SessionClosed":
        case "KillSwitchSet":
        case "DayEnded":
          break;
      }
    }
    for (const instrument of this.engine.instruments.values()) {
      for (const side of ["buy", "sell"] as Side[]) {
        const projected = this.levels.get(`${instrument.id}:${side}`) ?? new Map<number, { qty: number; count: number }>();
        const actual = instrument.book.levels(side);
        const agrees = actual.length === projected.size && actual.every((l) => projected.get(l.price)?.qty === l.qty && projected.get(l.price)?.count === l.count);
        if (!agrees) {
          problems.push(`instrument ${instrument.id} ${side} levels ${JSON.stringify(actual)} ≠ projected from events ${JSON.stringify([...projected])}`);
        }
      }
    }
    return problems;
  }
}

/** Applies the stream with every check after every command; throws on the first broken property. */
/** Applies the stream with every check after every command; the first broken property, or null. */
function checkStream(stream: GeneratedStream): StreamFailure | null {
  const engine = new Engine();
  const checker = new StreamChecker(engine);
  for (let index = 0; index < stream.commands.length; index += 1) {
    const command = stream.commands[index] as Command;
    let events: EngineEvent[];
    try {
      events = engine.apply(command);
    } catch (error) {
      return { commandIndex: index, message: `the command threw ${String(error)}` };
    }
    const problems = checker.check(command, events);
    if (problems.length > 0) return { commandIndex: index, message: `${problems.slice(0, 8).join("\n")}\nevents: ${JSON.stringify(events)}` };
  }
  return null;
}

describe("engine properties over generated streams", () => {
  it("hold after every command", () => {
    fc.assert(
      fc.property(streamCaseArbitrary(), (streamCase) => {
        if (checkStream(materialize(streamCase)) !== null) throw new Error(describeFailure(streamCase, checkStream, { shouldStop: minimizeDeadline() }));
      }),
      propertyParameters(16),
    );
  });
});
