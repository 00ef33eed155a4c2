// In-memory CommandLog: the same contract as the file journal, durable on a microtask.

import { describe, expect, it } from "vitest";
import { JournalClosedError } from "./errors.ts";
import { recordBytesMax } from "./framing.ts";
import { createMemoryLog } from "./memory-log.ts";
import { payloadFor, payloadMatches, replayAll } from "./test-support.ts";

describe("memory log", () => {
  it("numbers records from 1 and makes a tick's appends durable together on a microtask", async () => {
    const log = createMemoryLog();
    const seen: number[] = [];
    log.onDurable((seq) => seen.push(seq));
    expect([1, 2, 3].map((seq) => log.append(payloadFor(seq)))).toEqual([1, 2, 3]);
    expect(log.lastSeq).toBe(3);
    expect(log.durableSeq).toBe(0);
    await Promise.resolve();
    expect(log.durableSeq).toBe(3);
    expect(seen).toEqual([3]);
    log.append(payloadFor(4));
    await log.waitDurable(4);
    expect(seen).toEqual([3, 4]);
  });

  it("replays durable records from any seq, as copies of what was appended", async () => {
    const log = createMemoryLog();
    const buffer = payloadFor(1);
    log.append(buffer);
    buffer.fill(0);
    for (let seq = 2; seq <= 5; seq++) log.append(payloadFor(seq));
    await log.waitDurable(5);
    const records = await replayAll(log, 2);
    expect(records.map((r) => r.seq)).toEqual([2, 3, 4, 5]);
    expect((await replayAll(log)).every(({ seq, record }) => payloadMatches(seq, record))).toBe(true);
    expect(await log.replay(6, () => undefined)).toBe(5);
    await expect(log.replay(0, () => undefined)).rejects.toBeInstanceOf(RangeError);
  });

  it("enforces the same record size limit as the file journal", () => {
    const log = createMemoryLog();
    expect(log.append(new Uint8Array(recordBytesMax))).toBe(1);
    expect(() => log.append(new Uint8Array(recordBytesMax + 1))).toThrow(RangeError);
    expect(() => log.append(new Uint8Array(0))).toThrow(RangeError);
  });

  it("rejects waits out of range and, after close, refuses everything", async () => {
    const log = createMemoryLog();
    log.append(payloadFor(1));
    await expect(log.waitDurable(2)).rejects.toBeInstanceOf(RangeError);
    const pending = log.waitDurable(1);
    await log.close();
    await expect(pending).resolves.toBeUndefined();
    expect(log.durableSeq).toBe(1);
    expect(() => log.append(payloadFor(2))).toThrow(JournalClosedError);
    await expect(log.waitDurable(1)).rejects.toBeInstanceOf(JournalClosedError);
    await expect(log.replay(1, () => undefined)).rejects.toBeInstanceOf(JournalClosedError);
  });
});
