import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { callingThreadCpuSeconds, cpuSecondsOfStat, threadCpuSeconds } from "./thread-cpu.ts";

// A real /proc/<pid>/task/<tid>/stat line (52 fields), with a command name that holds a space and parentheses.
const statLine = "4242 (node (main) x) S 1 4242 4242 0 -1 4194560 51234 0 12 0 1234 567 0 0 20 0 11 0 9876 1234567 8901 18446744073709551615 1 1 0 0 0 0 0 4096 17000 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

describe("thread CPU time from /proc", () => {
  it("reads utime + stime in seconds, whatever the command name holds", () => {
    expect(cpuSecondsOfStat(statLine)).toBe((1234 + 567) / 100);
    expect(cpuSecondsOfStat(statLine.replace("(node (main) x)", "(node)"))).toBe(18.01);
  });

  it("answers null for text that is not a stat line", () => {
    expect(cpuSecondsOfStat("")).toBeNull();
    expect(cpuSecondsOfStat("4242 (node) S 1")).toBeNull();
    expect(cpuSecondsOfStat(statLine.replace(" 1234 567 ", " -5 567 "))).toBeNull();
    expect(threadCpuSeconds(0)).toBeNull();
    expect(threadCpuSeconds(Number.NaN)).toBeNull();
  });

  // /proc/thread-self exists on Linux only; elsewhere the readers answer null (tested above) and there is nothing to measure.
  it.skipIf(!existsSync("/proc/thread-self/stat"))("counts the calling thread's CPU, and a thread that does not exist is null", () => {
    const before = callingThreadCpuSeconds();
    expect(before).not.toBeNull();
    // Spin until the thread's own clock has moved by two ticks (10 ms each), or give up after 5 s of wall time.
    const giveUpAt = performance.now() + 5_000;
    let now = before ?? 0;
    while (now - (before ?? 0) < 0.02 && performance.now() < giveUpAt) now = callingThreadCpuSeconds() ?? 0;
    expect(now - (before ?? 0)).toBeGreaterThanOrEqual(0.02);
    expect(threadCpuSeconds(2 ** 31 - 2)).toBeNull();
  });
});
