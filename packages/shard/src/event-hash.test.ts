import fc from "fast-check";
import { describe, expect, it } from "vitest";
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
  it("starts at zero and is 16 hex digits", () => {
    expect(new EventStreamHash().value).toBe(EventStreamHash.zero);
    expect(hashOf([{ type: "OrderAccepted", orderId: 1 }])).toMatch(/^[0-9a-f]{16}$/);
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
    expect(EventStreamHash.fromValue("00000000000000ff").value).toBe("00000000000000ff");
    expect(() => EventStreamHash.fromValue("ab".repeat(32))).toThrow(/event-stream hash/);
    expect(() => EventStreamHash.fromValue("not a hash")).toThrow(/event-stream hash/);
  });
});
