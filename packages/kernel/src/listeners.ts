/**
 * A set of listeners that a producer notifies in order. A listener that throws
 * does not stop the producer or the other listeners: its error goes to
 * `onError` (and an `onError` that throws is swallowed — there is nowhere left
 * to report it). Subscribing during a notification takes effect on the next one.
 */
export class Listeners<T> {
  private list: ReadonlyArray<(value: T) => void> = [];

  constructor(private readonly onError: (error: unknown) => void = (): void => undefined) {}

  /** Adds a listener; returns the function that removes it. */
  add(listener: (value: T) => void): () => void {
    this.list = [...this.list, listener];
    return () => {
      this.list = this.list.filter((l) => l !== listener);
    };
  }

  get size(): number {
    return this.list.length;
  }

  /** Calls every listener with every value, in order. */
  emitAll(values: readonly T[]): void {
    for (const value of values) this.emit(value);
  }

  /** Calls every listener with one value (no array to build on a per-item path). */
  emit(value: T): void {
    const listeners = this.list;
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        try {
          this.onError(error);
        } catch {
          // Nowhere left to report it; the other listeners still run.
        }
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.list = [];
  }
}
