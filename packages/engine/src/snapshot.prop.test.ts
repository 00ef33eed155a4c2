/**
 * Determinism and snapshot properties. Replaying a stream gives byte-identical
 * events (compared as JSON) and snapshots. A snapshot taken at a random point
 * and restored (onto either book) encodes to the same bytes, and the restored
 * engine then answers the rest of the stream exactly as the live one does,
 * ending in the same snapshot bytes.
 *
 * A failure is reported minimized; see property-parameters.ts to replay it or run more cases.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { ReferenceBook } from "./book.ts";
import { Engine } from "./engine.ts";
import { type GeneratedStream, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "./generators.ts";
import { minimizeDeadline, propertyParameters } from "./property-parameters.ts";
import { encodeSnapshot, restoreEngine } from "./snapshot.ts";

const text = new TextDecoder();

function snapshotText(engine: Engine): string {
  return text.decode(encodeSnapshot(engine));
}

/** Applies a command to each engine; the index of the first whose events differ from the first engine's, with both. */
function applyAll(engines: readonly Engine[], stream: GeneratedStream, index: number): { which: number; expected: string; actual: string } | null {
  const command = stream.commands[index];
  if (command === undefined) return null;
  const results = engines.map((engine) => JSON.stringify(engine.apply(command)));
  const expected = results[0] ?? "";
  const which = results.findIndex((result) => result !== expected);
  return which < 0 ? null : { which, expected, actual: results[which] ?? "" };
}

function replayTwice(stream: GeneratedStream): StreamFailure | null {
  const engines = [new Engine(), new Engine()];
  for (let index = 0; index < stream.commands.length; index += 1) {
    let differ: ReturnType<typeof applyAll>;
    try {
      differ = applyAll(engines, stream, index);
    } catch (error) {
      return { commandIndex: index, message: `the command threw ${String(error)}` };
    }
    if (differ !== null) return { commandIndex: index, message: `a replay gave different events\nfirst:  ${differ.expected}\nsecond: ${differ.actual}` };
  }
  const [first, second] = engines.map(snapshotText);
  return first === second ? null : { commandIndex: stream.commands.length - 1, message: "replays end in different snapshots" };
}

/** Snapshots the live engine after `cutFraction` of the stream, restores it onto both books, and runs the rest on all three. */
function restoreAndContinue(cutFraction: number): (stream: GeneratedStream) => StreamFailure | null {
  return (stream) => {
    const cut = Math.floor(cutFraction * stream.commands.length);
    const live = new Engine();
    try {
      for (const command of stream.commands.slice(0, cut)) live.apply(command);
    } catch (error) {
      return { commandIndex: cut - 1, message: `the command threw ${String(error)}` };
    }
    const bytes = encodeSnapshot(live);
    const engines = [live, restoreEngine(bytes), restoreEngine(bytes, { bookFactory: (id) => new ReferenceBook(id) })];
    const names = ["live", "restored on FastBook", "restored on ReferenceBook"];
    for (const [which, engine] of engines.entries()) {
      if (snapshotText(engine) !== text.decode(bytes)) return { commandIndex: cut - 1, message: `the snapshot re-encoded from the engine ${names[which]} differs` };
    }
    for (let index = cut; index < stream.commands.length; index += 1) {
      let differ: ReturnType<typeof applyAll>;
      try {
        differ = applyAll(engines, stream, index);
      } catch (error) {
        return { commandIndex: index, message: `the command threw ${String(error)}` };
      }
      if (differ !== null) {
        return { commandIndex: index, message: `the engine ${names[differ.which]} (snapshot after #${cut - 1}) answered differently\nlive:     ${differ.expected}\nrestored: ${differ.actual}` };
      }
    }
    const final = engines.map(snapshotText);
    const which = final.findIndex((snapshot) => snapshot !== final[0]);
    return which < 0 ? null : { commandIndex: stream.commands.length - 1, message: `the engine ${names[which]} ends in a different snapshot` };
  };
}

describe("determinism and snapshots", () => {
  it("replaying a stream gives identical events", () => {
    fc.assert(
      fc.property(streamCaseArbitrary(), (streamCase) => {
        if (replayTwice(materialize(streamCase)) !== null) throw new Error(describeFailure(streamCase, replayTwice, { shouldStop: minimizeDeadline() }));
      }),
      propertyParameters(14),
    );
  });

  it("a restored snapshot continues exactly like the live engine", () => {
    fc.assert(
      fc.property(streamCaseArbitrary(), fc.double({ min: 0, max: 1, noNaN: true }), (streamCase, cutFraction) => {
        const check = restoreAndContinue(cutFraction);
        if (check(materialize(streamCase)) !== null) throw new Error(describeFailure(streamCase, check, { shouldStop: minimizeDeadline() }));
      }),
      propertyParameters(14),
    );
  });
});
