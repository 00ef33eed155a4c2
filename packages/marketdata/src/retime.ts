/**
 * Test support (not exported from the package): generated command streams
 * stretched and shifted in time so that they cross a UTC midnight and many
 * candle boundaries, for the property tests over the real engine.
 */
import type { Command } from "@tradestream/contracts";
import fc from "fast-check";
import { dayUs } from "./candles.ts";

export interface Timing {
  /** Each microsecond of the generated stream lasts this many. */
  readonly scale: number;
  /** Where in the stream UTC midnight falls, in thousandths of its length. */
  readonly midnightAtPermille: number;
}

export const timingArbitrary: fc.Arbitrary<Timing> = fc.record({ scale: fc.constantFrom(1, 37, 1_000), midnightAtPermille: fc.integer({ min: 0, max: 1_000 }) });

/** The commands with their times stretched by `timing.scale` and shifted to put a UTC midnight where `timing` says. */
export function retimed(commands: readonly Command[], timing: Timing): Command[] {
  const startUs = commands[0]?.tsUs ?? 0;
  const lengthUs = ((commands[commands.length - 1]?.tsUs ?? startUs) - startUs) * timing.scale;
  const midnightUs = Math.ceil(startUs / dayUs) * dayUs;
  const newStartUs = midnightUs - Math.floor((lengthUs * timing.midnightAtPermille) / 1_000);
  return commands.map((command) => ({ ...command, tsUs: newStartUs + (command.tsUs - startUs) * timing.scale }));
}
