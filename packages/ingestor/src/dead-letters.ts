/**
 * The dead-letter store: every record the normalizer refuses, with its reason.
 * Bounded in memory (the newest `deadLettersKeptDefault` are kept, older ones
 * fall off but stay counted), optionally appended to a file as NDJSON for later
 * inspection or replay. Each (source, reason) is logged once, at its first
 * occurrence — a feed that sends a million bad records writes one log line, and
 * the counts tell the rest.
 *
 * A refused record is a vendor's raw payload, and vendors echo credentials (an
 * error that quotes the API key, a subscription acknowledgement with a token).
 * Before a record is kept, logged or written, the values of credential-like
 * fields (`apiKey`, `x-api-key`, `token`, `secret`, `password`, `authorization`…)
 * and every configured secret (the vendor API key) are replaced by
 * `[redacted]` — before truncation, so no prefix of a secret survives either.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { deadLetterReasons, type DeadLetter, type DeadLetterReason, type IngestorLogger } from "./types.ts";

export const deadLettersKeptDefault = 1_000;
/** How much of a refused record is kept (and written): enough to see what was wrong, bounded. */
export const deadLetterRawCharsMax = 1_024;

export interface DeadLetterOptions {
  readonly kept?: number | undefined;
  /** Values never kept, logged or written (the vendor API key); matched anywhere in a record. */
  readonly secrets?: readonly string[] | undefined;
  /** Append every dead letter to this file as one JSON line. */
  readonly file?: string | undefined;
  readonly logger?: IngestorLogger | undefined;
}

/** Stands for a record that cannot even be turned into text (a proxy or getter that throws). */
export const unprintableRecordText = "[unprintable record]";

function printed(raw: unknown): string {
  try {
    return String(raw);
  } catch {
    return unprintableRecordText;
  }
}

export const redactedText = "[redacted]";

/** A credential-like field name, then its separator (JSON, header or query style), then its value up to a delimiter. */
const credentialField = /((?:x-)?api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|client[_-]?secret|secret|password|passwd|authorization|signature)(\\?"?\s*[:=]\s*\\?"?)(?:bearer\s+|basic\s+)?([^"\\&,;\s}\]]+)/gi;

/** Secrets shorter than this are not searched for: they would redact ordinary text. */
const secretCharsMin = 8;

function redacted(text: string, secrets: readonly string[]): string {
  let out = text.replace(credentialField, (_match, name: string, separator: string) => `${name}${separator}${redactedText}`);
  for (const secret of secrets) if (secret.length >= secretCharsMin) out = out.split(secret).join(redactedText);
  return out;
}

function rawText(raw: unknown, secrets: readonly string[]): string {
  let text: string;
  if (typeof raw === "string") text = raw;
  else {
    try {
      text = JSON.stringify(raw) ?? printed(raw);
    } catch {
      text = printed(raw);
    }
  }
  const safe = redacted(text, secrets);
  return safe.length > deadLetterRawCharsMax ? safe.slice(0, deadLetterRawCharsMax) : safe;
}

export class DeadLetterStore {
  private readonly kept: number;
  private readonly ring: DeadLetter[] = [];
  private next = 0;
  private total = 0;
  private readonly counts = new Map<string, Record<DeadLetterReason, number>>();
  private readonly stream: WriteStream | null;

  constructor(private readonly options: DeadLetterOptions = {}) {
    this.kept = options.kept ?? deadLettersKeptDefault;
    if (!Number.isSafeInteger(this.kept) || this.kept < 1) throw new RangeError("dead letters kept must be at least 1");
    this.stream = options.file === undefined ? null : createWriteStream(options.file, { flags: "a" });
    this.stream?.on("error", (error) => this.options.logger?.error("dead-letter file write failed", { file: options.file, error: error.message }));
  }

  add(source: string, reason: DeadLetterReason, raw: unknown, atUs: number): void {
    const letter: DeadLetter = { source, reason, raw: rawText(raw, this.options.secrets ?? []), atUs };
    if (this.ring.length < this.kept) this.ring.push(letter);
    else this.ring[this.next] = letter;
    this.next = (this.next + 1) % this.kept;
    this.total += 1;
    const counts = this.countsOf(source);
    counts[reason] += 1;
    if (counts[reason] === 1) this.options.logger?.warn("market-data record dead-lettered (logged once per source and reason; see the counts)", { source, reason, raw: letter.raw.slice(0, 200) });
    this.stream?.write(`${JSON.stringify(letter)}\n`);
  }

  private countsOf(source: string): Record<DeadLetterReason, number> {
    let counts = this.counts.get(source);
    if (counts === undefined) {
      counts = Object.fromEntries(deadLetterReasons.map((reason) => [reason, 0])) as Record<DeadLetterReason, number>;
      this.counts.set(source, counts);
    }
    return counts;
  }

  get size(): number {
    return this.total;
  }

  /** Counts by source and reason, since start. */
  byReason(): Record<string, Readonly<Record<DeadLetterReason, number>>> {
    return Object.fromEntries(this.counts);
  }

  /** The newest `limit` dead letters, newest first. */
  newest(limit: number): DeadLetter[] {
    const out: DeadLetter[] = [];
    const n = this.ring.length;
    for (let i = 1; i <= Math.min(limit, n); i += 1) {
      const letter = this.ring[(this.next - i + n) % n];
      if (letter !== undefined) out.push(letter);
    }
    return out;
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (stream === null) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
}
