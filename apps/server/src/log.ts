/**
 * Structured logs: one JSON object per line on stderr (Loki-friendly), with a
 * timestamp, level and component. Callers pass fields, never secrets.
 */
import type { JournalLogger } from "@tradestream/journal";

function write(level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component: "server", msg, ...fields })}\n`);
}

export const logger: JournalLogger = {
  info: (msg, fields) => write("info", msg, fields),
  warn: (msg, fields) => write("warn", msg, fields),
  error: (msg, fields) => write("error", msg, fields),
};
