/**
 * File replay of recorded ticks, for back-testing and incident replay: NDJSON
 * (one JSON record per line) or CSV (a header row naming the record fields, as
 * in the normalizer: type,symbol,seq,tsUs,price,size,side,bid,ask,bidSize,askSize;
 * empty cells are absent fields). Records are paced by their own timestamps at
 * `speed` times real time, or handed over as fast as possible (`speed: "max"`).
 * A line that does not parse is handed on as text (and dead-lettered by the
 * normalizer); a record without a readable time is not delayed.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { isoToUs } from "./parse.ts";
import type { Feed, FeedSink, FeedState, FeedStatus } from "./types.ts";

export type ReplayFormat = "ndjson" | "csv";

export interface FileReplayOptions {
  readonly file: string;
  /** Default: by the file's extension (.csv, else NDJSON). */
  readonly format?: ReplayFormat | undefined;
  /** Times real time (e.g. 10), or "max" for as fast as possible (default). */
  readonly speed?: number | "max" | undefined;
  readonly source?: string | undefined;
}

/** Longest line read; a longer one is cut (and will not parse). */
export const replayLineCharsMax = 64 * 1024;

/** Splits one CSV line; double quotes enclose cells with commas, "" is a quote. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      cells.push(cell);
      cell = "";
    } else cell += char;
  }
  cells.push(cell);
  return cells;
}

/** The record's own time in µs for pacing, or null. */
function recordTimeUs(record: unknown): number | null {
  if (typeof record !== "object" || record === null) return null;
  const r = record as { tsUs?: unknown; tsMs?: unknown; time?: unknown };
  const number = (value: unknown): number | null => {
    const n = typeof value === "string" ? Number(value) : value;
    return typeof n === "number" && Number.isSafeInteger(n) ? n : null;
  };
  if (r.tsUs !== undefined) return number(r.tsUs);
  if (r.tsMs !== undefined) {
    const ms = number(r.tsMs);
    return ms === null ? null : ms * 1000;
  }
  if (typeof r.time === "string") {
    const us = isoToUs(r.time);
    return us < 0 ? null : us;
  }
  return null;
}

export class FileReplayFeed implements Feed {
  readonly source: string;
  private state: FeedState = "idle";
  private messages = 0;
  private lastError: string | null = null;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileReplayOptions) {
    this.source = options.source ?? `replay:${options.file.split("/").pop() ?? options.file}`;
  }

  /** Settles when the whole file has been handed over (or the feed stopped). */
  get finished(): Promise<void> {
    return this.done;
  }

  start(sink: FeedSink): Promise<void> {
    this.state = "connected";
    this.stopped = false;
    this.done = this.run(sink).then(
      () => {
        if (!this.stopped) this.state = "done";
      },
      (error: unknown) => {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.state = "stopped";
      },
    );
    return Promise.resolve();
  }

  private async run(sink: FeedSink): Promise<void> {
    const format = this.options.format ?? (this.options.file.toLowerCase().endsWith(".csv") ? "csv" : "ndjson");
    const speed = this.options.speed ?? "max";
    const lines = createInterface({ input: createReadStream(this.options.file, { encoding: "utf8" }), crlfDelay: Infinity });
    let header: string[] | null = null;
    let firstUs: number | null = null;
    const startedMs = performance.now();
    try {
      for await (const full of lines) {
        if (this.stopped) break;
        const line = full.length > replayLineCharsMax ? full.slice(0, replayLineCharsMax) : full;
        if (line.trim() === "") continue;
        let record: unknown;
        if (format === "csv") {
          if (header === null) {
            header = splitCsvLine(line).map((name) => name.trim());
            continue;
          }
          const cells = splitCsvLine(line);
          if (cells.length !== header.length) record = line;
          else {
            const object: Record<string, string> = {};
            header.forEach((name, i) => {
              const cell = cells[i];
              if (cell !== undefined && cell !== "") object[name] = cell;
            });
            record = object;
          }
        } else {
          try {
            record = JSON.parse(line);
          } catch {
            record = line;
          }
        }
        if (speed !== "max") {
          const atUs = recordTimeUs(record);
          if (atUs !== null) {
            firstUs ??= atUs;
            const dueMs = (atUs - firstUs) / 1000 / speed - (performance.now() - startedMs);
            if (dueMs > 1) await new Promise((resolve) => setTimeout(resolve, dueMs));
          }
        }
        this.messages += 1;
        sink.record(record);
      }
    } finally {
      lines.close();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.state = "stopped";
  }

  status(): FeedStatus {
    return { source: this.source, state: this.state, reconnects: 0, messages: this.messages, lastError: this.lastError };
  }
}
