// The journal's error classes. Each is a tagged class (a stable `name`) so callers
// can tell them apart without string matching. They are for broken infrastructure
// and misuse only; the journal has no business outcomes to report.

/**
 * The on-disk journal is damaged somewhere other than a torn tail, so opening it
 * would silently lose or reorder acknowledged commands. The journal refuses to start;
 * an operator must look at `file` around byte `offset`.
 */
export class JournalCorruptError extends Error {
  override readonly name = "JournalCorruptError";
  readonly file: string;
  readonly offset: number;

  constructor(options: { file: string; offset: number; reason: string }) {
    super(`journal corrupt: ${options.file} at byte offset ${String(options.offset)}: ${options.reason}`);
    this.file = options.file;
    this.offset = options.offset;
  }
}

/**
 * An I/O operation failed, so nothing past `durableSeq` can be trusted any more.
 * The log stops (crash-only): every later call fails with this error, and the
 * process is expected to restart through normal recovery.
 */
export class JournalFailedError extends Error {
  override readonly name = "JournalFailedError";

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** The log was closed; it accepts no appends and answers no waits. */
export class JournalClosedError extends Error {
  override readonly name = "JournalClosedError";

  constructor() {
    super("journal closed");
  }
}

/**
 * More bytes are buffered and not yet durable than the configured backlog limit
 * allows: the disk is slower than the producer. The append was refused and the log
 * is still healthy; the caller should stop accepting input until `durableSeq` catches
 * up.
 */
export class JournalBacklogFullError extends Error {
  override readonly name = "JournalBacklogFullError";
  readonly backlogBytes: number;

  constructor(backlogBytes: number) {
    super(`journal backlog full: ${String(backlogBytes)} bytes not yet durable`);
    this.backlogBytes = backlogBytes;
  }
}
