/**
 * Exact decimal arithmetic for the browser. The API speaks decimal strings
 * ("229.50"); the dashboard checks prices against the tick grid, quantities
 * against the lot grid and computes notionals, fees and P&L on scaled bigints,
 * never on floating-point numbers, so what it shows before sending is exactly
 * what the engine will compute. A Dec is `units × 10^-scale`.
 */

export interface Dec {
  readonly units: bigint;
  readonly scale: number;
}

/** Digits after the point that any value here may carry; the platform's grids need far fewer. */
export const decimalScaleMax = 18;
const decimalPattern = /^(-)?(\d{1,30})(?:\.(\d{1,18}))?$/;

/** Parses "123.45" / "-0.5"; null for anything else (no exponents, no spaces, no thousands separators). */
export function parseDec(text: string): Dec | null {
  const match = decimalPattern.exec(text.trim());
  if (match === null) return null;
  const whole = match[2] ?? "0";
  const fraction = match[3] ?? "";
  const units = BigInt(whole + fraction);
  return { units: match[1] === "-" ? -units : units, scale: fraction.length };
}

export function decOf(units: bigint, scale = 0): Dec {
  return { units, scale };
}

function rescale(value: Dec, scale: number): bigint {
  return value.units * 10n ** BigInt(scale - value.scale);
}

function common(a: Dec, b: Dec): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [rescale(a, scale), rescale(b, scale), scale];
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, scale] = common(a, b);
  return { units: x + y, scale };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, scale] = common(a, b);
  return { units: x - y, scale };
}

export function mul(a: Dec, b: Dec): Dec {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export function neg(a: Dec): Dec {
  return { units: -a.units, scale: a.scale };
}

export function cmp(a: Dec, b: Dec): -1 | 0 | 1 {
  const [x, y] = common(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isZero(a: Dec): boolean {
  return a.units === 0n;
}

export function sign(a: Dec): -1 | 0 | 1 {
  return a.units < 0n ? -1 : a.units > 0n ? 1 : 0;
}

/** True when `value` is a whole multiple of `step` (step > 0). */
export function isMultipleOf(value: Dec, step: Dec): boolean {
  if (step.units <= 0n) return false;
  const [x, y] = common(value, step);
  return x % y === 0n;
}

/** value / step as a whole number, when it is one. */
export function stepsOf(value: Dec, step: Dec): bigint | null {
  if (!isMultipleOf(value, step)) return null;
  const [x, y] = common(value, step);
  return x / y;
}

/** Rounds toward zero to `scale` digits (fees are rounded down to the minor unit). */
export function truncate(value: Dec, scale: number): Dec {
  if (value.scale <= scale) return { units: rescale(value, scale), scale };
  const divisor = 10n ** BigInt(value.scale - scale);
  return { units: value.units / divisor, scale };
}

/** value × bps / 10 000, exactly. */
export function basisPoints(value: Dec, bps: number): Dec {
  return { units: value.units * BigInt(bps), scale: value.scale + 4 };
}

/** The canonical text: exactly `scale` digits after the point (or the value's own scale). */
export function formatDec(value: Dec, scale = value.scale): string {
  const fixed = scale >= value.scale ? rescale(value, scale) : truncate(value, scale).units;
  const negative = fixed < 0n;
  const digits = (negative ? -fixed : fixed).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${fraction}` : ""}`;
}

/** Digits after the point of a grid step such as "0.01" (2) or "1" (0). */
export function scaleOf(step: string): number {
  return parseDec(step)?.scale ?? 0;
}
