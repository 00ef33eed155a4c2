/**
 * Assertions for invariants that must hold in production as well as in tests.
 * A failed assertion is a bug, never a business outcome: business outcomes are
 * named statuses (see @tradestream/contracts `RejectCode`). Crash-only design:
 * the caller stops the smallest scope and restarts through normal start-up.
 */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** Marks a branch that the type checker proves unreachable (exhaustive switch). */
export function unreachable(value: never, what: string): never {
  throw new InvariantError(`unreachable ${what}: ${JSON.stringify(value)}`);
}

export function isSafeNonNegativeInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

export function isSafePositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}
