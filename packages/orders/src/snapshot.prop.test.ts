/**
 * Snapshots over generated command streams through the real engine: projection
 * A applies every command's events; projection B applies those of a generated
 * prefix, is replaced by `OrdersProjection.restore(B.snapshot(), limits)` and
 * applies the rest. Right after the restore and at the end, every query
 * answers alike (see `answers`: listings walked page by page for every account
 * and for all, by instrument, status and side; fills by account, instrument
 * and order; each order by id and by client order id; balances, positions,
 * accounts, the last event seq), the restored projection's snapshot is the
 * same bytes, and B's listener gets exactly A's updates for the rest of the
 * stream. The limits are generated, often small, so eviction runs on both
 * sides of the snapshot. Meanwhile A takes the same snapshot in steps
 * (`snapshotSteps`) at the split, and another halfway through the rest, and
 * drives them a step every few commands while it goes on applying events: each
 * must come out as the bytes of a snapshot taken at once at its point, whether
 * it finishes at the end, when the second is taken, or when the capture's
 * command limit (generated, often small) makes the projection finish it.
 * PROP_RUNS sets the number of runs; a failure is minimized and printed with
 * fast-check's seed.
 */
import type { Command, EngineEvent } from "@tradestream/contracts";
import { Engine } from "@tradestream/engine";
import { type GeneratedStream, type StreamCase, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "@tradestream/engine/generators";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { describe, it } from "vitest";
import { OrdersProjection } from "./projection.ts";
import { decodeOrdersState } from "./snapshot.ts";
import { answers, knownFrom } from "./scenario.ts";
import type { AccountUpdate, OrdersOptions } from "./types.ts";

interface Case {
  readonly limits: OrdersOptions;
  /** How many records a step of A's snapshots reads: few, so that commands land while they gather. */
  readonly captureRecordsPerStep: number;
  /** Slots A's fills' ring starts with: few, so that it wraps (and must not write over what a snapshot reads). */
  readonly fillSlots: number;
  readonly pageLimit: number;
  /** A's snapshots in steps take one step every this many commands. */
  readonly stepEvery: number;
  /** Where the snapshot is taken, in thousandths of the stream (so it survives minimization). */
  readonly splitPermille: number;
}

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  limits: fc.oneof(
    fc.constant({}),
    fc.record({ terminalOrdersMax: fc.integer({ min: 0, max: 40 }), fillsMax: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ terminalOrdersMax: fc.integer({ min: 0, max: 40 }), fillsMax: fc.integer({ min: 0, max: 60 }), captureCommandsMax: fc.integer({ min: 0, max: 30 }) }),
  ),
  captureRecordsPerStep: fc.integer({ min: 1, max: 8 }),
  fillSlots: fc.constantFrom(1, 2, 3, 8, 1_024),
  pageLimit: fc.integer({ min: 1, max: 7 }),
  stepEvery: fc.integer({ min: 1, max: 40 }),
  splitPermille: fc.noBias(fc.integer({ min: 0, max: 1_000 })),
});

/** The first query the two projections answer differently, or null. */
function difference(a: OrdersProjection, b: OrdersProjection, eventBatches: ReadonlyArray<readonly EngineEvent[]>, pageLimit: number): string | null {
  const known = knownFrom(eventBatches);
  const expected = answers(a, known, pageLimit);
  const actual = answers(b, known, pageLimit);
  for (const [query, answer] of expected) {
    if (!isDeepStrictEqual(actual.get(query), answer)) return `${query}: restored ${JSON.stringify(actual.get(query))}, live ${JSON.stringify(answer)}`;
  }
  return null;
}

function checkStream(stream: GeneratedStream, c: Case): StreamFailure | null {
  const engine = new Engine();
  const a = new OrdersProjection({ ...c.limits, captureRecordsPerStep: c.captureRecordsPerStep, fillSlotsInitial: c.fillSlots });
  let b = new OrdersProjection(c.limits);
  const split = Math.floor((c.splitPermille * stream.commands.length) / 1_000);
  const eventBatches: EngineEvent[][] = [];
  for (let index = 0; index < split; index += 1) {
    const events = engine.apply(stream.commands[index] as Command);
    eventBatches.push(events);
    a.apply(events);
    b.apply(events);
  }
  const bytes = b.snapshot();
  // A's snapshot of the same point, in steps while A goes on.
  const gathering: Array<{ readonly steps: Generator<void, Uint8Array, void>; readonly expected: Uint8Array; readonly from: number; result?: Uint8Array }> = [{ steps: a.snapshotSteps(), expected: bytes, from: split }];
  const step = (capture: { readonly steps: Generator<void, Uint8Array, void>; result?: Uint8Array }): void => {
    if (capture.result !== undefined) return;
    const next = capture.steps.next();
    if (next.done === true) capture.result = next.value;
  };
  b = OrdersProjection.restore(bytes, c.limits);
  const atSplit = Math.max(0, split - 1);
  if (!isDeepStrictEqual(b.snapshot(), bytes)) return { commandIndex: atSplit, message: "the restored projection's snapshot differs from the one it was restored from" };
  const restoredDiffers = difference(a, b, eventBatches, c.pageLimit);
  if (restoredDiffers !== null) return { commandIndex: atSplit, message: `right after the restore, ${restoredDiffers}` };
  let updatesA: AccountUpdate[] = [];
  let updatesB: AccountUpdate[] = [];
  a.onUpdate((u) => updatesA.push(u));
  b.onUpdate((u) => updatesB.push(u));
  const secondAt = split + Math.floor((stream.commands.length - split) / 2);
  for (let index = split; index < stream.commands.length; index += 1) {
    if (index === secondAt && index > split) gathering.push({ steps: a.snapshotSteps(), expected: b.snapshot(), from: index });
    if ((index - split) % c.stepEvery === 0) for (const capture of gathering) step(capture);
    const events = engine.apply(stream.commands[index] as Command);
    eventBatches.push(events);
    updatesA = [];
    updatesB = [];
    try {
      a.apply(events);
      b.apply(events);
    } catch (error) {
      return { commandIndex: index, message: `a projection threw: ${String(error)}` };
    }
    if (!isDeepStrictEqual(updatesB, updatesA)) return { commandIndex: index, message: `updates after the restore differ: restored ${JSON.stringify(updatesB)}, live ${JSON.stringify(updatesA)}` };
  }
  const endDiffers = difference(a, b, eventBatches, c.pageLimit);
  if (endDiffers !== null) return { commandIndex: stream.commands.length - 1, message: `at the end, ${endDiffers}` };
  for (const capture of gathering) {
    while (capture.result === undefined) step(capture);
    const { result, expected, from } = capture;
    if (!isDeepStrictEqual(result, expected)) {
      const got = decodeOrdersState(result) as unknown as Record<string, unknown>;
      const want = decodeOrdersState(expected) as unknown as Record<string, unknown>;
      const parts = Object.keys(want).filter((key) => !isDeepStrictEqual(got[key], want[key]));
      return { commandIndex: from, message: `a snapshot taken in steps while events went on differs from one taken at once at its point (from command ${String(from)}, split ${String(split)}: ${parts.join(", ")})` };
    }
  }
  return null;
}

const runs = Number(process.env["PROP_RUNS"] ?? 30);

describe("orders read-model snapshots over generated streams", () => {
  it("a projection restored mid-stream answers and goes on like one that never stopped", () => {
    fc.assert(
      fc.property(streamCaseArbitrary({ actionsMin: 300, actionsMax: 1_500 }), caseArbitrary, (streamCase: StreamCase, c: Case) => {
        const check = (stream: GeneratedStream): StreamFailure | null => checkStream(stream, c);
        if (check(materialize(streamCase)) !== null) {
          const stopAtMs = performance.now() + 12_000;
          const report = describeFailure(streamCase, check, { shouldStop: () => performance.now() > stopAtMs });
          throw new Error(`${report}\n(case ${JSON.stringify(c)})`);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
  });
});
