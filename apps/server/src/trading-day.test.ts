/**
 * The trading day's close: the schedule in a time zone (across daylight saving),
 * holidays (the Euronext calendar by its Easter rule, explicit dates), early closes
 * (the calendar's 24 and 31 December at 14:05, explicit dates with a time), the
 * scheduler, a close missed while stopped caught up at start-up, and the
 * admin route that ends the day on demand. At every close DAY orders expire,
 * their cash is released, and their client order ids are free again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeCommand } from "@tradestream/contracts";
import type { CommandLog } from "@tradestream/journal";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { startPlatform } from "./platform.ts";
import { ApiClient } from "./test-client.ts";
import { limitOrder, testConfig } from "./test-platform.ts";
import {
  DayCloseScheduler,
  closeSearchDaysMax,
  easterSunday,
  formatDayClose,
  type DayClose,
  holidayDatesMax,
  missedClose,
  nextClose,
  parseDayClose,
  parseHolidays,
  previousClose,
} from "./trading-day.ts";

const paris = { hour: 17, minute: 30, timeZone: "Europe/Paris", days: [0, 1, 2, 3, 4, 5, 6] };
const parisWeekdays = { ...paris, days: [1, 2, 3, 4, 5] };
const euronext = { rules: ["euronext"], dates: [] } as const;
const parisEuronext: DayClose = { ...parisWeekdays, holidays: euronext };
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe("the close's schedule", () => {
  it("reads HH:MM, a time zone and the days, or off, and names what is wrong", () => {
    expect(parseDayClose("17:30 Europe/Paris")).toEqual(paris);
    expect(parseDayClose("17:30 Europe/Paris daily")).toEqual(paris);
    expect(parseDayClose("17:30 Europe/Paris Mon-Fri")).toEqual(parisWeekdays);
    expect(parseDayClose("17:30 Europe/Paris fri,mon,Wed,Mon")?.days).toEqual([1, 3, 5]);
    expect(parseDayClose("17:30 Asia/Dubai Sun-Thu")?.days).toEqual([0, 1, 2, 3, 4]);
    expect(parseDayClose("22:00 UTC Fri-Mon")?.days).toEqual([0, 1, 5, 6]);
    expect(parseDayClose(" 09:05 ")).toEqual({ hour: 9, minute: 5, timeZone: "UTC", days: paris.days });
    expect(parseDayClose("off")).toBeNull();
    expect(formatDayClose(paris)).toBe("17:30 Europe/Paris daily");
    expect(formatDayClose(parisWeekdays)).toBe("17:30 Europe/Paris Mon-Fri");
    expect(formatDayClose({ ...paris, days: [1, 3, 5] })).toBe("17:30 Europe/Paris Mon,Wed,Fri");
    expect(parseDayClose(formatDayClose({ ...paris, days: [0, 1, 5, 6] }))?.days).toEqual([0, 1, 5, 6]);
    expect(() => parseDayClose("5pm")).toThrow('end of day "5pm" is not "HH:MM Zone/Name Days" (e.g. "17:30 Europe/Paris Mon-Fri") or "off"');
    expect(() => parseDayClose("24:00 UTC")).toThrow(RangeError);
    expect(() => parseDayClose("17:30 Mars/Olympus")).toThrow('end of day "17:30 Mars/Olympus": unknown time zone Mars/Olympus');
    expect(() => parseDayClose("17:30 UTC Mon-Fry")).toThrow('end of day "17:30 UTC Mon-Fry": days "Mon-Fry" are not a range (Mon-Fri), a list (Mon,Wed,Fri) or daily');
  });

  it("falls at the local time in winter and in summer", () => {
    // 17:30 in Paris is 16:30 UTC in winter (CET) and 15:30 UTC in summer (CEST).
    expect(nextClose(at("2026-01-15T12:00:00Z"), paris)).toBe(at("2026-01-15T16:30:00Z"));
    expect(nextClose(at("2026-01-15T16:30:00Z"), paris)).toBe(at("2026-01-16T16:30:00Z"));
    expect(previousClose(at("2026-01-15T16:30:00Z"), paris)).toBe(at("2026-01-15T16:30:00Z"));
    expect(previousClose(at("2026-01-15T16:29:59Z"), paris)).toBe(at("2026-01-14T16:30:00Z"));
    expect(nextClose(at("2026-07-01T00:00:00Z"), paris)).toBe(at("2026-07-01T15:30:00Z"));
    // Across the spring change (29 March 2026) and the autumn one (25 October 2026).
    expect(nextClose(at("2026-03-28T16:31:00Z"), paris)).toBe(at("2026-03-29T15:30:00Z"));
    expect(nextClose(at("2026-10-24T15:31:00Z"), paris)).toBe(at("2026-10-25T16:30:00Z"));
    // Weekdays only: from Friday's close to Monday's, and back from the weekend to Friday.
    expect(nextClose(at("2026-01-16T16:30:00Z"), parisWeekdays)).toBe(at("2026-01-19T16:30:00Z"));
    expect(previousClose(at("2026-01-18T12:00:00Z"), parisWeekdays)).toBe(at("2026-01-16T16:30:00Z"));
    expect(nextClose(at("2026-01-17T12:00:00Z"), parisWeekdays)).toBe(at("2026-01-19T16:30:00Z"));
    // Late in the UTC day but already tomorrow in Tokyo.
    expect(nextClose(at("2026-01-15T23:00:00Z"), { hour: 15, minute: 0, timeZone: "Asia/Tokyo", days: paris.days })).toBe(at("2026-01-16T06:00:00Z"));
  });

  it("counts a close as missed only when the last command and the last end of day both precede it", () => {
    const nowMs = at("2026-01-16T09:00:00Z");
    const us = (iso: string): number => at(iso) * 1_000;
    expect(missedClose({ nowMs, lastCommandUs: us("2026-01-15T15:00:00Z"), lastDayEndUs: 0, close: paris })).toBe(true);
    expect(missedClose({ nowMs, lastCommandUs: us("2026-01-15T17:00:00Z"), lastDayEndUs: 0, close: paris })).toBe(false);
    expect(missedClose({ nowMs, lastCommandUs: us("2026-01-15T15:00:00Z"), lastDayEndUs: us("2026-01-15T16:30:00Z"), close: paris })).toBe(false);
    expect(missedClose({ nowMs, lastCommandUs: 0, lastDayEndUs: 0, close: paris })).toBe(false);
    // Over a weekend: Friday's close is the one missed, none on Saturday or Sunday.
    const monday = at("2026-01-19T08:00:00Z");
    expect(missedClose({ nowMs: monday, lastCommandUs: us("2026-01-16T17:00:00Z"), lastDayEndUs: us("2026-01-16T16:30:00Z"), close: parisWeekdays })).toBe(false);
    expect(missedClose({ nowMs: monday, lastCommandUs: us("2026-01-16T15:00:00Z"), lastDayEndUs: us("2026-01-15T16:30:00Z"), close: parisWeekdays })).toBe(true);
  });
});

describe("holidays", () => {
  it("finds Easter Sunday by the Gregorian computus", () => {
    const easter = (year: number): string => {
      const { month, day } = easterSunday(year);
      return `${String(year)}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
    };
    // The earliest (22 March) and latest (25 April) dates the computus can give are among these.
    expect([2024, 2025, 2026, 2027, 2038, 1818, 2285, 2000, 2019].map(easter)).toEqual([
      "2024-03-31",
      "2025-04-20",
      "2026-04-05",
      "2027-03-28",
      "2038-04-25",
      "1818-03-22",
      "2285-03-22",
      "2000-04-23",
      "2019-04-21",
    ]);
    expect(() => easterSunday(1582)).toThrow("Easter of 1582: the Gregorian computus needs a year from 1583");
    expect(() => easterSunday(2026.5)).toThrow(RangeError);
  });

  it("reads none, euronext and dates, alone or together, and names what is wrong", () => {
    expect(parseHolidays("none")).toEqual({ rules: [], dates: [] });
    expect(parseHolidays("euronext")).toEqual(euronext);
    expect(parseHolidays(" Euronext , 2027-05-14,2026-12-31,2027-05-14 ")).toEqual({ rules: ["euronext"], dates: ["2026-12-31", "2027-05-14"] });
    expect(parseHolidays("2024-02-29")).toEqual({ rules: [], dates: ["2024-02-29"] });
    expect(parseDayClose("17:30 Europe/Paris Mon-Fri", parseHolidays("euronext"))).toEqual(parisEuronext);
    expect(parseDayClose("off", parseHolidays("euronext"))).toBeNull();
    expect(() => parseHolidays("2026-02-30")).toThrow('holidays "2026-02-30": 2026-02-30 is not a calendar date');
    expect(() => parseHolidays("2025-02-29")).toThrow('holidays "2025-02-29": 2025-02-29 is not a calendar date');
    expect(() => parseHolidays("euronext,2026-13-01")).toThrow('holidays "euronext,2026-13-01": 2026-13-01 is not a calendar date');
    expect(() => parseHolidays("nyse")).toThrow('holidays "nyse": "nyse" is not euronext, a date YYYY-MM-DD or an early close YYYY-MM-DD@HH:MM (or the whole value none)');
    expect(() => parseHolidays("2026-1-01")).toThrow('holidays "2026-1-01": "2026-1-01" is not euronext, a date YYYY-MM-DD or an early close YYYY-MM-DD@HH:MM (or the whole value none)');
    expect(() => parseHolidays("none,2026-12-31")).toThrow('"none" is not euronext');
    expect(() => parseHolidays("euronext,")).toThrow('holidays "euronext,": "" is not euronext');
    expect(() => parseHolidays("")).toThrow(RangeError);
    // At the limit of explicit dates, and one past it.
    const days = (count: number): string[] => Array.from({ length: count }, (_, i) => iso(at("2030-01-01T00:00:00Z") + i * 86_400_000).slice(0, 10));
    expect(parseHolidays(days(holidayDatesMax).join(",")).dates.length).toBe(holidayDatesMax);
    expect(() => parseHolidays(days(holidayDatesMax + 1).join(","))).toThrow(`${String(holidayDatesMax + 1)} dates, more than ${String(holidayDatesMax)}`);
  });

  it("shows them in short after the schedule", () => {
    expect(formatDayClose(parisEuronext)).toBe("17:30 Europe/Paris Mon-Fri, holidays euronext");
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("euronext,2027-05-14") })).toBe("17:30 Europe/Paris Mon-Fri, holidays euronext+1 date");
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("2027-05-14,2027-05-13") })).toBe("17:30 Europe/Paris Mon-Fri, holidays 2 dates");
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("none") })).toBe("17:30 Europe/Paris Mon-Fri");
  });

  it("has no close on a holiday: a DAY order lives until the next trading day's close", () => {
    // Thursday 24 December 2026 after the close: Friday 25 is Christmas, then the weekend.
    expect(iso(nextClose(at("2026-12-24T16:30:00Z"), parisEuronext))).toBe("2026-12-28T16:30:00.000Z");
    expect(iso(nextClose(at("2026-12-24T16:30:00Z"), parisWeekdays))).toBe("2026-12-25T16:30:00.000Z");
    // Tuesday 26 December 2028 is the second Christmas holiday: Friday 22 → Wednesday 27.
    expect(iso(nextClose(at("2028-12-22T17:00:00Z"), parisEuronext))).toBe("2028-12-27T16:30:00.000Z");
    // Easter 2027: Thursday 25 March (CET) to Tuesday 30 March (CEST, clocks went forward on Easter Sunday).
    expect(iso(nextClose(at("2027-03-25T16:30:00Z"), parisEuronext))).toBe("2027-03-30T15:30:00.000Z");
    expect(iso(previousClose(at("2027-03-29T18:00:00Z"), parisEuronext))).toBe("2027-03-25T16:30:00.000Z");
    expect(iso(previousClose(at("2027-03-30T15:29:59Z"), parisEuronext))).toBe("2027-03-25T16:30:00.000Z");
    expect(iso(previousClose(at("2027-03-30T15:30:00Z"), parisEuronext))).toBe("2027-03-30T15:30:00.000Z");
    // On a holiday itself (Christmas 2026, after what would have been its close): the last close was the day before,
    // Christmas Eve's early close at 14:05.
    expect(iso(previousClose(at("2026-12-25T18:00:00Z"), parisEuronext))).toBe("2026-12-24T13:05:00.000Z");
    expect(iso(previousClose(at("2026-12-25T18:00:00Z"), parisWeekdays))).toBe("2026-12-25T16:30:00.000Z");
    // New Year's Day and 1 May: Thursday 31 December 2026 → Monday 4 January 2027; Thursday 30 April 2026 → Monday 4 May.
    expect(iso(nextClose(at("2026-12-31T16:30:00Z"), parisEuronext))).toBe("2027-01-04T16:30:00.000Z");
    expect(iso(nextClose(at("2026-04-30T15:30:00Z"), parisEuronext))).toBe("2026-05-04T15:30:00.000Z");
    // An explicit date on top of the calendar: Friday 14 May 2027.
    const bridge: DayClose = { ...parisWeekdays, holidays: parseHolidays("euronext,2027-05-14") };
    expect(iso(nextClose(at("2027-05-13T15:30:00Z"), bridge))).toBe("2027-05-17T15:30:00.000Z");
    expect(iso(nextClose(at("2027-05-13T15:30:00Z"), parisEuronext))).toBe("2027-05-14T15:30:00.000Z");
    // No holiday near: the schedule is as without a calendar.
    expect(iso(nextClose(at("2026-01-15T12:00:00Z"), parisEuronext))).toBe("2026-01-15T16:30:00.000Z");
  });

  it("reads a holiday as a local date in the close's time zone", () => {
    // 01:00 in Tokyo on 2 January is 16:00 UTC on 1 January: the holiday on 2 January removes that close,
    // and the next is 01:00 on 3 January, 16:00 UTC on 2 January.
    const tokyo: DayClose = { hour: 1, minute: 0, timeZone: "Asia/Tokyo", days: paris.days, holidays: parseHolidays("2026-01-02") };
    expect(iso(nextClose(at("2026-01-01T12:00:00Z"), tokyo))).toBe("2026-01-02T16:00:00.000Z");
    expect(iso(previousClose(at("2026-01-01T18:00:00Z"), tokyo))).toBe("2025-12-31T16:00:00.000Z");
    // A holiday on 1 January leaves the close at 16:00 UTC on 1 January alone: there it is already 2 January.
    const tokyoNewYear: DayClose = { ...tokyo, holidays: parseHolidays("2026-01-01") };
    expect(iso(nextClose(at("2026-01-01T12:00:00Z"), tokyoNewYear))).toBe("2026-01-01T16:00:00.000Z");
  });

  it("counts no close missed on a holiday the platform slept through", () => {
    const us = (text: string): number => at(text) * 1_000;
    // Stopped on Thursday 24 December 2026 after its (early) close, started on Monday 28 in the morning.
    const monday = at("2026-12-28T08:00:00Z");
    const afterThursdayClose = { nowMs: monday, lastCommandUs: us("2026-12-24T17:00:00Z"), lastDayEndUs: us("2026-12-24T13:05:00Z") };
    expect(missedClose({ ...afterThursdayClose, close: parisEuronext })).toBe(false);
    // Without the calendar, Christmas Day's close would have been missed.
    expect(missedClose({ ...afterThursdayClose, close: parisWeekdays })).toBe(true);
    // Stopped before Thursday's close (14:05 Paris, 13:05 UTC): that one was missed, holidays or not.
    expect(missedClose({ nowMs: monday, lastCommandUs: us("2026-12-24T13:00:00Z"), lastDayEndUs: us("2026-12-23T16:30:00Z"), close: parisEuronext })).toBe(true);
    // Over Easter 2027, from Thursday after the close to Tuesday morning.
    expect(missedClose({ nowMs: at("2027-03-30T07:00:00Z"), lastCommandUs: us("2027-03-25T17:00:00Z"), lastDayEndUs: us("2027-03-25T16:30:00Z"), close: parisEuronext })).toBe(false);
  });

  it("gives up, naming the instant, when no trading day is near", () => {
    const closed: DayClose = { ...paris, days: [1], holidays: parseHolidays(Array.from({ length: 60 }, (_, i) => iso(at("2026-01-05T00:00:00Z") + i * 7 * 86_400_000).slice(0, 10)).join(",")) };
    // Sixty Mondays in a row are holidays: more than a year without a close.
    expect(() => nextClose(at("2026-01-01T00:00:00Z"), closed)).toThrow(`no trading day close within ${String(closeSearchDaysMax)} days of 2026-01-01T00:00:00.000Z`);
    expect(iso(previousClose(at("2026-01-01T00:00:00Z"), closed))).toBe("2025-12-29T16:30:00.000Z");
  });
});

describe("early closes", () => {
  it("closes at 14:05 on 24 and 31 December by the Euronext calendar, when those are trading days", () => {
    // Wednesday 23 December 2026 at 18:00 Paris: the next close is Thursday 24 at 14:05 Paris (13:05 UTC), not 17:30.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), parisEuronext))).toBe("2026-12-24T13:05:00.000Z");
    expect(iso(nextClose(at("2026-12-24T13:04:59Z"), parisEuronext))).toBe("2026-12-24T13:05:00.000Z");
    // At and after it (15:00 Paris): Christmas, Boxing Day, the weekend, then Monday 28 at 17:30.
    expect(iso(nextClose(at("2026-12-24T13:05:00Z"), parisEuronext))).toBe("2026-12-28T16:30:00.000Z");
    expect(iso(nextClose(at("2026-12-24T14:00:00Z"), parisEuronext))).toBe("2026-12-28T16:30:00.000Z");
    // Thursday 31 December 2026 at 14:05, then New Year's Day and the weekend: Monday 4 January 2027.
    expect(iso(nextClose(at("2026-12-30T16:30:00Z"), parisEuronext))).toBe("2026-12-31T13:05:00.000Z");
    expect(iso(nextClose(at("2026-12-31T13:05:00Z"), parisEuronext))).toBe("2027-01-04T16:30:00.000Z");
    // The days around are ordinary: Wednesday 30 and Monday 28 at 17:30.
    expect(iso(previousClose(at("2026-12-30T20:00:00Z"), parisEuronext))).toBe("2026-12-30T16:30:00.000Z");
    // Without a calendar there is no early close.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), parisWeekdays))).toBe("2026-12-24T16:30:00.000Z");
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), { ...parisWeekdays, holidays: parseHolidays("none") }))).toBe("2026-12-24T16:30:00.000Z");
    // Every year: Friday 24 and Friday 31 December 2027 close at 14:05.
    expect(iso(nextClose(at("2027-12-23T17:00:00Z"), parisEuronext))).toBe("2027-12-24T13:05:00.000Z");
    expect(iso(nextClose(at("2027-12-30T17:00:00Z"), parisEuronext))).toBe("2027-12-31T13:05:00.000Z");
    expect(iso(nextClose(at("2027-12-31T13:05:00Z"), parisEuronext))).toBe("2028-01-03T16:30:00.000Z");
    // Sunday 31 December 2028 is not a trading day: no close at all, early or not; Monday 1 January 2029 is a holiday.
    expect(iso(nextClose(at("2028-12-29T16:30:00Z"), parisEuronext))).toBe("2029-01-02T16:30:00.000Z");
    expect(iso(previousClose(at("2028-12-31T23:00:00Z"), parisEuronext))).toBe("2028-12-29T16:30:00.000Z");
    // Sunday 24 December 2028 neither.
    expect(iso(nextClose(at("2028-12-22T16:30:00Z"), parisEuronext))).toBe("2028-12-27T16:30:00.000Z");
    // On a close every day of the week, that Sunday does close early.
    expect(iso(nextClose(at("2028-12-30T16:30:00Z"), { ...paris, holidays: euronext }))).toBe("2028-12-31T13:05:00.000Z");
    // A usual close before 14:05 stays: the early close never makes the day longer.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), { ...parisWeekdays, hour: 12, minute: 0, holidays: euronext }))).toBe("2026-12-24T11:00:00.000Z");
  });

  it("finds the latest close on an early-close day before and after it", () => {
    // Thursday 24 December 2026: before 14:05 Paris the latest close is Wednesday's; from 14:05 on, it is today's.
    expect(iso(previousClose(at("2026-12-24T13:04:59Z"), parisEuronext))).toBe("2026-12-23T16:30:00.000Z");
    expect(iso(previousClose(at("2026-12-24T13:05:00Z"), parisEuronext))).toBe("2026-12-24T13:05:00.000Z");
    expect(iso(previousClose(at("2026-12-24T16:45:00Z"), parisEuronext))).toBe("2026-12-24T13:05:00.000Z");
    // Over the weekend after Friday 31 December 2027.
    expect(iso(previousClose(at("2028-01-02T12:00:00Z"), parisEuronext))).toBe("2027-12-31T13:05:00.000Z");
    // A close missed while stopped: stopped at 13:00 Paris, started at 16:00 Paris, before the usual 17:30.
    const us = (text: string): number => at(text) * 1_000;
    const stoppedBefore = { nowMs: at("2026-12-24T15:00:00Z"), lastCommandUs: us("2026-12-24T12:00:00Z"), lastDayEndUs: us("2026-12-23T16:30:00Z") };
    expect(missedClose({ ...stoppedBefore, close: parisEuronext })).toBe(true);
    expect(missedClose({ ...stoppedBefore, close: parisWeekdays })).toBe(false);
    // Stopped after the early close had run: nothing to catch up.
    expect(missedClose({ nowMs: at("2026-12-24T15:00:00Z"), lastCommandUs: us("2026-12-24T13:30:00Z"), lastDayEndUs: us("2026-12-24T13:05:00Z"), close: parisEuronext })).toBe(false);
  });

  it("reads explicit early closes YYYY-MM-DD@HH:MM and names what is wrong", () => {
    expect(parseHolidays("euronext,2027-05-14,2027-07-02@13:00")).toEqual({ rules: ["euronext"], dates: ["2027-05-14"], earlyCloses: [{ date: "2027-07-02", hour: 13, minute: 0 }] });
    expect(parseHolidays(" 2027-07-02@13:00 , 2026-12-24@00:00,2027-07-02@13:00,2026-12-31@23:59 ")).toEqual({
      rules: [],
      dates: [],
      earlyCloses: [
        { date: "2026-12-24", hour: 0, minute: 0 },
        { date: "2026-12-31", hour: 23, minute: 59 },
        { date: "2027-07-02", hour: 13, minute: 0 },
      ],
    });
    expect(parseHolidays("2024-02-29@12:30").earlyCloses).toEqual([{ date: "2024-02-29", hour: 12, minute: 30 }]);
    expect(() => parseHolidays("2026-02-30@13:00")).toThrow('holidays "2026-02-30@13:00": 2026-02-30@13:00 is not a calendar date');
    expect(() => parseHolidays("2026-05-14@24:00")).toThrow('holidays "2026-05-14@24:00": 2026-05-14@24:00 has no time HH:MM from 00:00 to 23:59 after the @');
    expect(() => parseHolidays("euronext,2026-05-14@9:00")).toThrow('holidays "euronext,2026-05-14@9:00": 2026-05-14@9:00 has no time HH:MM from 00:00 to 23:59 after the @');
    expect(() => parseHolidays("2026-05-14@13:60")).toThrow("2026-05-14@13:60 has no time HH:MM");
    expect(() => parseHolidays("2026-05-14@")).toThrow("2026-05-14@ has no time HH:MM");
    expect(() => parseHolidays("2026-05-14@13:00@14:00")).toThrow("2026-05-14@13:00@14:00 has no time HH:MM");
    expect(() => parseHolidays("@13:00")).toThrow('holidays "@13:00": "@13:00" is not euronext, a date YYYY-MM-DD or an early close YYYY-MM-DD@HH:MM (or the whole value none)');
    expect(() => parseHolidays("none,2026-05-14@13:00")).toThrow('"none" is not euronext');
    // A date is a holiday or an early close, at one time.
    expect(() => parseHolidays("2026-05-14,2026-05-14@13:00")).toThrow('holidays "2026-05-14,2026-05-14@13:00": 2026-05-14 is given twice, as 2026-05-14 and as 2026-05-14@13:00');
    expect(() => parseHolidays("2026-05-14@13:00,euronext,2026-05-14@12:00")).toThrow("2026-05-14 is given twice, as 2026-05-14@13:00 and as 2026-05-14@12:00");
    // Both kinds count towards the limit of dates.
    const days = (count: number): string[] => Array.from({ length: count }, (_, i) => iso(at("2030-01-01T00:00:00Z") + i * 86_400_000).slice(0, 10));
    const atLimit = parseHolidays([...days(holidayDatesMax - 1), "2029-12-31@13:00"].join(","));
    expect([atLimit.dates.length, atLimit.earlyCloses?.length]).toEqual([holidayDatesMax - 1, 1]);
    expect(() => parseHolidays([...days(holidayDatesMax), "2029-12-31@13:00"].join(","))).toThrow(`${String(holidayDatesMax + 1)} dates, more than ${String(holidayDatesMax)}`);
  });

  it("shows explicit early closes in short; the calendar's are part of euronext", () => {
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("euronext,2027-05-14,2027-07-02@13:00") })).toBe("17:30 Europe/Paris Mon-Fri, holidays euronext+1 date+1 early close");
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("2027-07-02@13:00,2027-07-01@13:00") })).toBe("17:30 Europe/Paris Mon-Fri, holidays 2 early closes");
    expect(formatDayClose({ ...parisWeekdays, holidays: parseHolidays("euronext,2027-07-02@13:00") })).toBe("17:30 Europe/Paris Mon-Fri, holidays euronext+1 early close");
  });

  it("lets an explicit date win over the calendar: another time, a holiday, or a close on a holiday", () => {
    const with_ = (text: string): DayClose => ({ ...parisWeekdays, holidays: parseHolidays(text) });
    // 24 December 2026 at 12:00 Paris instead of 14:05; 31 December keeps the calendar's 14:05.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), with_("euronext,2026-12-24@12:00")))).toBe("2026-12-24T11:00:00.000Z");
    expect(iso(nextClose(at("2026-12-30T17:00:00Z"), with_("euronext,2026-12-24@12:00")))).toBe("2026-12-31T13:05:00.000Z");
    // A later time too: the explicit one is that day's close.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), with_("euronext,2026-12-24@17:30")))).toBe("2026-12-24T16:30:00.000Z");
    // A plain date makes 24 December a holiday: from Wednesday 23 to Monday 28.
    expect(iso(nextClose(at("2026-12-23T17:00:00Z"), with_("euronext,2026-12-24")))).toBe("2026-12-28T16:30:00.000Z");
    // An early close on the calendar's holiday: Friday 25 December 2026 closes at 12:00.
    expect(iso(nextClose(at("2026-12-24T14:00:00Z"), with_("euronext,2026-12-25@12:00")))).toBe("2026-12-25T11:00:00.000Z");
    // Not on a day without a close: Saturday 26 December 2026.
    expect(iso(nextClose(at("2026-12-24T14:00:00Z"), with_("euronext,2026-12-26@12:00")))).toBe("2026-12-28T16:30:00.000Z");
    // Without the calendar, only the explicit ones: 24 December at 13:00, then Christmas an ordinary day, 31 December too.
    expect(iso(nextClose(at("2026-12-24T11:00:00Z"), with_("2026-12-24@13:00")))).toBe("2026-12-24T12:00:00.000Z");
    expect(iso(nextClose(at("2026-12-24T12:00:00Z"), with_("2026-12-24@13:00")))).toBe("2026-12-25T16:30:00.000Z");
    expect(iso(nextClose(at("2026-12-30T17:00:00Z"), with_("2026-12-24@13:00")))).toBe("2026-12-31T16:30:00.000Z");
  });

  it("keeps the early close at the local time: across daylight saving, in Tokyo and in New York", () => {
    // An explicit early close at 13:00 Paris: 11:00 UTC in summer (Friday 2 July 2027), 12:00 UTC in winter.
    const daily = (text: string): DayClose => ({ ...paris, holidays: parseHolidays(text) });
    expect(iso(nextClose(at("2027-07-01T16:00:00Z"), daily("2027-07-02@13:00")))).toBe("2027-07-02T11:00:00.000Z");
    // On the days the clocks change (Sunday 29 March and Sunday 25 October 2026, a close every day).
    expect(iso(nextClose(at("2026-03-28T17:00:00Z"), daily("2026-03-29@13:00")))).toBe("2026-03-29T11:00:00.000Z");
    expect(iso(nextClose(at("2026-10-24T16:00:00Z"), daily("2026-10-25@13:00")))).toBe("2026-10-25T12:00:00.000Z");
    // The calendar's 14:05 in Tokyo (UTC+9): 05:05 UTC on Thursday 24 December 2026, then Monday 28 at 15:00 Tokyo.
    const tokyo: DayClose = { hour: 15, minute: 0, timeZone: "Asia/Tokyo", days: [1, 2, 3, 4, 5], holidays: euronext };
    expect(iso(nextClose(at("2026-12-23T12:00:00Z"), tokyo))).toBe("2026-12-24T05:05:00.000Z");
    expect(iso(nextClose(at("2026-12-24T05:05:00Z"), tokyo))).toBe("2026-12-28T06:00:00.000Z");
    // In New York (UTC-5 in winter): 19:05 UTC on 24 and 31 December 2026.
    const newYork: DayClose = { hour: 16, minute: 0, timeZone: "America/New_York", days: [1, 2, 3, 4, 5], holidays: parseHolidays("euronext,2026-07-02@13:00") };
    expect(iso(nextClose(at("2026-12-23T22:00:00Z"), newYork))).toBe("2026-12-24T19:05:00.000Z");
    expect(iso(nextClose(at("2026-12-30T21:00:00Z"), newYork))).toBe("2026-12-31T19:05:00.000Z");
    // And an explicit one in summer (UTC-4): Thursday 2 July 2026 at 13:00 New York.
    expect(iso(nextClose(at("2026-07-01T20:00:00Z"), newYork))).toBe("2026-07-02T17:00:00.000Z");
  });
});

describe("the scheduler", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A scheduler on fake timers from `start` (Thursday 15 January 2026, 12:00 UTC, unless told), noting the time of each close it runs. */
  function recording(close: DayClose, start = "2026-01-15T12:00:00Z"): { scheduler: DayCloseScheduler; runs: string[] } {
    vi.useFakeTimers();
    vi.setSystemTime(at(start));
    const runs: string[] = [];
    const scheduler = new DayCloseScheduler(
      close,
      () => {
        runs.push(new Date(Date.now()).toISOString());
        return Promise.resolve();
      },
      (error) => {
        throw error;
      },
    );
    return { scheduler, runs };
  }

  it("runs at every close, one day apart, until stopped", async () => {
    const { scheduler, runs } = recording(paris);
    expect(scheduler.next).toBe(at("2026-01-15T16:30:00Z"));
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4 * 3_600_000);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(3 * 24 * 3_600_000);
    expect(runs).toEqual(["2026-01-15T16:30:00.000Z", "2026-01-16T16:30:00.000Z", "2026-01-17T16:30:00.000Z"]);
    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(2 * 24 * 3_600_000);
    expect(runs.length).toBe(3);
  });

  it("runs on the configured weekdays only", async () => {
    const { scheduler, runs } = recording(parisWeekdays);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(6 * 24 * 3_600_000);
    // Thursday, Friday, then Monday and Tuesday: no close on the weekend.
    expect(runs).toEqual(["2026-01-15T16:30:00.000Z", "2026-01-16T16:30:00.000Z", "2026-01-19T16:30:00.000Z", "2026-01-20T16:30:00.000Z"]);
    await scheduler.stop();
  });

  it("closes early on Christmas Eve and skips holidays: no close from then to the Monday after", async () => {
    const { scheduler, runs } = recording(parisEuronext, "2026-12-23T12:00:00Z");
    expect(scheduler.next).toBe(at("2026-12-23T16:30:00Z"));
    scheduler.start();
    // To Thursday 24 December 2026 at noon UTC: Wednesday's close at 17:30 Paris, and Thursday's is at 14:05.
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(runs).toEqual(["2026-12-23T16:30:00.000Z"]);
    expect(scheduler.next).toBe(at("2026-12-24T13:05:00Z"));
    await vi.advanceTimersByTimeAsync(3_600_000 + 4 * 60_000);
    expect(runs).toEqual(["2026-12-23T16:30:00.000Z"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(runs).toEqual(["2026-12-23T16:30:00.000Z", "2026-12-24T13:05:00.000Z"]);
    // Not again at the usual 17:30, nor on Christmas, Boxing Day or the weekend: next on Monday 28.
    expect(scheduler.next).toBe(at("2026-12-28T16:30:00Z"));
    await vi.advanceTimersByTimeAsync(at("2026-12-28T16:29:59Z") - Date.now());
    expect(runs).toEqual(["2026-12-23T16:30:00.000Z", "2026-12-24T13:05:00.000Z"]);
    await vi.advanceTimersByTimeAsync(at("2027-01-01T12:00:00Z") - Date.now());
    // Monday 28 to Wednesday 30 at 17:30, Thursday 31 early at 14:05; Monday 4 January 2027 is past the window.
    expect(runs).toEqual([
      "2026-12-23T16:30:00.000Z",
      "2026-12-24T13:05:00.000Z",
      "2026-12-28T16:30:00.000Z",
      "2026-12-29T16:30:00.000Z",
      "2026-12-30T16:30:00.000Z",
      "2026-12-31T13:05:00.000Z",
    ]);
    expect(scheduler.next).toBe(at("2027-01-04T16:30:00Z"));
    await scheduler.stop();
  });

  it("follows an explicit early close that wins over the calendar's", async () => {
    const { scheduler, runs } = recording({ ...parisWeekdays, holidays: parseHolidays("euronext,2026-12-24@12:00") }, "2026-12-23T17:00:00Z");
    scheduler.start();
    await vi.advanceTimersByTimeAsync(at("2026-12-28T17:00:00Z") - Date.now());
    expect(runs).toEqual(["2026-12-24T11:00:00.000Z", "2026-12-28T16:30:00.000Z"]);
    await scheduler.stop();
  });

  it("reports a failed close and still runs the next one", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(at("2026-01-15T12:00:00Z"));
    const errors: unknown[] = [];
    let calls = 0;
    const scheduler = new DayCloseScheduler(
      paris,
      () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error("journal full")) : Promise.resolve();
      },
      (error) => errors.push(error),
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(2 * 24 * 3_600_000);
    expect(calls).toBe(2);
    expect(errors).toEqual([new Error("journal full")]);
    await scheduler.stop();
  });
});

const dir = mkdtempSync(join(tmpdir(), "tradestream-trading-day-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface OrderView {
  readonly order: { readonly orderId: number; readonly status: string; readonly timeInForce: string };
}

describe("end of day in the platform", () => {
  it("expires DAY orders on demand (compliance and admin only, audited) and frees their client order ids", async () => {
    const platform = await startPlatform(testConfig({ seed: 21 }));
    try {
      const trader = await ApiClient.signIn(platform.url, "trader1");
      const compliance = await ApiClient.signIn(platform.url, "compliance1");
      const available = async (): Promise<string | undefined> => (await trader.get<{ items: Array<{ currency: string; available: string }> }>("/api/v1/accounts/1001/balances")).body.items.find((b) => b.currency === "EUR")?.available;
      const gtc = await trader.post<OrderView>("/api/v1/orders", limitOrder("gtc-1", "buy", "225.00", "2"));
      const beforeDay = await available();
      const day = await trader.post<OrderView>("/api/v1/orders", limitOrder("day-1", "buy", "225.00", "2", { timeInForce: "DAY" }));
      expect([day.status, gtc.status]).toEqual([201, 201]);
      expect(await available()).not.toBe(beforeDay);

      const refused = await trader.post("/api/v1/admin/end-of-day");
      expect(refused.status).toBe(403);
      const ended = await compliance.post<{ expiredOrders: number; endedAt: string }>("/api/v1/admin/end-of-day");
      expect(ended.status).toBe(200);
      expect(ended.body.expiredOrders).toBe(1);
      expect(Math.abs(Date.parse(ended.body.endedAt) - Date.now())).toBeLessThan(60_000);
      // No scheduled close here (the day ends on demand only), and the day began at that end.
      expect((await new ApiClient(platform.url).get("/api/v1/trading-day")).body).toEqual({ closesAt: null, nextCloseAt: null, startedAt: ended.body.endedAt });

      expect((await trader.get<OrderView>(`/api/v1/orders/${String(day.body.order.orderId)}`)).body.order.status).toBe("expired");
      expect((await trader.get<OrderView>(`/api/v1/orders/${String(gtc.body.order.orderId)}`)).body.order.status).toBe("new");
      // The DAY order's reservation (price and fees) is released to the cent; the GTC order's stays.
      expect(await available()).toBe(beforeDay);
      // A new day: the client order id is free again (a new order, not a replay of the expired one).
      const again = await trader.post<OrderView>("/api/v1/orders", limitOrder("day-1", "buy", "226.00", "1", { timeInForce: "DAY" }));
      expect(again.status).toBe(201);
      expect(again.body.order.orderId).not.toBe(day.body.order.orderId);

      const auditor = await ApiClient.signIn(platform.url, "auditor1");
      const audit = await auditor.get<{ items: Array<{ action: string; outcome: string }> }>("/api/v1/admin/audit?limit=50");
      expect(audit.body.items.filter((item) => item.action === "trading_day.end").map((item) => item.outcome).sort()).toEqual(["denied", "ok"]);
    } finally {
      await platform.close();
    }
  });

  it("catches up a close missed while stopped, before it answers", async () => {
    const config = testConfig({ seed: 22, dataDir: dir });
    const first = await startPlatform(config);
    let orderId: number;
    let token: string | null;
    try {
      const trader = await ApiClient.signIn(first.url, "trader2");
      token = trader.token;
      const day = await trader.post<OrderView>("/api/v1/orders", limitOrder("night-1", "buy", "225.00", "1", { timeInForce: "DAY" }));
      expect(day.status).toBe(201);
      orderId = day.body.order.orderId;
    } finally {
      await first.close();
    }
    // Started again "two days later": the closes in between were missed.
    const twoDaysMs = 2 * 24 * 3_600_000;
    const second = await startPlatform({ ...config, endOfDay: paris, nowMs: () => Date.now() + twoDaysMs });
    try {
      const trader = new ApiClient(second.url, token);
      expect((await trader.get<OrderView>(`/api/v1/orders/${String(orderId)}`)).body.order.status).toBe("expired");
      // Operators see the schedule and when the current day began.
      const sre = await ApiClient.signIn(second.url, "sre1");
      const status = await sre.get<{ tradingDay: { closesAt: string; nextCloseAt: string; startedAt: string } }>("/api/v1/ops/status");
      expect(status.body.tradingDay.closesAt).toBe("17:30 Europe/Paris daily");
      expect(Date.parse(status.body.tradingDay.nextCloseAt)).toBe(nextClose(Date.now() + twoDaysMs, paris));
      expect(Math.abs(Date.parse(status.body.tradingDay.startedAt) - Date.now())).toBeLessThan(60_000);
      // Anyone sees the same schedule, signed in or not (when DAY orders expire is public).
      const anonymous = await new ApiClient(second.url, null).get<{ closesAt: string; nextCloseAt: string; startedAt: string }>("/api/v1/trading-day");
      expect(anonymous.status).toBe(200);
      expect(anonymous.body).toEqual(status.body.tradingDay);
    } finally {
      await second.close();
    }
    // And not again: the day has ended since the last close.
    const third = await startPlatform({ ...config, endOfDay: paris });
    try {
      expect(third.shard.engine.eventSeq).toBeGreaterThan(0);
      const dayEnds = await countDayEnds(third.shard.log);
      expect(dayEnds).toBe(1);
    } finally {
      await third.close();
    }
  });
});

/** How many EndOfDay commands the journal holds. */
async function countDayEnds(log: CommandLog): Promise<number> {
  let count = 0;
  await log.replay(1, (_seq, record) => {
    if (decodeCommand(record).type === "EndOfDay") count += 1;
  });
  return count;
}
