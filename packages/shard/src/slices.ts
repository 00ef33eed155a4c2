/**
 * Long work on the sequencer's thread done a little at a time. A generator's steps run
 * until `sliceMs` has passed, then the event loop gets a turn (I/O callbacks, timers,
 * other commands) before the next slice.
 */

/** The longest a slice of steps runs before the event loop gets a turn. */
export const sliceMsDefault = 2;

/** Runs `steps` a few milliseconds at a time, starting on a later turn of the event loop; resolves with their result. */
export async function runInSlices<T>(steps: Generator<void, T, void>, sliceMs: number = sliceMsDefault): Promise<T> {
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const until = performance.now() + sliceMs;
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done === true) return step.value;
      if (performance.now() >= until) break;
    }
  }
}
