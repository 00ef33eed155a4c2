/**
 * The trading day's close. At the configured local time in the configured time
 * zone (`TRADESTREAM_END_OF_DAY`, default "17:30 Europe/Paris", every day) the
 * platform submits the engine's `EndOfDay` command: DAY orders expire, their
 * reservations are released, and client order ids become free for the next day.
 * It is a command like any other, journaled, so a replay reproduces it.
 *
 * A close the platform slept through is caught up at start-up: when the journal's
 * last command and the last end of day are both before the latest scheduled close,
 * `EndOfDay` runs before the platform answers `/ready`.
 *
 * Clock time is read here, at the edge: the engine only sees the command's stamp.
 */

/** When the trading day closes: a local wall-clock time in an IANA time zone. */
export interface DayClose {
  readonly hour: number;
  readonly minute: number;
  readonly timeZone: string;
}

export const dayCloseDefault = "17:30 Europe/Paris";

/** "HH:MM Zone/Name" (or "HH:MM" for UTC); "off" for none. Throws a RangeError that names the value. */
export function parseDayClose(text: string): DayClose | null {
  const trimmed = text.trim();
  if (trimmed === "off") return null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)(?:\s+(\S+))?$/.exec(trimmed);
  if (match === null) throw new RangeError(`end of day "${text}" is not "HH:MM Zone/Name" (e.g. "${dayCloseDefault}") or "off"`);
  const timeZone = match[3] ?? "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new RangeError(`end of day "${text}": unknown time zone ${timeZone}`);
  }
  return { hour: Number(match[1]), minute: Number(match[2]), timeZone };
}

/** As `parseDayClose` reads it: "17:30 Europe/Paris". */
export function formatDayClose(close: DayClose): string {
  return `${String(close.hour).padStart(2, "0")}:${String(close.minute).padStart(2, "0")} ${close.timeZone}`;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a time zone. */
function wallClock(ms: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formats.set(timeZone, format);
  }
  const fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of format.formatToParts(ms)) if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  return fields;
}

/** The instant the close falls on, on a local calendar day (month 1–12); across a DST change, the later reading. */
function closeOn(year: number, month: number, day: number, close: DayClose): number {
  const local = Date.UTC(year, month - 1, day, close.hour, close.minute);
  let instant = local;
  // The offset at the guess, applied twice: the second pass settles a guess that fell across a DST change.
  for (let pass = 0; pass < 2; pass += 1) {
    const seen = wallClock(instant, close.timeZone);
    const offset = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second) - instant;
    instant = local - offset;
  }
  return instant;
}

/** The latest scheduled close at or before `nowMs`. */
export function previousClose(nowMs: number, close: DayClose): number {
  const today = wallClock(nowMs, close.timeZone);
  const candidate = closeOn(today.year, today.month, today.day, close);
  if (candidate <= nowMs) return candidate;
  const yesterday = new Date(Date.UTC(today.year, today.month - 1, today.day - 1));
  return closeOn(yesterday.getUTCFullYear(), yesterday.getUTCMonth() + 1, yesterday.getUTCDate(), close);
}

/** The first scheduled close after `nowMs`. */
export function nextClose(nowMs: number, close: DayClose): number {
  const today = wallClock(nowMs, close.timeZone);
  const candidate = closeOn(today.year, today.month, today.day, close);
  if (candidate > nowMs) return candidate;
  const tomorrow = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
  return closeOn(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), close);
}

/**
 * Whether a close was missed while the platform was down: the journal's last
 * command (µs, 0 for an empty journal) and the last end of day (µs, 0 for none)
 * both precede the latest close.
 */
export function missedClose(input: { readonly nowMs: number; readonly lastCommandUs: number; readonly lastDayEndUs: number; readonly close: DayClose }): boolean {
  if (input.lastCommandUs === 0) return false;
  const latest = previousClose(input.nowMs, input.close) * 1_000;
  return input.lastCommandUs < latest && input.lastDayEndUs < latest;
}

/** setTimeout's longest delay (about 24.8 days); longer waits re-arm. */
const timerMaxMs = 2_147_483_647;

/** Runs `endOfDay` at every scheduled close until stopped. One run at a time; a failure is reported and the next close still runs. */
export class DayCloseScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly close: DayClose,
    private readonly endOfDay: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the next close will run (ms since the epoch). */
  get next(): number {
    return nextClose(this.now(), this.close);
  }

  start(): void {
    this.arm(this.next);
  }

  private arm(at: number): void {
    if (this.stopped) return;
    const delay = Math.min(Math.max(0, at - this.now()), timerMaxMs);
    this.timer = setTimeout(() => {
      if (this.now() < at) {
        this.arm(at);
        return;
      }
      this.running = this.running.then(() => this.endOfDay()).catch(this.onError);
      this.arm(nextClose(at, this.close));
    }, delay);
    this.timer.unref();
  }

  /** Stops the timer and waits for a close in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }
}
