/**
 * What the normalizer (raw vendor records) and the tick reader (ticks another
 * ingestor published) share: `normalize` answers a tick or null and never throws
 * on input; a refused record goes to the dead-letter store with its reason; and
 * the order of a source's ticks is kept per instrument — a sequence number
 * already seen, or a time earlier than the last, is out of order; a sequence
 * number past the next one is a gap (the tick is kept, the gap counted and
 * reported).
 */
import type { DeadLetterStore } from "./dead-letters.ts";
import type { InstrumentTable } from "./normalizer.ts";
import type { ClockUs, DeadLetterReason, FeedAlert, NormalizedTick } from "./types.ts";

export interface ReaderOptions {
  /** The feed's name: dead letters and alerts are filed under it. */
  readonly source: string;
  readonly instruments: InstrumentTable;
  readonly deadLetters: DeadLetterStore;
  /** Stamps dead letters; records carry their own time. */
  readonly clockUs: ClockUs;
  readonly onAlert?: ((alert: FeedAlert) => void) | undefined;
}

export interface ReaderCounts {
  accepted: number;
  deadLettered: number;
  gaps: number;
}

/** Per instrument index of one source: the last sequence number (0 = none yet) and time accepted. */
export class ArrivalOrder {
  readonly lastSeq: Float64Array;
  readonly lastTsUs: Float64Array;

  constructor(instruments: number) {
    this.lastSeq = new Float64Array(instruments);
    this.lastTsUs = new Float64Array(instruments);
  }
}

export abstract class Reader {
  readonly counts: ReaderCounts = { accepted: 0, deadLettered: 0, gaps: 0 };

  constructor(protected readonly options: ReaderOptions) {}

  /** The tick, or null when the record was dead-lettered. Never throws on input. */
  normalize(raw: unknown): NormalizedTick | null {
    try {
      return this.read(raw);
    } catch {
      // Only a hostile object (a throwing getter, a proxy) gets here; JSON never does.
      return this.refuse("malformed", raw);
    }
  }

  protected abstract read(raw: unknown): NormalizedTick | null;

  /**
   * Places a checked tick in its source's order for the instrument: "out_of_order", or null
   * once it is recorded and counted as accepted (a gap before it is reported first).
   */
  protected admit(order: ArrivalOrder, entry: { readonly index: number; readonly instrumentId: number; readonly symbol: string }, seq: number, tsUs: number): DeadLetterReason | null {
    const index = entry.index;
    const previousSeq = order.lastSeq[index] ?? 0;
    if (seq > 0 && previousSeq > 0) {
      if (seq <= previousSeq) return "out_of_order";
      if (seq > previousSeq + 1) {
        this.counts.gaps += 1;
        this.options.onAlert?.({ kind: "gap", source: this.options.source, instrumentId: entry.instrumentId, symbol: entry.symbol, expectedSeq: previousSeq + 1, receivedSeq: seq });
      }
    }
    if (tsUs < (order.lastTsUs[index] ?? 0)) return "out_of_order";
    if (seq > 0) order.lastSeq[index] = seq;
    order.lastTsUs[index] = tsUs;
    this.counts.accepted += 1;
    return null;
  }

  protected refuse(reason: DeadLetterReason, raw: unknown): null {
    this.counts.deadLettered += 1;
    this.options.deadLetters.add(this.options.source, reason, raw, this.options.clockUs());
    return null;
  }
}
