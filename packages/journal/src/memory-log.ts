// An in-memory CommandLog for tests and deterministic simulations. It keeps the same
// contract as the file journal (consecutive seqs from 1, acknowledgement only via
// durability, the same record size limit) but a record becomes "durable" on the next
// microtask, all records appended in the same synchronous run together, like a group
// commit. Records are copied on append because callers may reuse their buffers.

import type { CommandLog } from "./command-log.ts";
import { DurabilityTracker } from "./durability.ts";
import { JournalClosedError } from "./errors.ts";
import { recordBytesMax } from "./framing.ts";
import { stderrJsonLogger } from "./logger.ts";

export function createMemoryLog(): CommandLog {
  return new MemoryLog();
}

class MemoryLog implements CommandLog {
  private readonly records: Uint8Array[] = [];
  private readonly tracker = new DurabilityTracker({ durableSeq: 0, logger: stderrJsonLogger });
  private commitScheduled = false;
  private closed = false;

  get lastSeq(): number {
    return this.records.length;
  }

  get durableSeq(): number {
    return this.tracker.durableSeq;
  }

  append(record: Uint8Array): number {
    if (this.closed) throw new JournalClosedError();
    if (record.length < 1 || record.length > recordBytesMax) {
      throw new RangeError(`record length must be in 1..${String(recordBytesMax)}, got ${String(record.length)}`);
    }
    this.records.push(record.slice());
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      queueMicrotask(this.commit);
    }
    return this.records.length;
  }

  waitDurable(seq: number): Promise<void> {
    if (this.closed) return Promise.reject(new JournalClosedError());
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > this.records.length) {
      return Promise.reject(new RangeError(`waitDurable(${String(seq)}): seq must be an integer in 0..lastSeq (${String(this.records.length)})`));
    }
    return this.tracker.wait(seq);
  }

  onDurable(listener: (durableSeq: number) => void): () => void {
    return this.tracker.subscribe(listener);
  }

  replay(fromSeq: number, onRecord: (seq: number, record: Uint8Array) => void): Promise<number> {
    if (this.closed) return Promise.reject(new JournalClosedError());
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) {
      return Promise.reject(new RangeError(`replay fromSeq must be an integer >= 1, got ${String(fromSeq)}`));
    }
    const untilSeq = this.tracker.durableSeq;
    let lastDelivered = fromSeq - 1;
    try {
      for (let seq = fromSeq; seq <= untilSeq; seq++) {
        const record = this.records[seq - 1];
        if (record === undefined) throw new Error(`memory log lost seq ${String(seq)}`);
        onRecord(seq, record);
        lastDelivered = seq;
      }
    } catch (error: unknown) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return Promise.resolve(lastDelivered);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.commit();
      this.closed = true;
      this.tracker.stop(new JournalClosedError());
    }
    return Promise.resolve();
  }

  private readonly commit = (): void => {
    this.commitScheduled = false;
    if (this.closed) return;
    if (this.records.length > this.tracker.durableSeq) this.tracker.advance(this.records.length);
  };
}
