/**
 * The chart of accounts. Every ledger account has a stable text code built here and
 * nowhere else, an asset (a currency, or an instrument whose unit is lots) and a
 * kind. Amounts on postings are signed: positive is a debit, negative a credit; an
 * entry balances when its postings sum to zero per asset. The venue's books see
 * client money and securities as liabilities (credit-normal): a client's balance is
 * the negated sum of its postings. See README.md for what each kind is for.
 */

export const accountKinds = ["client_cash", "client_securities", "clearing", "fee_income", "bank", "custody"] as const;
export type AccountKind = (typeof accountKinds)[number];

/** What a ledger account is, as callers name it; `accountCode` turns it into the stored code. */
export type AccountRef =
  | { readonly kind: "client_cash"; readonly accountId: number; readonly currency: string }
  | { readonly kind: "client_securities"; readonly accountId: number; readonly instrumentId: number }
  | { readonly kind: "clearing"; readonly currency: string }
  | { readonly kind: "fee_income"; readonly currency: string }
  | { readonly kind: "bank"; readonly currency: string }
  | { readonly kind: "custody"; readonly instrumentId: number };

export const currencyPattern = /^[A-Z]{3}$/;

/** The asset of a securities account: lots of one instrument. */
export function instrumentAsset(instrumentId: number): string {
  return `instrument:${instrumentId}`;
}

/** The instrument id of a securities asset, or null for a currency. */
export function instrumentOfAsset(asset: string): number | null {
  return asset.startsWith("instrument:") ? Number(asset.slice("instrument:".length)) : null;
}

export function accountCode(ref: AccountRef): string {
  switch (ref.kind) {
    case "client_cash":
      return `client:${ref.accountId}:cash:${ref.currency}`;
    case "client_securities":
      return `client:${ref.accountId}:securities:${ref.instrumentId}`;
    case "clearing":
      return `clearing:${ref.currency}`;
    case "fee_income":
      return `fee_income:${ref.currency}`;
    case "bank":
      return `bank:${ref.currency}`;
    case "custody":
      return `custody:${ref.instrumentId}`;
  }
}

export function assetOf(ref: AccountRef): string {
  switch (ref.kind) {
    case "client_securities":
    case "custody":
      return instrumentAsset(ref.instrumentId);
    case "client_cash":
    case "clearing":
    case "fee_income":
    case "bank":
      return ref.currency;
  }
}

/** The engine account of a client account, else null. */
export function clientOf(ref: AccountRef): number | null {
  return ref.kind === "client_cash" || ref.kind === "client_securities" ? ref.accountId : null;
}

/** Checks ids and currency codes; returns a reason when the reference is malformed. */
export function refProblem(ref: AccountRef): string | null {
  const currency = "currency" in ref ? ref.currency : null;
  if (currency !== null && !currencyPattern.test(currency)) return `currency ${JSON.stringify(currency)} is not a three-letter code`;
  if ("accountId" in ref && !Number.isSafeInteger(ref.accountId)) return "accountId must be a safe integer";
  if ("accountId" in ref && ref.accountId <= 0) return "accountId must be positive";
  if ("instrumentId" in ref && !(Number.isSafeInteger(ref.instrumentId) && ref.instrumentId > 0)) return "instrumentId must be a positive safe integer";
  return null;
}
