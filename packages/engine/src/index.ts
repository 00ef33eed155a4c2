export { Engine, apply, type EngineOptions, type Session } from "./engine.ts";
export { FastBook, ReferenceBook, type OrderBook } from "./book.ts";
export { Order, Level } from "./order.ts";
export { Account, CashSlot, PositionSlot } from "./account.ts";
export { Instrument } from "./instrument.ts";
export { encodeSnapshot, restoreEngine, snapshotOf, snapshotVersion, type EngineSnapshot } from "./snapshot.ts";
export { invariantViolations, totalCash, totalPositions } from "./invariants.ts";
export * from "./limits.ts";
export * as fixtures from "./fixtures.ts";
