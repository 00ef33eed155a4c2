/**
 * Test support for the property tests over generated streams (never imported
 * by the engine): how many runs, how to replay a failure, and how long to
 * spend minimizing one. Environment variables, all optional:
 * - PROP_RUNS: runs per property (default per test);
 * - PROP_SEED and PROP_PATH: replay the failure fast-check reported;
 * - PROP_SHRINK=1: let fast-check shrink too (minutes for thousands of commands);
 * - PROP_TIME_LIMIT_MS: stop starting new runs after this long (default 40 s);
 * - PROP_MINIMIZE_MS: time for `describeFailure` to minimize (default 12 s).
 * Vitest gives a test 60 s, so the defaults keep search plus minimization inside it.
 */
import type { Parameters } from "fast-check";

export function propertyParameters(defaultRuns: number): Parameters<unknown> {
  const env = process.env;
  return {
    numRuns: Number(env["PROP_RUNS"] ?? defaultRuns),
    ...(env["PROP_SEED"] === undefined ? {} : { seed: Number(env["PROP_SEED"]), path: env["PROP_PATH"] ?? "" }),
    endOnFailure: env["PROP_SHRINK"] !== "1",
    interruptAfterTimeLimit: Number(env["PROP_TIME_LIMIT_MS"] ?? 40_000),
  };
}

/** A `shouldStop` for `describeFailure`: true once PROP_MINIMIZE_MS have passed since the call. */
export function minimizeDeadline(): () => boolean {
  const stopAtMs = performance.now() + Number(process.env["PROP_MINIMIZE_MS"] ?? 12_000);
  return () => performance.now() > stopAtMs;
}
