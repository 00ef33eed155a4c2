/**
 * The sequencer's clock: UTC microseconds, never going backwards. Commands are
 * stamped with it before they are journaled; the engine itself never reads a
 * clock, so replays see exactly the times the live run saw.
 */
export interface Clock {
  nowUs(): number;
}

/** Wall-clock time anchored once, advanced by the monotonic high-resolution timer. */
export class SystemClock implements Clock {
  private readonly anchorUs = Date.now() * 1000;
  private readonly anchorNs = process.hrtime.bigint();

  nowUs(): number {
    return this.anchorUs + Number((process.hrtime.bigint() - this.anchorNs) / 1000n);
  }
}

/** A clock the caller moves, for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private us: number = 1_700_000_000_000_000) {}

  nowUs(): number {
    return this.us;
  }

  advance(us: number): void {
    this.us += us;
  }
}
