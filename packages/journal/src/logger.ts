// The default journal logger: one JSON object per line on stderr, the format the
// platform's log shipping expects. Recovery findings (a truncated tail, a skipped
// snapshot) must be visible even when the caller wires no logger, so the default is
// not silent.

import type { JournalLogger } from "./command-log.ts";

/** A logger writing one JSON object per line on stderr, tagged with `component`. */
export function createJsonLogger(component: string): JournalLogger {
  const write = (level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> | undefined): void => {
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component, msg, ...fields })}\n`);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}

export const stderrJsonLogger: JournalLogger = createJsonLogger("journal");
