/**
 * Determinism and snapshot properties. Replaying a stream gives byte-identical
 * events (compared as JSON) and snapshots. A snapshot taken at a random point
 * and restored (onto either book) encodes to the same bytes, and the restored
 * engine then answers the rest of the stream exactly as the live one does,
 * ending in the same snapshot bytes. A snapshot written in steps while the
 * stream goes on gives the bytes of the snapshot at the point it was taken.
 *
 * A failure is reported minimized; see property-parameters.ts to replay it or run more cases.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { ReferenceBook } from "./book.ts";
import { Engine } from "./engine.ts";
import { type GeneratedStream, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "./generators.ts";
import { minimizeDeadline, propertyParameters } from "./property-parameters.ts";
import type { Command } from "@tradestream/contracts";
import { captureSnapshot, encodeSnapshot, joinChunks, restoreEngine, snapshotOf } from "./snapshot.ts";

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

/**
 * The stream with its client order ids respelled in one of the ways clients send them (the
 * generator numbers them `c1`, `c2`, … across accounts): as they are, UUID-like, or mixed.
 * The respelling is one-to-one, so a repeated id stays repeated.
 */
function respelled(stream: GeneratedStream, style: "numbered" | "uuid" | "mixed"): GeneratedStream {
  if (style === "numbered") return stream;
  const respell = (id: string): string => {
    const n = Number(id.slice(1));
    if (!/^c[0-9]+$/.test(id) || (style === "mixed" && n % 3 !== 0)) return id;
    return `${(Math.imul(n, 0x9e3779b1) >>> 0).toString(16)}-4b2e-${n.toString(16)}`;
  };
  const commands = stream.commands.map((command): Command => (command.type === "PlaceOrder" ? { ...command, clientOrderId: respell(command.clientOrderId) } : command));
  return { ...stream, commands };
}

/**
 * Takes a snapshot in steps of `idsPerStep` ids after `cutFraction` of the stream and applies
 * `commandsPerStep` more commands between its steps (ids arrive, orders are rejected and give
 * theirs back, the day ends and clears them): its bytes must be the snapshot at the cut.
 */
function stepsWhileRunning(cutFraction: number, idsPerStep: number, commandsPerStep: number): (stream: GeneratedStream) => StreamFailure | null {
  return (stream) => {
    const cut = Math.floor(cutFraction * stream.commands.length);
    const live = new Engine();
    try {
      for (const command of stream.commands.slice(0, cut)) live.apply(command);
      const expected = JSON.stringify(snapshotOf(live));
      if (snapshotText(live) !== expected) return { commandIndex: cut - 1, message: "encodeSnapshot differs from the JSON of snapshotOf" };
      const steps = captureSnapshot(live, idsPerStep);
      let index = cut;
      for (;;) {
        // Commands go on before the first step too: a shard runs the steps on later turns of its event loop.
        for (let n = 0; n < commandsPerStep && index < stream.commands.length; n += 1, index += 1) live.apply(stream.commands[index] as Command);
        const step = steps.next();
        if (step.done === true) {
          const written = text.decode(joinChunks(step.value));
          if (written !== expected) return { commandIndex: index - 1, message: `the snapshot taken in steps after #${cut - 1} differs\nat the cut: ${expected}\nin steps:   ${written}` };
          return null;
        }
      }
    } catch (error) {
      return { commandIndex: cut, message: `the stream threw ${String(error)}` };
    }
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

  it("a snapshot written in steps while the stream goes on is the snapshot at its point", () => {
    fc.assert(
      fc.property(
        streamCaseArbitrary(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom("numbered", "uuid", "mixed"),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 20 }),
        (streamCase, cutFraction, style, idsPerStep, commandsPerStep) => {
          const check = (stream: GeneratedStream): StreamFailure | null => stepsWhileRunning(cutFraction, idsPerStep, commandsPerStep)(respelled(stream, style));
          if (check(materialize(streamCase)) !== null) throw new Error(describeFailure(streamCase, check, { shouldStop: minimizeDeadline() }));
        },
      ),
      propertyParameters(14),
    );
  });
});
