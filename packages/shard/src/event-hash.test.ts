import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Command } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { EventStreamHash } from "./event-hash.ts";

const hashOf = (...commands: unknown[][]): string => {
  const hash = new EventStreamHash();
  for (const events of commands) hash.update(events);
  return hash.value;
};

/** Event-like records: flat objects of integers (some past 2^31), strings, booleans, null and small arrays. */
const leaf = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null));
const event = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), { minKeys: 1, maxKeys: 8 });
const events = fc.array(event, { minLength: 1, maxLength: 6 });

describe("event-stream hash", () => {
  it("starts at zero and is the scheme's prefix and 16 hex digits", () => {
    expect(new EventStreamHash().value).toBe(EventStreamHash.zero);
    expect(hashOf([{ type: "OrderAccepted", orderId: 1 }])).toMatch(/^3:[0-9a-f]{16}$/);
  });

  it("walks every field of the engine's events: changing any one value of any kind changes the hash", () => {
    const kinds = new Map<string, Record<string, unknown>>();
    const engine = new Engine();
    const commands: Command[] = [
      fixtures.instrument(),
      fixtures.account(1),
      fixtures.account(2),
      { type: "DepositCash", tsUs: 1, accountId: 1, currency: "EUR", amountMinor: 10_000_000 },
      { type: "DepositSecurities", tsUs: 1, accountId: 2, instrumentId: 1, qtyLots: 100 },
      fixtures.limit(2, "sell", 10_000, 50, { clientOrderId: "s1" }),
      fixtures.limit(2, "sell", 10_001, 5, { clientOrderId: "s2" }),
      fixtures.market(1, "buy", 20, { clientOrderId: "b1" }),
      { type: "ReplaceOrder", tsUs: 2, accountId: 2, orderId: 2, priceTicks: 10_002, qtyLots: 5 },
      { type: "CancelOrder", tsUs: 3, accountId: 2, orderId: 1 },
      fixtures.limit(2, "sell", 10_000, 1, { clientOrderId: "s1" }),
    ];
    for (const command of commands) for (const event of engine.apply(command)) if (!kinds.has(event.type)) kinds.set(event.type, event as unknown as Record<string, unknown>);
    for (const kind of ["OrderAccepted", "CommandRejected", "TradeExecuted", "OrderCancelled", "OrderReplaced", "BalanceChanged", "PositionChanged", "BookLevelChanged"]) expect(kinds.has(kind)).toBe(true);
    for (const [kind, event] of kinds) {
      const base = hashOf([event]);
      for (const key of Object.keys(event)) {
        const old = event[key];
        const changed = { ...event, [key]: typeof old === "number" ? old + 1 : typeof old === "string" ? `${old}x` : typeof old === "boolean" ? !old : 0 };
        if (hashOf([changed]) === base) expect.fail(`${kind}.${key} does not reach the hash`);
      }
      // Past 2^31 too (timestamps, notionals).
      expect(hashOf([{ ...event, seq: 2 ** 40 }])).not.toBe(hashOf([{ ...event, seq: 2 ** 40 + 1 }]));
    }
  });

  it("is a function of the events only, and resumes exactly from its value (as after a snapshot)", () => {
    fc.assert(
      fc.property(fc.array(events, { minLength: 2, maxLength: 5 }), fc.nat(), (commands, at) => {
        const split = 1 + (at % (commands.length - 1));
        const whole = hashOf(...commands);
        expect(hashOf(...structuredClone(commands))).toBe(whole);
        const resumed = EventStreamHash.fromValue(hashOf(...commands.slice(0, split)));
        for (const c of commands.slice(split)) resumed.update(c);
        expect(resumed.value).toBe(whole);
      }),
    );
  });

  it("adds the first `count` events of a longer array exactly as update adds them alone (the replay loop)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(events, fc.array(event, { maxLength: 3 })), { minLength: 1, maxLength: 4 }), (commands) => {
        const added = new EventStreamHash();
        for (const [own, stale] of commands) added.add([...own, ...stale], own.length);
        expect(added.value).toBe(hashOf(...commands.map(([own]) => own)));
      }),
    );
  });

  it("changes when any single value changes", () => {
    fc.assert(
      fc.property(events, fc.nat(), fc.nat(), (list, pickEvent, pickKey) => {
        const target = list[pickEvent % list.length] as Record<string, unknown>;
        const keys = Object.keys(target);
        const key = keys[pickKey % keys.length] as string;
        const changed = structuredClone(list);
        const record = changed[pickEvent % list.length] as Record<string, unknown>;
        const old = record[key];
        record[key] = typeof old === "number" ? old + 1 : typeof old === "string" ? `${old}x` : typeof old === "boolean" ? !old : old === null ? 0 : [...(old as unknown[]), 1];
        expect(hashOf(changed)).not.toBe(hashOf(list));
      }),
    );
  });

  it("tells apart order, boundaries and types that carry the same values", () => {
    const a = { type: "Trade", qty: 1 };
    const b = { type: "Trade", qty: 2 };
    expect(hashOf([a, b])).not.toBe(hashOf([b, a]));
    expect(hashOf([a], [b])).not.toBe(hashOf([a, b]));
    expect(hashOf([{ x: 1, y: 2 }])).not.toBe(hashOf([{ x: 1 }, { y: 2 }]));
    expect(hashOf([{ x: 1 }])).not.toBe(hashOf([{ x: "1" }]));
    expect(hashOf([{ x: 1 }])).not.toBe(hashOf([{ x: 1.5 }]));
    expect(hashOf([{ x: 2 ** 40 }])).not.toBe(hashOf([{ x: 2 ** 40 + 1 }]));
    expect(hashOf([{ x: [1, 2] }])).not.toBe(hashOf([{ x: [1], y: 2 }]));
    expect(hashOf([{ x: null }])).not.toBe(hashOf([{ x: undefined }]));
    expect(hashOf([])).not.toBe(EventStreamHash.zero);
  });

  it("resumes only from its own values (an earlier scheme's snapshot is replayed past by the shard)", () => {
    expect(EventStreamHash.fromValue("3:00000000000000ff").value).toBe("3:00000000000000ff");
    expect(() => EventStreamHash.fromValue("ab".repeat(32))).toThrow(/event-stream hash/);
    expect(() => EventStreamHash.fromValue("00000000000000ff")).toThrow(/event-stream hash/);
    expect(() => EventStreamHash.fromValue("not a hash")).toThrow(/event-stream hash/);
  });
});
