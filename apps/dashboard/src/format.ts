/**
 * Display formatting. Amounts are formatted from their exact decimal strings
 * (Intl.NumberFormat accepts numeric strings and does not round them through a
 * float), in the currency the amount is in, or the configured one.
 */
import { currencyDecimals } from "./ticket.ts";

const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (format === undefined) {
    const digits = currencyDecimals(currency);
    format = new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    moneyFormats.set(currency, format);
  }
  return format;
}

/** "1234.5" EUR → "€1,234.50" (in the browser's locale). */
export function money(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  if (!/^-?\d+(\.\d+)?$/.test(amount)) return amount;
  return moneyFormat(currency).format(amount as Intl.StringNumericLiteral);
}

/** One formatter per number of decimals: creating an Intl.NumberFormat costs far more than using one. */
const numberFormats: Intl.NumberFormat[] = [];

function numberFormat(digits: number): Intl.NumberFormat {
  let format = numberFormats[digits];
  if (format === undefined) {
    format = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numberFormats[digits] = format;
  }
  return format;
}

/** A quantity or price with digit grouping, exactly as given (all its decimals, no rounding). */
export function num(value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  if (!/^-?\d+(\.\d{1,18})?$/.test(value)) return value;
  const point = value.indexOf(".");
  return numberFormat(point < 0 ? 0 : value.length - point - 1).format(value as Intl.StringNumericLiteral);
}

export function time(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(undefined, { hour12: false });
}

export function dateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}
