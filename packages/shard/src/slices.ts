/**
 * Long work on the sequencer's thread done a little at a time. A generator's steps run
 * until `sliceMs` has passed, then the event loop gets a turn (I/O callbacks, timers,
 * other commands) before the next slice.
 */

/** The longest a slice of steps runs before the event loop gets a turn. */
export const sliceMsDefault = 2;

/** What running the slices took: the longest one held the thread that long (a step can overrun `sliceMs`). */
export interface SliceTiming {
  longestSliceMs: number;
  slices: number;
}

/**
 * Runs `steps` a few milliseconds at a time, starting on a later turn of the event loop;
 * resolves with their result. `timing`, when given, is updated as the slices run.
 */
export async function runInSlices<T>(steps: Generator<void, T, void>, sliceMs: number = sliceMsDefault, timing?: SliceTiming): Promise<T> {
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const began = performance.now();
    const until = began + sliceMs;
    let step = steps.next();
    while (step.done !== true && performance.now() < until) step = steps.next();
    if (timing !== undefined) {
      timing.slices += 1;
      timing.longestSliceMs = Math.max(timing.longestSliceMs, performance.now() - began);
    }
    if (step.done === true) return step.value;
  }
}
