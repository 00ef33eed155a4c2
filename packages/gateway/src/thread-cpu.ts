/**
 * CPU time of one operating-system thread of this process, read from Linux's
 * /proc (`utime` + `stime` of the thread's `stat`). Process CPU alone hides a
 * saturated event loop: the process can use 140 % of a core while its one
 * JavaScript thread, which sequences every order, is the part at 100 %.
 * Elsewhere (no /proc) the readers answer null and the metric is left out.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux ABI Node.js runs on. */
const ticksPerSecond = 100;

/** utime + stime in seconds from the text of a /proc/…/stat file, or null when it is not one. */
export function cpuSecondsOfStat(text: string): number | null {
  // The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
  const end = text.lastIndexOf(")");
  if (end < 0) return null;
  const fields = text.slice(end + 2).trim().split(" ");
  // After the name: state is field 3, so utime (14) and stime (15) sit at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime) || utime < 0 || stime < 0) return null;
  return (utime + stime) / ticksPerSecond;
}

function readCpuSeconds(path: string): number | null {
  try {
    return cpuSecondsOfStat(readFileSync(path, "latin1"));
  } catch {
    return null;
  }
}

/** CPU seconds of the calling thread (the event loop's when called from the main thread); null without /proc. */
export function callingThreadCpuSeconds(): number | null {
  return readCpuSeconds("/proc/thread-self/stat");
}

/** CPU seconds of thread `tid` of this process; null when it is gone or there is no /proc. */
export function threadCpuSeconds(tid: number): number | null {
  if (!Number.isSafeInteger(tid) || tid <= 0) return null;
  return readCpuSeconds(`/proc/self/task/${String(tid)}/stat`);
}
