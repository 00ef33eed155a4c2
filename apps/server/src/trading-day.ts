/**
 * The trading day's close. At the configured local time in the configured time
 * zone, on the configured weekdays (`TRADESTREAM_END_OF_DAY`, default "17:30
 * Europe/Paris Mon-Fri"), the platform submits the engine's `EndOfDay` command:
 * DAY orders expire, their reservations are released, and client order ids
 * become free for the next day.
 * It is a command like any other, journaled, so a replay reproduces it.
 *
 * A close the platform slept through is caught up at start-up: when the journal's
 * last command and the last end of day are both before the latest scheduled close,
 * `EndOfDay` runs before the platform answers `/ready`.
 *
 * Clock time is read here, at the edge: the engine only sees the command's stamp.
 */

/** When the trading day closes: a local wall-clock time in an IANA time zone, on some days of the week. */
export interface DayClose {
  readonly hour: number;
  readonly minute: number;
  readonly timeZone: string;
  /** The local weekdays with a close, 0 = Sunday … 6 = Saturday. */
  readonly days: readonly number[];
}

export const dayCloseDefault = "17:30 Europe/Paris Mon-Fri";

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const everyDay = [0, 1, 2, 3, 4, 5, 6] as const;

/** "Mon-Fri" (a range, wrapping past Saturday), "Mon,Wed,Fri" (a list) or "daily": the weekdays, ascending; null when not one of those. */
function parseDays(text: string): number[] | null {
  if (text === "daily") return [...everyDay];
  const dayOf = (name: string): number => weekdays.findIndex((day) => day.toLowerCase() === name.toLowerCase());
  const range = /^(\w{3})-(\w{3})$/.exec(text);
  if (range !== null) {
    const from = dayOf(range[1] ?? "");
    const to = dayOf(range[2] ?? "");
    if (from < 0 || to < 0) return null;
    const days: number[] = [];
    for (let day = from; ; day = (day + 1) % 7) {
      days.push(day);
      if (day === to) return days.sort((a, b) => a - b);
    }
  }
  const list = text.split(",").map(dayOf);
  return list.some((day) => day < 0) ? null : [...new Set(list)].sort((a, b) => a - b);
}

/**
 * "HH:MM Zone/Name Days": the time, an IANA time zone (UTC when left out) and the days
 * (`Mon-Fri`, `Mon,Wed,Fri` or `daily`; daily when left out); "off" for none. Throws a
 * RangeError that names the value.
 */
export function parseDayClose(text: string): DayClose | null {
  const trimmed = text.trim();
  if (trimmed === "off") return null;
  const match = /^([01]\d|2[0-3]):([0-5]\d)(?:\s+(\S+))?(?:\s+(\S+))?$/.exec(trimmed);
  if (match === null) throw new RangeError(`end of day "${text}" is not "HH:MM Zone/Name Days" (e.g. "${dayCloseDefault}") or "off"`);
  const timeZone = match[3] ?? "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    throw new RangeError(`end of day "${text}": unknown time zone ${timeZone}`);
  }
  const days = parseDays(match[4] ?? "daily");
  if (days === null) throw new RangeError(`end of day "${text}": days "${match[4] ?? ""}" are not a range (Mon-Fri), a list (Mon,Wed,Fri) or daily`);
  return { hour: Number(match[1]), minute: Number(match[2]), timeZone, days };
}

/** As `parseDayClose` reads it: "17:30 Europe/Paris Mon-Fri". */
export function formatDayClose(close: DayClose): string {
  const { days } = close;
  const first = days[0] ?? 0;
  const last = days[days.length - 1] ?? 0;
  const consecutive = days.every((day, i) => day === first + i);
  const dayText = days.length === 7 ? "daily" : consecutive && days.length > 1 ? `${weekdays[first] ?? ""}-${weekdays[last] ?? ""}` : days.map((day) => weekdays[day] ?? "").join(",");
  return `${String(close.hour).padStart(2, "0")}:${String(close.minute).padStart(2, "0")} ${close.timeZone} ${dayText}`;
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

/** The close on the local calendar day `offset` days from `nowMs`'s, or null when that day has none. */
function closeOnDayFrom(nowMs: number, offset: number, close: DayClose): number | null {
  const today = wallClock(nowMs, close.timeZone);
  const day = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
  if (!close.days.includes(day.getUTCDay())) return null;
  return closeOn(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), close);
}

/** The latest scheduled close at or before `nowMs`. */
export function previousClose(nowMs: number, close: DayClose): number {
  for (let offset = 0; offset >= -7; offset -= 1) {
    const candidate = closeOnDayFrom(nowMs, offset, close);
    if (candidate !== null && candidate <= nowMs) return candidate;
  }
  throw new RangeError("a trading day close needs at least one day of the week");
}

/** The first scheduled close after `nowMs`. */
export function nextClose(nowMs: number, close: DayClose): number {
  for (let offset = 0; offset <= 7; offset += 1) {
    const candidate = closeOnDayFrom(nowMs, offset, close);
    if (candidate !== null && candidate > nowMs) return candidate;
  }
  throw new RangeError("a trading day close needs at least one day of the week");
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
