/**
 * Accounts: cash per currency and positions per instrument, each with the
 * amount reserved by open orders. Invariants (asserted by the engine and the
 * property tests): 0 ≤ reserved ≤ balance, and reserved equals the sum of what
 * the account's open orders need.
 */
import type { BalanceReason, StpMode } from "@tradestream/contracts";
import { ClientOrderIdSet } from "./client-order-ids.ts";

export class CashSlot {
  balance = 0;
  reserved = 0;
  touchMark = -1;
  reason: BalanceReason = "deposit";
  constructor(
    readonly accountId: number,
    readonly currency: string,
    /** The account holding the slot (null only for a slot made on its own, as the book tests do): an order reaches its account through it without a lookup by id. */
    readonly account: Account | null = null,
  ) {}
}

export class PositionSlot {
  position = 0;
  reserved = 0;
  touchMark = -1;
  reason: BalanceReason = "deposit";
  constructor(
    readonly accountId: number,
    readonly instrumentId: number,
  ) {}
}

export class Account {
  openOrders = 0;
  killed = false;
  rateWindowStartUs = 0;
  rateCount = 0;
  readonly cash = new Map<string, CashSlot>();
  readonly positions = new Map<number, PositionSlot>();
  /** Client order ids used this trading day (cleared at end of day). */
  readonly clientOrderIds = new ClientOrderIdSet();

  constructor(
    readonly id: number,
    readonly firmId: number,
    readonly stpMode: StpMode,
    readonly openOrdersMax: number,
    readonly ordersPerSecondMax: number,
  ) {}

  cashSlot(currency: string): CashSlot {
    let slot = this.cash.get(currency);
    if (slot === undefined) {
      slot = new CashSlot(this.id, currency, this);
      this.cash.set(currency, slot);
    }
    return slot;
  }

  positionSlot(instrumentId: number): PositionSlot {
    let slot = this.positions.get(instrumentId);
    if (slot === undefined) {
      slot = new PositionSlot(this.id, instrumentId);
      this.positions.set(instrumentId, slot);
    }
    return slot;
  }
}
