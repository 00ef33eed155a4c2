/**
 * Structured logging for the ledger: one event per call, machine-readable fields.
 * The default writes one JSON object per line on stderr, so that reconciliation
 * differences and projection failures are visible even when nothing is wired.
 * Callers never put card numbers, keys or webhook secrets into fields.
 */
export interface LedgerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createStderrLogger(component = "ledger"): LedgerLogger {
  const write = (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> | undefined): void => {
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component, msg, ...fields }, bigintAsString)}\n`);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}

/** JSON.stringify replacer: bigints as decimal strings (JSON has no integers beyond 2^53). */
export function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
