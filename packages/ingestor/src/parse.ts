/**
 * Hot-path parsers for the normalizer: a decimal (string or JSON number) onto a
 * grid of steps, exactly, and an ISO-8601 UTC time to microseconds — without
 * regular expressions, `Date` or any allocation. Every answer is either a
 * non-negative integer or one of the negative error codes below, so a caller
 * tells them apart with one comparison.
 *
 * Exactness: a string is read digit by digit into an integer at the grid's
 * scale; a JSON number `n` is on the grid at scale s only when
 * round(n·10^s)/10^s === n (both sides are the double nearest the same decimal,
 * so this holds exactly when n's decimal text has at most s decimals). Neither
 * path rounds a price.
 */
import { parseDecimal } from "@tradestream/kernel";

export const notANumber = -1;
export const offGrid = -2;
export const outOfRange = -3;

/** A grid step as an integer at a decimal scale: "0.05" → { scale: 2, unit: 5 }. */
export interface Grid {
  readonly scale: number;
  readonly unit: number;
  /** 10^scale. */
  readonly factor: number;
}

/** Longest decimal text read; bounds the cost of a hostile record. */
export const decimalTextCharsMax = 40;
/** Finest grid supported (10^-9). */
export const gridScaleMax = 9;

export function gridOf(step: string): Grid {
  const parsed = parseDecimal(step);
  if (parsed === null || parsed.units <= 0n || parsed.scale > gridScaleMax || parsed.units > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`grid step must be a positive decimal with at most ${String(gridScaleMax)} decimals, got ${step}`);
  return { scale: parsed.scale, unit: Number(parsed.units), factor: 10 ** parsed.scale };
}

/**
 * The number of grid steps in `value` (a decimal string or a JSON number), or
 * `notANumber`, `offGrid` or `outOfRange` (negative values included). Zero is
 * returned as 0: callers that need a positive value check for it.
 */
export function stepsOf(value: unknown, grid: Grid): number {
  if (typeof value === "string") return stringSteps(value, grid);
  if (typeof value === "number") return numberSteps(value, grid);
  return notANumber;
}

function numberSteps(value: number, grid: Grid): number {
  if (value !== value || value === Infinity || value === -Infinity) return notANumber;
  if (value < 0) return outOfRange;
  const units = Math.round(value * grid.factor);
  if (units > Number.MAX_SAFE_INTEGER) return outOfRange;
  if (units / grid.factor !== value) return offGrid;
  if (units % grid.unit !== 0) return offGrid;
  return units / grid.unit;
}

function stringSteps(text: string, grid: Grid): number {
  const length = text.length;
  if (length === 0 || length > decimalTextCharsMax) return notANumber;
  let units = 0;
  let i = 0;
  let code = text.charCodeAt(0);
  if (code === 45 /* - */) {
    // A negative value is a number, but never a price or a quantity.
    return length > 1 && isDigit(text.charCodeAt(1)) ? outOfRange : notANumber;
  }
  let wholeDigits = 0;
  for (; i < length; i += 1) {
    code = text.charCodeAt(i);
    if (code < 48 || code > 57) break;
    units = units * 10 + (code - 48);
    wholeDigits += 1;
  }
  if (wholeDigits === 0) return notANumber;
  let fractionDigits = 0;
  let offTheGrid = false;
  if (i < length) {
    if (code !== 46 /* . */ || i === length - 1) return notANumber;
    for (i += 1; i < length; i += 1) {
      code = text.charCodeAt(i);
      if (code < 48 || code > 57) return notANumber;
      if (fractionDigits < grid.scale) {
        units = units * 10 + (code - 48);
        fractionDigits += 1;
      } else if (code !== 48) {
        offTheGrid = true;
      }
    }
  }
  if (offTheGrid) return offGrid;
  for (; fractionDigits < grid.scale; fractionDigits += 1) units *= 10;
  if (units > Number.MAX_SAFE_INTEGER) return outOfRange;
  if (units % grid.unit !== 0) return offGrid;
  return units / grid.unit;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** 1970-01-01 and 2100-01-01 in µs: the times a record may carry. */
export const tsUsMin = 0;
export const tsUsMax = 4_102_444_800_000_000;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

/**
 * "2024-05-01T09:30:00.123456Z" (or with "+02:00" / "-05:00", a space for "T",
 * any number of fraction digits — beyond microseconds they are truncated) →
 * UTC microseconds, or `notANumber` when it is not such a time.
 */
export function isoToUs(text: string): number {
  const length = text.length;
  if (length < 20 || length > 40) return notANumber;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const t = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (t !== 84 && t !== 32 && t !== 116) || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return notANumber;
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > (daysInMonth[month - 1] ?? 0) || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return notANumber;
  let i = 19;
  let micros = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    i += 1;
    let count = 0;
    for (; i < length; i += 1) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) break;
      if (count < 6) micros = micros * 10 + (code - 48);
      count += 1;
    }
    if (count === 0) return notANumber;
    for (; count < 6; count += 1) micros *= 10;
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if (zone === 90 /* Z */ || zone === 122 /* z */) {
    i += 1;
  } else if (zone === 43 /* + */ || zone === 45 /* - */) {
    const oh = digits(text, i + 1, 2);
    const om = digits(text, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59 || text.charCodeAt(i + 3) !== 58) return notANumber;
    offsetMinutes = (zone === 43 ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return notANumber;
  }
  if (i !== length) return notANumber;
  if (month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0))) return notANumber;
  const seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1_000_000 + micros;
}
