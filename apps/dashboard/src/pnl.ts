/**
 * Positions marked to market. For each instrument the account traded, the P&L
 * of its fills is the cash they moved (sells in, buys out, fees out) plus the
 * net quantity they added, valued at the mark (the instrument's reference
 * price). Computed exactly on decimal strings; it changes live as fills arrive
 * and as the reference price moves.
 */
import { add, formatDec, mul, neg, parseDec, sub, type Dec } from "./decimal.ts";
import { currencyDecimals } from "./ticket.ts";
import type { Fill } from "./types.ts";

export interface MarkedPosition {
  readonly symbol: string;
  /** Net quantity bought (−sold) by the fills. */
  readonly tradedQuantity: string;
  /** Position × mark: what the holding is worth now. */
  readonly marketValue: string | null;
  /** Cash flows of the fills plus their net quantity at the mark. */
  readonly pnl: string | null;
}

const zero: Dec = { units: 0n, scale: 0 };

export function markPosition(input: { symbol: string; currency: string; position: string; mark: string | null; fills: readonly Fill[] }): MarkedPosition {
  let cash = zero;
  let quantity = zero;
  for (const fill of input.fills) {
    if (fill.symbol !== input.symbol) continue;
    const notional = parseDec(fill.notional);
    const fee = parseDec(fill.fee);
    const qty = parseDec(fill.quantity);
    if (notional === null || fee === null || qty === null) continue;
    cash = sub(fill.side === "sell" ? add(cash, notional) : sub(cash, notional), fee);
    quantity = fill.side === "buy" ? add(quantity, qty) : add(quantity, neg(qty));
  }
  const decimals = currencyDecimals(input.currency);
  const mark = input.mark === null ? null : parseDec(input.mark);
  const position = parseDec(input.position);
  return {
    symbol: input.symbol,
    tradedQuantity: formatDec(quantity),
    marketValue: mark === null || position === null ? null : formatDec(mul(position, mark), decimals),
    pnl: mark === null ? null : formatDec(add(cash, mul(quantity, mark)), decimals),
  };
}
