// The default journal logger: one JSON object per line on stderr, the format the
// platform's log shipping expects. Recovery findings (a truncated tail, a skipped
// snapshot) must be visible even when the caller wires no logger, so the default is
// not silent.

import type { JournalLogger } from "./command-log.ts";

function writeLine(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> | undefined): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), component: "journal", msg, ...fields });
  process.stderr.write(`${line}\n`);
}

export const stderrJsonLogger: JournalLogger = {
  info: (msg, fields) => writeLine("info", msg, fields),
  warn: (msg, fields) => writeLine("warn", msg, fields),
  error: (msg, fields) => writeLine("error", msg, fields),
};
