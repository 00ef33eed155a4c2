/**
 * Differential property: the production `FastBook` and the naive
 * `ReferenceBook` must be indistinguishable through the engine. The same
 * generated stream is applied to an engine on each book; every command must
 * give deep-equal events, and the final states must snapshot to the same bytes.
 *
 * Replay a failure with PROP_SEED=<seed> PROP_PATH=<path> from the report;
 * PROP_RUNS=<n> runs more (or fewer) cases.
 */
import { isDeepStrictEqual } from "node:util";
import type { EngineEvent } from "@tradestream/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReferenceBook } from "./book.ts";
import { Engine } from "./engine.ts";
import { type GeneratedStream, streamArbitrary } from "./generators.ts";
import { encodeSnapshot } from "./snapshot.ts";

const replay = {
  ...(process.env["PROP_SEED"] === undefined ? {} : { seed: Number(process.env["PROP_SEED"]), path: process.env["PROP_PATH"] ?? "" }),
  // PROP_SHRINK=0 reports the first failure as found, without shrinking it.
  endOnFailure: process.env["PROP_SHRINK"] === "0",
};

function applyOrThrow(engine: Engine, stream: GeneratedStream, index: number, label: string): EngineEvent[] {
  const command = stream.commands[index];
  if (command === undefined) throw new RangeError(`no command #${index}`);
  try {
    return engine.apply(command);
  } catch (error) {
    throw new Error(`${label} engine threw on command #${index} ${JSON.stringify(command)}: ${String(error)}`, { cause: error });
  }
}

describe("FastBook against ReferenceBook", () => {
  it("give identical events for every command and identical final state", () => {
    fc.assert(
      fc.property(streamArbitrary({ actionsMax: 4_000 }), (stream) => {
        const fast = new Engine();
        const reference = new Engine({ bookFactory: (id) => new ReferenceBook(id) });
        for (let index = 0; index < stream.commands.length; index += 1) {
          const fastEvents = applyOrThrow(fast, stream, index, "FastBook");
          const referenceEvents = applyOrThrow(reference, stream, index, "ReferenceBook");
          if (!isDeepStrictEqual(fastEvents, referenceEvents)) {
            expect(fastEvents, `events of command #${index} ${JSON.stringify(stream.commands[index])}`).toEqual(referenceEvents);
            throw new Error(`events of command #${index} differ only in a way toEqual ignores`);
          }
        }
        expect(new TextDecoder().decode(encodeSnapshot(fast))).toBe(new TextDecoder().decode(encodeSnapshot(reference)));
      }),
      { numRuns: Number(process.env["PROP_RUNS"] ?? 10), ...replay },
    );
  });
});
