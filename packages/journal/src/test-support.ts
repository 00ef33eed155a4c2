// Helpers shared by the journal's tests: temporary directories, a logger that
// records what it was told, deterministic payloads that encode their own seq, and an
// I/O layer whose syncs can be held back or made to fail. Not exported from the
// package.

import fs from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandLog, JournalLogger } from "./command-log.ts";
import type { JournalIo } from "./file-journal.ts";

export async function makeTempDir(prefix = "tradestream-journal-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".seg")).sort();
}

export interface LogEntry {
  readonly level: "info" | "warn" | "error";
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export class CapturingLogger implements JournalLogger {
  readonly entries: LogEntry[] = [];

  info(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "info", msg, fields: fields ?? {} });
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "warn", msg, fields: fields ?? {} });
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "error", msg, fields: fields ?? {} });
  }

  at(level: LogEntry["level"]): LogEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }
}

/** Payload length for `seq`: varies between 8 and 207 bytes so framing sees many sizes. */
export function payloadLengthFor(seq: number): number {
  return 8 + ((seq * 7919) % 200);
}

/**
 * A payload that encodes its own seq: the seq as a u64 little-endian, then bytes
 * derived from it. A record replayed at the wrong seq, or damaged, fails `payloadMatches`.
 */
export function payloadFor(seq: number, length = payloadLengthFor(seq)): Uint8Array {
  const payload = new Uint8Array(length);
  const view = new DataView(payload.buffer);
  if (length >= 8) {
    view.setUint32(0, seq >>> 0, true);
    view.setUint32(4, Math.floor(seq / 4_294_967_296), true);
  }
  for (let i = Math.min(8, length); i < length; i++) payload[i] = (seq * 31 + i * 17) & 0xff;
  return payload;
}

/** True when `record` is exactly what `payloadFor(seq, record.length)` produced. */
export function payloadMatches(seq: number, record: Uint8Array): boolean {
  const expected = payloadFor(seq, record.length);
  return expected.every((byte, index) => record[index] === byte);
}

export async function replayAll(log: CommandLog, fromSeq = 1): Promise<{ seq: number; record: Uint8Array }[]> {
  const records: { seq: number; record: Uint8Array }[] = [];
  await log.replay(fromSeq, (seq, record) => records.push({ seq, record: record.slice() }));
  return records;
}

/**
 * Real file I/O whose syncs can be held (to observe the log before durability) or
 * failed (to observe crash-only behaviour). Counts how many data syncs overlap.
 */
export class ControlledIo implements JournalIo {
  holdSyncs = false;
  failWritesWith: Error | null = null;
  failSyncsWith: Error | null = null;
  failDirectorySyncsWith: Error | null = null;
  readonly held: (() => void)[] = [];
  writeCalls = 0;
  dataSyncCalls = 0;
  dataSyncsInFlight = 0;
  dataSyncsInFlightMax = 0;

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.writeCalls++;
    if (this.failWritesWith !== null) throw this.failWritesWith;
    return fs.writeSync(fd, buffer, offset, length, position);
  }

  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    this.dataSyncCalls++;
    this.dataSyncsInFlight++;
    this.dataSyncsInFlightMax = Math.max(this.dataSyncsInFlightMax, this.dataSyncsInFlight);
    this.track((error) => {
      this.dataSyncsInFlight--;
      callback(error);
    }, (done) => fs.fdatasync(fd, done));
  }

  fsync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void {
    this.track(callback, (done) => fs.fsync(fd, (error) => done(this.failDirectorySyncsWith ?? error)));
  }

  releaseHeld(): void {
    for (const release of this.held.splice(0)) release();
  }

  private track(
    callback: (error: NodeJS.ErrnoException | null) => void,
    run: (done: (error: NodeJS.ErrnoException | null) => void) => void,
  ): void {
    run((error) => {
      const finish = (): void => callback(this.failSyncsWith ?? error);
      if (this.holdSyncs) this.held.push(finish);
      else finish();
    });
  }
}

export function ioError(code: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: simulated I/O error`);
  error.code = code;
  return error;
}
