/**
 * Decimal strings ↔ exact integers. The API speaks decimal strings ("101.25");
 * inside the platform prices are ticks, quantities lots and cash minor units.
 * Conversion is exact (bigint arithmetic): a value that is not a whole number
 * of grid steps is rejected, never rounded, and no float ever carries value.
 */

/** A parsed decimal: value = units / 10^scale. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

/** Longest decimal string accepted at the edge; bounds the cost of parsing. */
export const decimalCharsMax = 40;

const decimalPattern = /^(-)?(\d+)(?:\.(\d+))?$/;

/** Parses a plain decimal string ("12", "-0.005"); null when it is not one. */
export function parseDecimal(text: string): Decimal | null {
  if (text.length === 0 || text.length > decimalCharsMax) return null;
  const match = decimalPattern.exec(text);
  if (match === null) return null;
  const [, sign, whole = "0", fraction = ""] = match;
  const units = BigInt(whole + fraction) * (sign === "-" ? -1n : 1n);
  return { units, scale: fraction.length };
}

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Brings two decimals to the same scale. */
function align(a: Decimal, b: Decimal): [bigint, bigint] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale)];
}

export type GridResult =
  | { readonly ok: true; readonly steps: number }
  | { readonly ok: false; readonly reason: "not_a_number" | "off_grid" | "out_of_range" };

/**
 * Converts a decimal string to a whole number of grid steps (price → ticks with
 * the tick size, quantity → lots with the lot size). Exact: "101.255" with a tick
 * of "0.01" is off the grid. Negative values and values beyond `maxSteps` are out
 * of range.
 */
export function toSteps(text: string, step: string, maxSteps: number = Number.MAX_SAFE_INTEGER): GridResult {
  const fast = toStepsFast(text, step, maxSteps);
  if (fast !== undefined) return fast;
  return toStepsExact(text, step, maxSteps);
}

/** The reference conversion in bigint arithmetic; `toSteps` gives the same answers, faster for short inputs. */
export function toStepsExact(text: string, step: string, maxSteps: number = Number.MAX_SAFE_INTEGER): GridResult {
  const value = parseDecimal(text);
  const grid = parseDecimal(step);
  if (value === null) return { ok: false, reason: "not_a_number" };
  if (grid === null || grid.units <= 0n) throw new RangeError(`grid step must be a positive decimal, got ${step}`);
  if (value.units < 0n) return { ok: false, reason: "out_of_range" };
  const [v, g] = align(value, grid);
  if (v % g !== 0n) return { ok: false, reason: "off_grid" };
  const steps = v / g;
  if (steps > BigInt(maxSteps)) return { ok: false, reason: "out_of_range" };
  return { ok: true, steps: Number(steps) };
}

// Fast paths. Prices and quantities at the edge are short ("229.50"), so most
// conversions fit in exact double arithmetic: every integer below 10^15 is exact,
// and so are products and remainders that stay below 2^53. Anything longer falls
// back to bigint. The answers are identical (property-tested against the bigint
// reference).

const shortDecimal = /^(\d{1,15})(?:\.(\d{1,15}))?$/;
const pow10Numbers = Array.from({ length: 16 }, (_, i) => 10 ** i);
const gridCache = new Map<string, { readonly units: number; readonly scale: number } | null>();

function shortGrid(step: string): { readonly units: number; readonly scale: number } | null {
  let grid = gridCache.get(step);
  if (grid === undefined) {
    const match = shortDecimal.exec(step);
    const fraction = match?.[2] ?? "";
    const units = match === null ? 0 : Number((match[1] ?? "") + fraction);
    grid = match === null || units <= 0 || !Number.isSafeInteger(units) ? null : { units, scale: fraction.length };
    if (gridCache.size < 10_000) gridCache.set(step, grid);
  }
  return grid;
}

/** What the last successful `scanShortDecimal` read (one object reused: no allocation per price). */
const scanned = { whole: 0, wholeDigits: 0, fraction: 0, fractionDigits: 0 };

/**
 * `text` read as `shortDecimal` reads it (1–15 digits, optionally a point and 1–15 digits), one
 * character at a time: no match array, no substrings. On success the integer and fraction parts
 * and their digit counts are in `scanned` and it returns true; false when the text is not of that form.
 */
function scanShortDecimal(text: string): boolean {
  const length = text.length;
  let at = 0;
  let whole = 0;
  while (at < length) {
    const code = text.charCodeAt(at);
    if (code < 48 || code > 57) break;
    whole = whole * 10 + (code - 48);
    at += 1;
  }
  const wholeDigits = at;
  if (wholeDigits === 0 || wholeDigits > 15) return false;
  let fraction = 0;
  let fractionDigits = 0;
  if (at < length) {
    if (text.charCodeAt(at) !== 46) return false;
    at += 1;
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code < 48 || code > 57) return false;
      fraction = fraction * 10 + (code - 48);
      fractionDigits += 1;
      at += 1;
    }
    if (fractionDigits === 0 || fractionDigits > 15) return false;
  }
  scanned.whole = whole;
  scanned.wholeDigits = wholeDigits;
  scanned.fraction = fraction;
  scanned.fractionDigits = fractionDigits;
  return true;
}

function toStepsFast(text: string, step: string, maxSteps: number): GridResult | undefined {
  const grid = shortGrid(step);
  if (grid === null || !scanShortDecimal(text)) return undefined;
  const { whole, wholeDigits, fraction, fractionDigits } = scanned;
  const scale = Math.max(fractionDigits, grid.scale);
  // At most 15 digits in all: every integer below 10^15 is exact, and so is whole · 10^k + fraction.
  if (wholeDigits + scale > 15) return undefined;
  const value = (whole * (pow10Numbers[fractionDigits] ?? Number.NaN) + fraction) * (pow10Numbers[scale - fractionDigits] ?? Number.NaN);
  const unit = grid.units * (pow10Numbers[scale - grid.scale] ?? Number.NaN);
  if (!Number.isSafeInteger(value) || !Number.isSafeInteger(unit)) return undefined;
  if (value % unit !== 0) return { ok: false, reason: "off_grid" };
  const steps = value / unit;
  if (steps > maxSteps) return { ok: false, reason: "out_of_range" };
  return { ok: true, steps };
}

/** Formats a decimal from integer units and a scale: (12345n, 2) → "123.45". */
export function formatUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

function formatNumberUnits(units: number, scale: number): string {
  const negative = units < 0;
  const digits = String(negative ? -units : units).padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** Formats a number of grid steps as a decimal string: (10125, "0.01") → "101.25". */
export function fromSteps(steps: number, step: string): string {
  const short = shortGrid(step);
  if (short !== null && Number.isSafeInteger(steps)) {
    const units = steps * short.units;
    if (Number.isSafeInteger(units)) return formatNumberUnits(units, short.scale);
  }
  const grid = parseDecimal(step);
  if (grid === null || grid.units <= 0n) throw new RangeError(`grid step must be a positive decimal, got ${step}`);
  return formatUnits(BigInt(steps) * grid.units, grid.scale);
}

/**
 * The cash value, in minor units, of one tick on one lot:
 * tickSize × lotSize × 10^currencyDecimals. Null when it is not a whole number,
 * in which case the instrument's grids do not land on minor units and it must
 * not be listed (prices × quantities would need rounding).
 */
export function tickValueMinor(tickSize: string, lotSize: string, currencyDecimals: number): number | null {
  const tick = parseDecimal(tickSize);
  const lot = parseDecimal(lotSize);
  if (tick === null || lot === null || tick.units <= 0n || lot.units <= 0n) return null;
  const numerator = tick.units * lot.units * pow10(currencyDecimals);
  const denominator = pow10(tick.scale + lot.scale);
  if (numerator % denominator !== 0n) return null;
  const value = numerator / denominator;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}
