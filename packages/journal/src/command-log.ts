// The command-log port: what the engine side sees of durable, sequenced storage.
// The file journal and the in-memory log implement it here; a NATS JetStream or Kafka
// adapter will implement it later without the engine noticing.
//
// Contract shared by every implementation: sequence numbers start at 1, are
// consecutive and never reused; `durableSeq <= lastSeq`; a record is acknowledged
// (listeners, waiters) only once it is durable, and `durableSeq` never goes back.

/** The command-log port. The engine side only sees this; a NATS/Kafka adapter will implement it later. */
export interface CommandLog {
  /** Highest sequence number appended so far (0 when empty). */
  readonly lastSeq: number;
  /** Highest sequence number known durable (fdatasync'd) (0 when empty). */
  readonly durableSeq: number;
  /** Appends one record (opaque bytes, 1..recordBytesMax) and returns its sequence number (1-based, consecutive, never reused). Buffered: not durable until durableSeq >= seq. Must be cheap (no promise allocated). */
  append(record: Uint8Array): number;
  /** Resolves once every record up to and including seq is durable. Rejects if the log failed (I/O error) or was closed before. */
  waitDurable(seq: number): Promise<void>;
  /** Registers a listener called (synchronously, in order) each time durableSeq advances, with the new durableSeq. Returns an unsubscribe function. This lets a caller acknowledge a whole batch without a promise per record. */
  onDurable(listener: (durableSeq: number) => void): () => void;
  /** Calls onRecord for every durable record with seq >= fromSeq, in order; resolves with the last seq delivered (or fromSeq-1). */
  replay(fromSeq: number, onRecord: (seq: number, record: Uint8Array) => void): Promise<number>;
  /** Flushes, fsyncs and closes. */
  close(): Promise<void>;
}

/** Structured logging, one event per call; `fields` are machine-readable context. */
export interface JournalLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
