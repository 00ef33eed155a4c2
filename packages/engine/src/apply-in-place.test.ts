import type { EngineEvent } from "@tradestream/contracts";
import { describe, expect, it } from "vitest";
import { Engine } from "./engine.ts";
import { eventsPooledMax } from "./event-pool.ts";
import { account, instrument, limit } from "./fixtures.ts";
import { generateStream } from "./generators.ts";
import { encodeSnapshot } from "./snapshot.ts";

/** The events of the last `applyInPlace`, as JSON (key order included: the event-stream hash walks it). */
function inPlaceJson(engine: Engine, count: number): string {
  return JSON.stringify(engine.eventsInPlace.slice(0, count));
}

function funded(orders: number): Engine {
  const engine = new Engine();
  engine.apply(instrument());
  engine.apply(account(1));
  engine.apply({ type: "DepositCash", tsUs: 0, accountId: 1, currency: "EUR", amountMinor: 10_000_000_000 });
  for (let i = 0; i < orders; i += 1) engine.apply(limit(1, "buy", 9_000 + (i % 50), 1, { clientOrderId: `b${i}` }));
  return engine;
}

describe("applyInPlace", () => {
  it("gives the same events, in the same key order, and the same state as apply on generated streams", () => {
    for (let seed = 0; seed < 12; seed += 1) {
      const { commands } = generateStream(seed, { actions: 1_500 });
      const keeping = new Engine();
      const inPlace = new Engine();
      for (const [i, command] of commands.entries()) {
        const expected = JSON.stringify(keeping.apply(command));
        const count = inPlace.applyInPlace(command);
        if (inPlaceJson(inPlace, count) !== expected) {
          expect.fail(`seed ${seed}, command ${i} (${command.type}): ${inPlaceJson(inPlace, count)} instead of ${expected}`);
        }
      }
      expect(new TextDecoder().decode(encodeSnapshot(inPlace))).toBe(new TextDecoder().decode(encodeSnapshot(keeping)));
    }
  });

  it("never changes events that apply returned, whichever way later commands are applied", () => {
    const { commands } = generateStream(99, { actions: 2_000 });
    const reference = new Engine();
    const mixed = new Engine();
    const kept: EngineEvent[][] = [];
    const expected: string[] = [];
    for (const [i, command] of commands.entries()) {
      const want = JSON.stringify(reference.apply(command));
      if (i % 3 === 0) {
        const count = mixed.applyInPlace(command);
        expect(inPlaceJson(mixed, count)).toBe(want);
      } else {
        kept.push(mixed.apply(command));
        expected.push(want);
      }
    }
    expect(kept.map((events) => JSON.stringify(events))).toEqual(expected);
  });

  it("reuses its event objects from one command to the next", () => {
    const engine = funded(0);
    const first = engine.applyInPlace(limit(1, "buy", 9_000, 1, { clientOrderId: "x1" }));
    expect(first).toBe(3);
    const [accepted, balance] = engine.eventsInPlace;
    engine.applyInPlace(limit(1, "buy", 9_001, 1, { clientOrderId: "x2" }));
    expect(engine.eventsInPlace[0]).toBe(accepted);
    expect(engine.eventsInPlace[1]).toBe(balance);
    expect(engine.eventsInPlace[0]).toMatchObject({ type: "OrderAccepted", clientOrderId: "x2", priceTicks: 9_001 });
    // apply hands out new objects, never the pooled ones.
    const kept = engine.apply(limit(1, "buy", 9_002, 1, { clientOrderId: "x3" }));
    expect(kept[0]).not.toBe(accepted);
    expect(kept[0]).toMatchObject({ type: "OrderAccepted", clientOrderId: "x3" });
  });

  it("reports every event of a command with more events than a pool keeps, and lets them go afterwards", () => {
    const orders = 5_000;
    const engine = funded(orders);
    const reference = funded(orders);
    const massCancel = { type: "MassCancel", tsUs: 1, accountId: 1, instrumentId: 0 } as const;
    const expected = reference.apply(massCancel);
    const count = engine.applyInPlace(massCancel);
    expect(count).toBe(expected.length);
    expect(expected.filter((e) => e.type === "OrderCancelled").length).toBeGreaterThan(eventsPooledMax);
    expect(inPlaceJson(engine, count)).toBe(JSON.stringify(expected));
    const next = engine.applyInPlace(limit(1, "buy", 9_000, 1, { clientOrderId: "after" }));
    expect(next).toBe(3);
    expect(engine.eventsInPlace.length).toBeLessThan(count);
  });
});
