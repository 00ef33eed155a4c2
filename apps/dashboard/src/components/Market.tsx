/**
 * Market screens: the watchlist (last, change %, volume; a cell flashes when its
 * value changes; the trader picks and orders its instruments, see watchlist.ts), the book ladder (depth with cumulative size, the user's own
 * orders marked, a click on a price fills the ticket) and the trades tape.
 */
import { memo, useEffect, useId, useRef, useState, type ReactElement } from "react";
import { useApp, useLive } from "../context.ts";
import { add, formatDec, parseDec, type Dec } from "../decimal.ts";
import { num, time } from "../format.ts";
import { isOpen } from "../store.ts";
import type { Level, PublicTrade } from "../types.ts";
import { addableSymbols, addSymbol, loadWatchlist, moveSymbol, removeSymbol, saveWatchlist, visibleSymbols, type SavedWatchlist } from "../watchlist.ts";
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

/** Where focus goes after an edit re-renders the list: an element id, tried in order. */
type FocusPlan = readonly string[];

export function Watchlist(): ReactElement {
  const store = useLive();
  const { symbol: selected, selectSymbol, user } = useApp();
  const id = useId();
  const [saved, setSaved] = useState<SavedWatchlist | null>(() => loadWatchlist(user.userId));
  const [editing, setEditing] = useState(false);
  const [adding, setAdding] = useState("");
  const [announced, setAnnounced] = useState("");
  const focusPlan = useRef<FocusPlan>([]);
  const listed = [...store.instruments.keys()];
  const shown = visibleSymbols(saved, listed);
  const addable = addableSymbols(shown, listed);
  const shownKey = shown.join("\n");

  // While the list is not customised, remember the order seen, so an instrument listed later joins at the end.
  useEffect(() => {
    if (saved?.customised === true || shownKey === "") return;
    if (saved !== null && saved.symbols.join("\n") === shownKey) return;
    const next: SavedWatchlist = { symbols: shownKey.split("\n"), customised: false };
    setSaved(next);
    saveWatchlist(user.userId, next);
  }, [saved, shownKey, user.userId]);

  useEffect(() => {
    if (focusPlan.current.length === 0) return;
    const target = focusPlan.current.map((elementId) => document.getElementById(elementId)).find((element) => element !== null && !(element as HTMLButtonElement).disabled);
    focusPlan.current = [];
    target?.focus();
  });

  const controlId = (kind: string, symbol: string): string => `${id}-${kind}-${symbol}`;
  const update = (next: SavedWatchlist | null, message: string, focus: FocusPlan): void => {
    setSaved(next);
    saveWatchlist(user.userId, next);
    setAnnounced(message);
    focusPlan.current = focus;
  };
  const move = (symbol: string, by: -1 | 1): void => {
    const next = moveSymbol(shown, symbol, by);
    const position = next.symbols.indexOf(symbol) + 1;
    update(next, `${symbol} moved ${by < 0 ? "up" : "down"}, now ${String(position)} of ${String(next.symbols.length)}.`, [controlId(by < 0 ? "up" : "down", symbol), controlId(by < 0 ? "down" : "up", symbol)]);
  };
  const remove = (symbol: string): void => {
    const index = shown.indexOf(symbol);
    const next = removeSymbol(shown, symbol);
    const neighbours = [next.symbols[index], next.symbols[index - 1]].filter((item): item is string => item !== undefined);
    update(next, `${symbol} removed from the watchlist.`, [...neighbours.map((item) => controlId("remove", item)), `${id}-add`]);
  };
  const addPicked = (): void => {
    const symbol = addable.includes(adding) ? adding : addable[0];
    if (symbol === undefined) return;
    setAdding("");
    update(addSymbol(shown, symbol), `${symbol} added to the end of the watchlist.`, [`${id}-add`]);
  };
  const reset = (): void => {
    update(null, `Watchlist reset: showing all ${String(listed.length)} instruments.`, [`${id}-reset`]);
  };

  const rows = shown.map((symbol): WatchRow => {
    const ticker = store.tickers.get(symbol);
    const instrument = store.instruments.get(symbol);
    return { symbol, last: ticker?.last ?? instrument?.lastPrice ?? null, change: ticker?.changePercent ?? null, volume: ticker?.volume ?? "0", state: instrument?.state ?? "open" };
  });
  const columns: Array<Column<WatchRow>> = [
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
  if (editing) {
    columns.push({
      header: <span className="visually-hidden">Arrange</span>,
      cellClass: () => "arrange",
      cell: (row) => {
        const index = shown.indexOf(row.symbol);
        return (
          <>
            <button type="button" id={controlId("up", row.symbol)} aria-label={`Move ${row.symbol} up`} title="Move up" disabled={index === 0} onClick={() => move(row.symbol, -1)}>
              ↑
            </button>
            <button type="button" id={controlId("down", row.symbol)} aria-label={`Move ${row.symbol} down`} title="Move down" disabled={index === shown.length - 1} onClick={() => move(row.symbol, 1)}>
              ↓
            </button>
            <button type="button" id={controlId("remove", row.symbol)} aria-label={`Remove ${row.symbol} from the watchlist`} title="Remove" onClick={() => remove(row.symbol)}>
              ✕
            </button>
          </>
        );
      },
    });
  }
  return (
    <section className="panel watchlist" aria-labelledby="watchlist-title">
      <div className="panel-head">
        <h2 id="watchlist-title">Markets</h2>
        <button type="button" className="edit-watchlist" aria-pressed={editing} aria-controls={`${id}-table`} onClick={() => setEditing((value) => !value)}>
          Edit list
        </button>
      </div>
      <DataTable
        id={`${id}-table`}
        columns={columns}
        rows={rows}
        rowKey={(row) => row.symbol}
        rowProps={(row) => ({ className: row.symbol === selected ? "selected" : undefined, "aria-selected": row.symbol === selected })}
        empty="No instruments on your watchlist: add some with Edit list."
      />
      {editing && (
        <form
          className="watchlist-edit"
          aria-label="Edit watchlist"
          onSubmit={(event) => {
            event.preventDefault();
            addPicked();
          }}
        >
          <label htmlFor={`${id}-add`}>Add instrument</label>
          <select id={`${id}-add`} name="watchlist-add" value={addable.includes(adding) ? adding : (addable[0] ?? "")} onChange={(event) => setAdding(event.target.value)} disabled={addable.length === 0}>
            {addable.length === 0 && <option value="">All shown</option>}
            {addable.map((symbol) => (
              <option key={symbol} value={symbol}>
                {symbol}
              </option>
            ))}
          </select>
          <button type="submit" disabled={addable.length === 0}>
            Add
          </button>
          <button type="button" id={`${id}-reset`} aria-label="Reset watchlist" onClick={reset}>
            Reset
          </button>
        </form>
      )}
      <p className="visually-hidden" role="status" aria-live="polite">
        {announced}
      </p>
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
