/**
 * Snapshots over generated command streams through the real engine, retimed
 * across a UTC midnight and many candle boundaries. Projection A applies every
 * command's events; projection B applies those before a generated split point,
 * is replaced by `MarketDataProjection.restore(B.snapshot())`, and applies the
 * rest. Right after the restore and at the end, every query answers on B as on
 * A (all instruments, by id and symbol, the book at full depth and depth 1,
 * trades, every interval's candles, the ticker), and the restored projection
 * snapshots to the same bytes; for every command after the split, B's listener
 * receives exactly A's updates (book delta seqs included). Small trade and
 * candle limits make the histories wrap around the split.
 *
 * PROP_RUNS sets the number of runs; a failure is minimized and printed with
 * fast-check's seed.
 */
import { isDeepStrictEqual } from "node:util";
import { Engine } from "@tradestream/engine";
import { type GeneratedStream, type StreamCase, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "@tradestream/engine/generators";
import fc from "fast-check";
import { describe, it } from "vitest";
import { candleIntervals } from "./candles.ts";
import { MarketDataProjection } from "./projection.ts";
import { retimed, type Timing, timingArbitrary } from "./retime.ts";
import type { MarketDataOptions, MarketUpdate } from "./types.ts";

interface Split {
  /** Where B is snapshotted and restored, in thousandths of the stream (0: before the first command). */
  readonly atPermille: number;
  readonly options: { readonly tradesKept: number; readonly candlesKept: number };
}

const splitArbitrary: fc.Arbitrary<Split> = fc.record({
  atPermille: fc.integer({ min: 0, max: 1_000 }),
  options: fc.record({ tradesKept: fc.integer({ min: 1, max: 12 }), candlesKept: fc.integer({ min: 1, max: 6 }) }),
});

/** Equal as values and as JSON (so in field order too, as a client would see them). */
function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b) && JSON.stringify(a) === JSON.stringify(b);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Every query `live` answers, asked of both; the first that differs, or null. */
function queryDifference(live: MarketDataProjection, restored: MarketDataProjection): string | null {
  const differ = (what: string, expected: unknown, actual: unknown): string | null =>
    same(expected, actual) ? null : `${what}: live ${JSON.stringify(expected)}, restored ${JSON.stringify(actual)}`;
  const instruments = live.instruments();
  const answers: Array<[string, (p: MarketDataProjection) => unknown]> = [
    ["lastEventSeq", (p) => p.lastEventSeq],
    ["instruments()", (p) => p.instruments()],
    ["instrument(unknown)", (p) => [p.instrument(0), p.instrument(-1), p.instrument("NO-SUCH-SYMBOL")]],
  ];
  for (const { instrumentId: id, symbol } of instruments) {
    answers.push(
      [`instrument(${id})`, (p) => p.instrument(id)],
      [`instrument("${symbol}")`, (p) => [p.instrument(symbol), p.instrument(symbol.toLowerCase())]],
      [`book(${id}, Infinity)`, (p) => p.book(id, Infinity)],
      [`book(${id}, 1)`, (p) => p.book(id, 1)],
      [`trades(${id})`, (p) => p.trades(id, Infinity)],
      [`ticker(${id})`, (p) => p.ticker(id)],
      ...candleIntervals.map((interval): [string, (p: MarketDataProjection) => unknown] => [
        `candles(${id}, ${interval})`,
        (p) => p.candles(id, interval, { limit: Infinity, fromUs: 0, toUs: Number.MAX_SAFE_INTEGER }),
      ]),
    );
  }
  for (const [what, ask] of answers) {
    const difference = differ(what, ask(live), ask(restored));
    if (difference !== null) return difference;
  }
  return null;
}

function checkSplit(stream: GeneratedStream, timing: Timing, split: Split): StreamFailure | null {
  const commands = retimed(stream.commands, timing);
  const cut = Math.floor((commands.length * split.atPermille) / 1_000);
  const options: MarketDataOptions = split.options;
  const engine = new Engine();
  const live = new MarketDataProjection(options);
  let restored = new MarketDataProjection(options);
  let liveUpdates: MarketUpdate[] = [];
  let restoredUpdates: MarketUpdate[] = [];
  live.onUpdate((u) => liveUpdates.push(u));
  for (let index = 0; index <= commands.length; index += 1) {
    if (index === cut) {
      const where = cut - 1;
      const bytes = restored.snapshot();
      try {
        restored = MarketDataProjection.restore(bytes, options);
      } catch (error) {
        return { commandIndex: where, message: `restoring the snapshot threw: ${String(error)}` };
      }
      restored.onUpdate((u) => restoredUpdates.push(u));
      if (!sameBytes(restored.snapshot(), bytes)) return { commandIndex: where, message: "the restored projection snapshots to different bytes" };
      const difference = queryDifference(live, restored);
      if (difference !== null) return { commandIndex: where, message: `right after the restore, ${difference}` };
    }
    const command = commands[index];
    if (command === undefined) break;
    const fail = (message: string): StreamFailure => ({ commandIndex: index, message: `${message}\n(snapshot after #${cut - 1}; command ${JSON.stringify(command)})` });
    liveUpdates = [];
    restoredUpdates = [];
    try {
      const events = engine.apply(command);
      live.apply(events);
      restored.apply(events);
    } catch (error) {
      return fail(`applying the command threw: ${String(error)}`);
    }
    if (index >= cut && !same(liveUpdates, restoredUpdates)) {
      return fail(`the updates differ\nlive:     ${JSON.stringify(liveUpdates)}\nrestored: ${JSON.stringify(restoredUpdates)}`);
    }
  }
  const end = commands.length - 1;
  const difference = queryDifference(live, restored);
  if (difference !== null) return { commandIndex: end, message: `at the end (snapshot after #${cut - 1}), ${difference}` };
  if (!sameBytes(live.snapshot(), restored.snapshot())) return { commandIndex: end, message: `at the end (snapshot after #${cut - 1}), the two projections snapshot to different bytes` };
  return null;
}

const runs = Number(process.env["PROP_RUNS"] ?? 40);

describe("market data snapshots over generated streams", () => {
  it("a projection restored from a snapshot at any command answers and updates as the live one", () => {
    fc.assert(
      fc.property(streamCaseArbitrary({ actionsMin: 300, actionsMax: 1_500 }), timingArbitrary, splitArbitrary, (streamCase: StreamCase, timing: Timing, split: Split) => {
        const check = (stream: GeneratedStream): StreamFailure | null => checkSplit(stream, timing, split);
        if (check(materialize(streamCase)) !== null) {
          const stopAtMs = performance.now() + 12_000;
          const report = describeFailure(streamCase, check, { shouldStop: () => performance.now() > stopAtMs });
          throw new Error(`${report}\n(timing ${JSON.stringify(timing)}, split ${JSON.stringify(split)})`);
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
  });
});
