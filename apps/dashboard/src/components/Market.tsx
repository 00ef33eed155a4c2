/**
 * Market screens: the watchlist (last, change %, volume; a cell flashes when its
 * value changes), the book ladder (depth with cumulative size, the user's own
 * orders marked, a click on a price fills the ticket) and the trades tape.
 */
import { memo, type ReactElement } from "react";
import { useApp, useLive } from "../context.ts";
import { add, formatDec, parseDec, type Dec } from "../decimal.ts";
import { num, time } from "../format.ts";
import { isOpen } from "../store.ts";
import type { Level } from "../types.ts";

/** A value that replays a short highlight whenever it changes (the key remounts the span). */
const Flash = memo(function Flash(props: { value: string; direction: "up" | "down" | "none" }): ReactElement {
  return (
    <span key={props.value} className={`flash flash-${props.direction}`}>
      {props.value}
    </span>
  );
});

const previousLast = new Map<string, string>();
const lastDirection = new Map<string, "up" | "down" | "none">();

function directionOf(symbol: string, last: string | null): "up" | "down" | "none" {
  if (last === null) return "none";
  const before = previousLast.get(symbol);
  if (before !== undefined && before !== last) {
    const a = parseDec(before);
    const b = parseDec(last);
    if (a !== null && b !== null) lastDirection.set(symbol, b.units * 10n ** BigInt(a.scale) > a.units * 10n ** BigInt(b.scale) ? "up" : "down");
  }
  previousLast.set(symbol, last);
  return lastDirection.get(symbol) ?? "none";
}

export function Watchlist(): ReactElement {
  const store = useLive();
  const { symbol: selected, selectSymbol } = useApp();
  const symbols = [...store.instruments.keys()].sort();
  return (
    <section className="panel watchlist" aria-labelledby="watchlist-title">
      <h2 id="watchlist-title">Markets</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Symbol</th>
            <th scope="col" className="num">
              Last
            </th>
            <th scope="col" className="num">
              Chg %
            </th>
            <th scope="col" className="num">
              Volume
            </th>
          </tr>
        </thead>
        <tbody>
          {symbols.map((symbol) => {
            const ticker = store.tickers.get(symbol);
            const instrument = store.instruments.get(symbol);
            const last = ticker?.last ?? instrument?.lastPrice ?? null;
            const change = ticker?.changePercent ?? null;
            const state = instrument?.state ?? "open";
            return (
              <tr key={symbol} className={symbol === selected ? "selected" : undefined} aria-selected={symbol === selected}>
                <th scope="row">
                  <button type="button" className="link" onClick={() => selectSymbol(symbol)} aria-current={symbol === selected ? "true" : undefined}>
                    {symbol}
                  </button>
                  {state !== "open" && <span className="badge halted">{state}</span>}
                </th>
                <td className="num">
                  <Flash value={num(last)} direction={directionOf(symbol, last)} />
                </td>
                <td className={`num ${change === null ? "" : change.startsWith("-") ? "down" : "up"}`}>{change === null ? "—" : `${change}%`}</td>
                <td className="num">
                  <Flash value={num(ticker?.volume ?? "0")} direction="none" />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function cumulative(levels: readonly Level[]): string[] {
  let total: Dec = { units: 0n, scale: 0 };
  return levels.map((level) => {
    const quantity = parseDec(level[1]);
    if (quantity !== null) total = add(total, quantity);
    return formatDec(total);
  });
}

export const ladderDepth = 12;

export function Ladder(): ReactElement {
  const store = useLive();
  const { symbol, setDraft, focusTicket } = useApp();
  const { bids, asks } = store.ladder(symbol, ladderDepth);
  const book = store.books.get(symbol);
  // The user's resting quantity at each price and side.
  const own = new Map<string, Dec>();
  for (const order of store.orders.values()) {
    if (order.symbol !== symbol || !isOpen(order.status) || order.price === null) continue;
    const key = `${order.side}:${order.price}`;
    const leaves = parseDec(order.leavesQuantity);
    if (leaves !== null) own.set(key, add(own.get(key) ?? { units: 0n, scale: 0 }, leaves));
  }
  const bidTotals = cumulative(bids);
  const askTotals = cumulative(asks);
  const pick = (price: string): void => {
    setDraft((draft) => ({ ...draft, price, type: draft.type === "market" || draft.type === "stop" ? "limit" : draft.type }));
    focusTicket();
  };
  const row = (level: Level, side: "buy" | "sell", total: string): ReactElement => {
    const mine = own.get(`${side}:${level[0]}`);
    return (
      <tr key={`${side}:${level[0]}`} className={`${side === "buy" ? "bid" : "ask"}${mine === undefined ? "" : " own"}`} data-price={level[0]} data-side={side}>
        <td className="num mine">{mine === undefined ? "" : <span aria-label={`your orders: ${formatDec(mine)}`}>● {num(formatDec(mine))}</span>}</td>
        <td className="num">{side === "buy" ? num(level[1]) : ""}</td>
        <td className="num price">
          <button type="button" className="link" onClick={() => pick(level[0])} aria-label={`${side === "buy" ? "Bid" : "Ask"} ${level[0]}, ${level[1]} in ${String(level[2])} orders: use this price`}>
            {num(level[0])}
          </button>
        </td>
        <td className="num">{side === "sell" ? num(level[1]) : ""}</td>
        <td className="num cum">{num(total)}</td>
      </tr>
    );
  };
  return (
    <section className="panel ladder" aria-labelledby="ladder-title">
      <h2 id="ladder-title">
        Book <span className="symbol">{symbol}</span> <span className="muted">seq {book?.seq === undefined || book.seq === Number.MAX_SAFE_INTEGER ? "…" : String(book.seq)}</span>
      </h2>
      <table aria-describedby="ladder-help">
        <thead>
          <tr>
            <th scope="col" className="num">
              Mine
            </th>
            <th scope="col" className="num">
              Bid
            </th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Ask
            </th>
            <th scope="col" className="num">
              Cum.
            </th>
          </tr>
        </thead>
        <tbody>
          {[...asks.map((level, index) => row(level, "sell", askTotals[index] ?? ""))].reverse()}
          <tr className="spread" aria-hidden="true">
            <td colSpan={5} />
          </tr>
          {bids.map((level, index) => row(level, "buy", bidTotals[index] ?? ""))}
        </tbody>
      </table>
      <p id="ladder-help" className="muted small">
        Click a price to put it on the ticket.
      </p>
    </section>
  );
}

export function Tape(): ReactElement {
  const store = useLive();
  const { symbol } = useApp();
  const trades = (store.trades.get(symbol) ?? []).slice(0, 40);
  return (
    <section className="panel tape" aria-labelledby="tape-title">
      <h2 id="tape-title">Trades</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Qty
            </th>
          </tr>
        </thead>
        <tbody>
          {trades.map((trade) => (
            <tr key={trade.tradeId} className={trade.takerSide === "buy" ? "up" : "down"}>
              <td>{time(trade.time)}</td>
              <td className="num">{num(trade.price)}</td>
              <td className="num">{num(trade.quantity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
