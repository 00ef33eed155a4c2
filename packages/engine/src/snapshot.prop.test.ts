/**
 * Determinism and snapshot properties. Replaying a stream gives byte-identical
 * events. A snapshot taken at a random point and restored (onto either book)
 * encodes to the same bytes, and the restored engine then answers the rest of
 * the stream exactly as the live one does, ending in the same snapshot bytes.
 *
 * Replay a failure with PROP_SEED=<seed> PROP_PATH=<path> from the report;
 * PROP_RUNS=<n> runs more (or fewer) cases.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReferenceBook } from "./book.ts";
import { Engine } from "./engine.ts";
import { streamArbitrary } from "./generators.ts";
import { encodeSnapshot, restoreEngine } from "./snapshot.ts";

const replay = {
  ...(process.env["PROP_SEED"] === undefined ? {} : { seed: Number(process.env["PROP_SEED"]), path: process.env["PROP_PATH"] ?? "" }),
  // PROP_SHRINK=0 reports the first failure as found, without shrinking it.
  endOnFailure: process.env["PROP_SHRINK"] === "0",
  // Shrinking a stream of thousands of commands can take many minutes: stop in time and
  // report the smallest failure found so far (vitest gives a test 60 s).
  interruptAfterTimeLimit: Number(process.env["PROP_TIME_LIMIT_MS"] ?? 45_000),
};
const runs = Number(process.env["PROP_RUNS"] ?? 10);
const text = new TextDecoder();

describe("determinism and snapshots", () => {
  it("replaying a stream gives identical events", () => {
    fc.assert(
      fc.property(streamArbitrary({ actionsMax: 4_000 }), (stream) => {
        const first = new Engine();
        const second = new Engine();
        stream.commands.forEach((command, index) => {
          const a = JSON.stringify(first.apply(command));
          const b = JSON.stringify(second.apply(command));
          if (a !== b) expect(b, `replayed events of command #${index} ${JSON.stringify(command)}`).toBe(a);
        });
        expect(text.decode(encodeSnapshot(second))).toBe(text.decode(encodeSnapshot(first)));
      }),
      { numRuns: runs, ...replay },
    );
  });

  it("a restored snapshot continues exactly like the live engine", () => {
    fc.assert(
      fc.property(streamArbitrary({ actionsMax: 4_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (stream, cutFraction) => {
        const cut = Math.floor(cutFraction * stream.commands.length);
        const live = new Engine();
        stream.commands.slice(0, cut).forEach((command) => live.apply(command));
        const bytes = encodeSnapshot(live);
        const restored = [restoreEngine(bytes), restoreEngine(bytes, { bookFactory: (id) => new ReferenceBook(id) })];
        for (const engine of restored) expect(text.decode(encodeSnapshot(engine)), `snapshot at #${cut} re-encoded`).toBe(text.decode(bytes));
        stream.commands.slice(cut).forEach((command, offset) => {
          const expected = JSON.stringify(live.apply(command));
          restored.forEach((engine, which) => {
            const actual = JSON.stringify(engine.apply(command));
            if (actual !== expected) {
              expect(actual, `${which === 0 ? "FastBook" : "ReferenceBook"} engine restored at #${cut}, command #${cut + offset} ${JSON.stringify(command)}`).toBe(expected);
            }
          });
        });
        const final = text.decode(encodeSnapshot(live));
        for (const engine of restored) expect(text.decode(encodeSnapshot(engine)), `final snapshot of engine restored at #${cut}`).toBe(final);
      }),
      { numRuns: runs, ...replay },
    );
  });
});
