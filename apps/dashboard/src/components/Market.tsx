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
import type { Level, PublicTrade } from "../types.ts";
import { DataTable, figure, type Column } from "./DataTable.tsx";

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

interface WatchRow {
  readonly symbol: string;
  readonly last: string | null;
  readonly change: string | null;
  readonly volume: string;
  readonly state: string;
}

export function Watchlist(): ReactElement {
  const store = useLive();
  const { symbol: selected, selectSymbol } = useApp();
  const rows = [...store.instruments.keys()].sort().map((symbol): WatchRow => {
    const ticker = store.tickers.get(symbol);
    const instrument = store.instruments.get(symbol);
    return { symbol, last: ticker?.last ?? instrument?.lastPrice ?? null, change: ticker?.changePercent ?? null, volume: ticker?.volume ?? "0", state: instrument?.state ?? "open" };
  });
  const columns: ReadonlyArray<Column<WatchRow>> = [
    {
      header: "Symbol",
      rowHeader: true,
      cell: (row) => (
        <>
          <button type="button" className="link" onClick={() => selectSymbol(row.symbol)} aria-current={row.symbol === selected ? "true" : undefined}>
            {row.symbol}
          </button>
          {row.state !== "open" && <span className="badge halted">{row.state}</span>}
        </>
      ),
    },
    { header: "Last", numeric: true, cell: (row) => <Flash value={num(row.last)} direction={directionOf(row.symbol, row.last)} /> },
    { header: "Chg %", numeric: true, cellClass: (row) => (row.change === null ? "" : row.change.startsWith("-") ? "down" : "up"), cell: (row) => (row.change === null ? "—" : `${row.change}%`) },
    { header: "Volume", numeric: true, cell: (row) => <Flash value={num(row.volume)} direction="none" /> },
  ];
  return (
    <section className="panel watchlist" aria-labelledby="watchlist-title">
      <h2 id="watchlist-title">Markets</h2>
      <DataTable columns={columns} rows={rows} rowKey={(row) => row.symbol} rowProps={(row) => ({ className: row.symbol === selected ? "selected" : undefined, "aria-selected": row.symbol === selected })} />
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

interface LadderRow {
  readonly level: Level;
  readonly side: "buy" | "sell";
  readonly total: string;
  /** The user's resting quantity at this price and side. */
  readonly mine: Dec | undefined;
}

/** The spacer row between the asks and the bids. */
const spread: LadderRow = { level: ["", "", 0], side: "sell", total: "", mine: undefined };

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
  const rows: LadderRow[] = [
    ...asks.map((level, index): LadderRow => ({ level, side: "sell", total: askTotals[index] ?? "", mine: own.get(`sell:${level[0]}`) })).reverse(),
    spread,
    ...bids.map((level, index): LadderRow => ({ level, side: "buy", total: bidTotals[index] ?? "", mine: own.get(`buy:${level[0]}`) })),
  ];
  const columns: ReadonlyArray<Column<LadderRow>> = [
    { header: "Mine", numeric: true, cellClass: () => "mine", cell: ({ mine }) => (mine === undefined ? "" : <span aria-label={`your orders: ${formatDec(mine)}`}>● {num(formatDec(mine))}</span>) },
    { header: "Bid", numeric: true, cell: ({ side, level }) => (side === "buy" ? num(level[1]) : "") },
    {
      header: "Price",
      numeric: true,
      cellClass: () => "price",
      cell: ({ side, level }) => (
        <button type="button" className="link" onClick={() => pick(level[0])} aria-label={`${side === "buy" ? "Bid" : "Ask"} ${level[0]}, ${level[1]} in ${String(level[2])} orders: use this price`}>
          {num(level[0])}
        </button>
      ),
    },
    { header: "Ask", numeric: true, cell: ({ side, level }) => (side === "sell" ? num(level[1]) : "") },
    { header: "Cum.", numeric: true, cellClass: () => "cum", cell: ({ total }) => num(total) },
  ];
  return (
    <section className="panel ladder" aria-labelledby="ladder-title">
      <h2 id="ladder-title">
        Book <span className="symbol">{symbol}</span> <span className="muted">seq {book?.seq === undefined || book.seq === Number.MAX_SAFE_INTEGER ? "…" : String(book.seq)}</span>
      </h2>
      <DataTable
        aria-describedby="ladder-help"
        columns={columns}
        rows={rows}
        rowKey={(row) => (row === spread ? "spread" : `${row.side}:${row.level[0]}`)}
        rowProps={(row) =>
          row === spread ? { className: "spread", "aria-hidden": "true" } : { className: `${row.side === "buy" ? "bid" : "ask"}${row.mine === undefined ? "" : " own"}`, "data-price": row.level[0], "data-side": row.side }
        }
        // The gap between the asks and the bids: one empty cell across the ladder.
        collapse={(row) => (row === spread ? { from: 0, content: null } : null)}
      />
      <p id="ladder-help" className="muted small">
        Click a price to put it on the ticket.
      </p>
    </section>
  );
}

const tapeColumns: ReadonlyArray<Column<PublicTrade>> = [
  { header: "Time", cell: (trade) => time(trade.time) },
  figure<PublicTrade>("Price", (trade) => trade.price),
  figure<PublicTrade>("Qty", (trade) => trade.quantity),
];

export function Tape(): ReactElement {
  const store = useLive();
  const { symbol } = useApp();
  const trades = (store.trades.get(symbol) ?? []).slice(0, 40);
  return (
    <section className="panel tape" aria-labelledby="tape-title">
      <h2 id="tape-title">Trades</h2>
      <DataTable columns={tapeColumns} rows={trades} rowKey={(trade) => trade.tradeId} rowProps={(trade) => ({ className: trade.takerSide === "buy" ? "up" : "down" })} />
    </section>
  );
}
