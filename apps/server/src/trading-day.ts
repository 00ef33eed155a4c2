/**
 * The trading day's close. At the configured local time in the configured time
 * zone, on the configured weekdays (`TRADESTREAM_END_OF_DAY`, default "17:30
 * Europe/Paris Mon-Fri"), the platform submits the engine's `EndOfDay` command:
 * DAY orders expire, their reservations are released, and client order ids
 * become free for the next day.
 * It is a command like any other, journaled, so a replay reproduces it.
 *
 * Holidays (`TRADESTREAM_HOLIDAYS`, default the Euronext calendar) have no close:
 * they are local calendar dates in the close's time zone, and a DAY order entered
 * before one lives until the close of the next trading day. Early closes (half
 * days, in the same setting: the Euronext calendar's 24 and 31 December at 14:05,
 * or explicit dates with a time) close that day at their own local time instead.
 * Every function here is pure — the time is passed in — except the scheduler,
 * which reads a clock given to it.
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
  /** The local dates without a close, even on one of `days`, and those that close early; none when left out. */
  readonly holidays?: Holidays;
}

/**
 * A rule-based calendar that holds for every year: `euronext` is 1 January, Good Friday,
 * Easter Monday, 1 May, 25 and 26 December without a close, and 24 and 31 December
 * closing early at 14:05 local time (or at the usual close if that is earlier) when
 * they are otherwise trading days.
 */
export type HolidayRule = "euronext";

/** A local calendar date whose close is at another local time than the usual one. */
export interface EarlyClose {
  /** "YYYY-MM-DD". */
  readonly date: string;
  readonly hour: number;
  readonly minute: number;
}

/** The local calendar dates on which the trading day has no close, or closes early. */
export interface Holidays {
  readonly rules: readonly HolidayRule[];
  /** Further dates without a close, "YYYY-MM-DD", ascending and distinct. */
  readonly dates: readonly string[];
  /**
   * Further dates that close at their own time, ascending and distinct, none of them in
   * `dates`; none when left out. On one of the close's days they win over the rules:
   * such a date closes at its time even when a rule has it as a holiday or an early close.
   */
  readonly earlyCloses?: readonly EarlyClose[];
}

export const dayCloseDefault = "17:30 Europe/Paris Mon-Fri";
export const holidaysDefault = "euronext";

/** The most explicit dates (holidays and early closes together) one configuration may list: decades of a real exchange's calendar. */
export const holidayDatesMax = 1_000;

/** How far (in days) `previousClose` and `nextClose` look for a trading day before they give up on the configuration. */
export const closeSearchDaysMax = 366;

const holidayRules: readonly HolidayRule[] = ["euronext"];
/** The Euronext calendar's early close, local time: 14:05. */
const euronextEarlyClose = { hour: 14, minute: 5 } as const;
const dayMs = 86_400_000;

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
 * (`Mon-Fri`, `Mon,Wed,Fri` or `daily`; daily when left out); "off" for none. The
 * `holidays` (from `parseHolidays`, a separate setting) go with the close. Throws a
 * RangeError that names the value.
 */
export function parseDayClose(text: string, holidays?: Holidays): DayClose | null {
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
  return { hour: Number(match[1]), minute: Number(match[2]), timeZone, days, ...(holidays === undefined ? {} : { holidays }) };
}

/** "YYYY-MM-DD" of a calendar day (month 1–12). */
function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/**
 * `none`; or a comma-separated list of `euronext` (the rule-based calendar), dates
 * `YYYY-MM-DD` (no close that day) and early closes `YYYY-MM-DD@HH:MM` (that day closes
 * at HH:MM local time), e.g. "euronext,2027-05-14,2027-07-03@13:00". A date given twice
 * must be given the same way. Throws a RangeError that names the value.
 */
export function parseHolidays(text: string): Holidays {
  const tokens = text.split(",").map((token) => token.trim());
  if (tokens.length === 1 && tokens[0]?.toLowerCase() === "none") return { rules: [], dates: [] };
  const rules = new Set<HolidayRule>();
  /** Each explicit date, to its token: the first one given, for the message when a later one disagrees. */
  const seen = new Map<string, string>();
  const dates: string[] = [];
  const earlyCloses: EarlyClose[] = [];
  for (const token of tokens) {
    const rule = holidayRules.find((name) => name === token.toLowerCase());
    if (rule !== undefined) {
      rules.add(rule);
      continue;
    }
    const item = /^((\d{4})-(\d{2})-(\d{2}))(?:@(.*))?$/.exec(token);
    if (item === null) throw new RangeError(`holidays "${text}": "${token}" is not euronext, a date YYYY-MM-DD or an early close YYYY-MM-DD@HH:MM (or the whole value none)`);
    const iso = item[1] ?? "";
    const [year, month, day] = [Number(item[2]), Number(item[3]), Number(item[4])];
    const real = new Date(0);
    // The Date rolls 30 February over into March: a real date reads back the same.
    real.setUTCFullYear(year, month - 1, day);
    if (real.getUTCFullYear() !== year || real.getUTCMonth() !== month - 1 || real.getUTCDate() !== day) throw new RangeError(`holidays "${text}": ${token} is not a calendar date`);
    const time = item[5] === undefined ? null : /^([01]\d|2[0-3]):([0-5]\d)$/.exec(item[5]);
    if (time === null && item[5] !== undefined) throw new RangeError(`holidays "${text}": ${token} has no time HH:MM from 00:00 to 23:59 after the @`);
    const earlier = seen.get(iso);
    if (earlier !== undefined) {
      if (earlier !== token) throw new RangeError(`holidays "${text}": ${iso} is given twice, as ${earlier} and as ${token}`);
      continue;
    }
    seen.set(iso, token);
    if (time === null) dates.push(iso);
    else earlyCloses.push({ date: iso, hour: Number(time[1]), minute: Number(time[2]) });
  }
  if (seen.size > holidayDatesMax) throw new RangeError(`holidays "${text}": ${String(seen.size)} dates, more than ${String(holidayDatesMax)}`);
  return {
    rules: holidayRules.filter((rule) => rules.has(rule)),
    dates: dates.sort(),
    ...(earlyCloses.length === 0 ? {} : { earlyCloses: earlyCloses.sort((a, b) => (a.date < b.date ? -1 : 1)) }),
  };
}

/**
 * Easter Sunday of a Gregorian year (month 1–12), by the anonymous Gregorian computus
 * (Meeus/Jones/Butcher). Years before the Gregorian reform of 1583 are refused.
 */
export function easterSunday(year: number): { readonly month: number; readonly day: number } {
  if (!Number.isSafeInteger(year) || year < 1583) throw new RangeError(`Easter of ${String(year)}: the Gregorian computus needs a year from 1583`);
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const n = h + l - 7 * m + 114;
  return { month: Math.floor(n / 31), day: (n % 31) + 1 };
}

/** Whether a rule's calendar has a holiday on a calendar day (month 1–12). */
function ruleHoliday(rule: HolidayRule, year: number, month: number, day: number): boolean {
  switch (rule) {
    case "euronext": {
      if ((month === 1 && day === 1) || (month === 5 && day === 1) || (month === 12 && (day === 25 || day === 26))) return true;
      const easter = easterSunday(year);
      const fromEaster = (Date.UTC(year, month - 1, day) - Date.UTC(year, easter.month - 1, easter.day)) / dayMs;
      // Good Friday and Easter Monday.
      return fromEaster === -2 || fromEaster === 1;
    }
  }
}

/** A rule's early close on a calendar day (month 1–12), if it has one: the local time. */
function ruleEarlyClose(rule: HolidayRule, month: number, day: number): { readonly hour: number; readonly minute: number } | null {
  switch (rule) {
    case "euronext":
      return month === 12 && (day === 24 || day === 31) ? euronextEarlyClose : null;
  }
}

/**
 * The local time of the close on a local calendar day (month 1–12), or null for none:
 * days not in `close.days` have none; then an explicit early close, an explicit holiday,
 * a rule's holiday, a rule's early close (never after the usual close), the usual close.
 */
function closeTimeOn(close: DayClose, year: number, month: number, day: number, weekday: number): { readonly hour: number; readonly minute: number } | null {
  if (!close.days.includes(weekday)) return null;
  const { holidays } = close;
  if (holidays === undefined) return close;
  const date = isoDate(year, month, day);
  const explicit = holidays.earlyCloses?.find((early) => early.date === date);
  if (explicit !== undefined) return explicit;
  if (holidays.dates.includes(date)) return null;
  if (holidays.rules.some((rule) => ruleHoliday(rule, year, month, day))) return null;
  let time: { readonly hour: number; readonly minute: number } = close;
  for (const rule of holidays.rules) {
    const early = ruleEarlyClose(rule, month, day);
    if (early !== null && early.hour * 60 + early.minute < time.hour * 60 + time.minute) time = early;
  }
  return time;
}

/** Short, for the start-up log and the ops status: "euronext", "euronext+2 dates", "1 date", "euronext+1 date+1 early close"; "" for none. */
function formatHolidays(holidays: Holidays): string {
  const counted = (count: number, one: string, many: string): string[] => (count === 0 ? [] : [`${String(count)} ${count === 1 ? one : many}`]);
  return [...holidays.rules, ...counted(holidays.dates.length, "date", "dates"), ...counted(holidays.earlyCloses?.length ?? 0, "early close", "early closes")].join("+");
}

/** As `parseDayClose` reads it, "17:30 Europe/Paris Mon-Fri", then the holidays in short: "…, holidays euronext+1 date+1 early close" (the rule's early closes are part of "euronext"). */
export function formatDayClose(close: DayClose): string {
  const { days } = close;
  const first = days[0] ?? 0;
  const last = days[days.length - 1] ?? 0;
  const consecutive = days.every((day, i) => day === first + i);
  const dayText = days.length === 7 ? "daily" : consecutive && days.length > 1 ? `${weekdays[first] ?? ""}-${weekdays[last] ?? ""}` : days.map((day) => weekdays[day] ?? "").join(",");
  const holidays = close.holidays === undefined ? "" : formatHolidays(close.holidays);
  return `${String(close.hour).padStart(2, "0")}:${String(close.minute).padStart(2, "0")} ${close.timeZone} ${dayText}${holidays === "" ? "" : `, holidays ${holidays}`}`;
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

/** The instant a local time (the close's, or that day's early close) falls on, on a local calendar day (month 1–12) in the close's time zone; across a DST change, the later reading. */
function closeOn(year: number, month: number, day: number, time: { readonly hour: number; readonly minute: number }, close: DayClose): number {
  const local = Date.UTC(year, month - 1, day, time.hour, time.minute);
  let instant = local;
  // The offset at the guess, applied twice: the second pass settles a guess that fell across a DST change.
  for (let pass = 0; pass < 2; pass += 1) {
    const seen = wallClock(instant, close.timeZone);
    const offset = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second) - instant;
    instant = local - offset;
  }
  return instant;
}

/**
 * The first close, walking local calendar days from `nowMs`'s in the direction of
 * `step`, that `wanted` accepts; days not in `close.days` and holidays have none,
 * early-close days close at their own time.
 */
function findClose(nowMs: number, close: DayClose, step: 1 | -1, wanted: (closeMs: number) => boolean): number {
  const today = wallClock(nowMs, close.timeZone);
  for (let offset = 0; Math.abs(offset) <= closeSearchDaysMax; offset += step) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const time = closeTimeOn(close, year, month, day, date.getUTCDay());
    if (time === null) continue;
    const candidate = closeOn(year, month, day, time, close);
    if (wanted(candidate)) return candidate;
  }
  throw new RangeError(`no trading day close within ${String(closeSearchDaysMax)} days of ${new Date(nowMs).toISOString()}: every day is a holiday or not one of the close's weekdays`);
}

/** The latest scheduled close at or before `nowMs`. */
export function previousClose(nowMs: number, close: DayClose): number {
  return findClose(nowMs, close, -1, (closeMs) => closeMs <= nowMs);
}

/** The first scheduled close after `nowMs`. */
export function nextClose(nowMs: number, close: DayClose): number {
  return findClose(nowMs, close, 1, (closeMs) => closeMs > nowMs);
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
