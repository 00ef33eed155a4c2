/**
 * The blotter: open orders (cancel; amend price and quantity inline), order
 * history, fills, positions with P&L marked to the reference price, and cash per
 * currency (balance, reserved by open orders, available).
 */
import { useState, type FormEvent, type KeyboardEvent, type ReactElement } from "react";
import { ApiError } from "../api.ts";
import { useApp, useLive } from "../context.ts";
import { money, time } from "../format.ts";
import { markPosition } from "../pnl.ts";
import { add, formatDec, parseDec, type Dec } from "../decimal.ts";
import { currencyDecimals, rejectionMessage } from "../ticket.ts";
import type { Balance, Fill, Order, Position, Side } from "../types.ts";
import { amount, DataTable, figure, type Column, type RowAttributes } from "./DataTable.tsx";

type Tab = "open" | "history" | "fills" | "positions" | "balances";
const tabs: ReadonlyArray<{ id: Tab; label: string }> = [
  { id: "open", label: "Open orders" },
  { id: "history", label: "Order history" },
  { id: "fills", label: "Fills" },
  { id: "positions", label: "Positions" },
  { id: "balances", label: "Balances" },
];

function AmendRow(props: { order: Order; onDone: () => void }): ReactElement {
  const { session, store } = useApp();
  const [price, setPrice] = useState(props.order.price ?? "");
  const [quantity, setQuantity] = useState(props.order.quantity);
  const [error, setError] = useState<string | null>(null);
  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const body: Record<string, string> = {};
    if (price !== (props.order.price ?? "")) body.price = price.trim();
    if (quantity !== props.order.quantity) body.quantity = quantity.trim();
    if (Object.keys(body).length === 0) {
      props.onDone();
      return;
    }
    try {
      const answer = await session.request<{ order: Order }>("PATCH", `/api/v1/orders/${String(props.order.orderId)}`, body);
      store.upsertOrder(answer.order);
      store.flush();
      props.onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? rejectionMessage(caught.code, caught.message) : "The amendment failed.");
    }
  };
  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === "Escape") {
      event.stopPropagation();
      props.onDone();
    }
  };
  return (
    <form className="amend" onSubmit={(event) => void save(event)} onKeyDown={onKeyDown} aria-label={`Amend order ${String(props.order.orderId)}`}>
      <label>
        Price
        <input name="amend-price" value={price} onChange={(event) => setPrice(event.target.value)} inputMode="decimal" autoFocus />
      </label>
      <label>
        Quantity
        <input name="amend-quantity" value={quantity} onChange={(event) => setQuantity(event.target.value)} inputMode="decimal" />
      </label>
      <button type="submit" className="primary">
        Save
      </button>
      <button type="button" onClick={props.onDone}>
        Back
      </button>
      {error !== null && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </form>
  );
}

/** Columns the order tables share. */
const orderColumn: Column<Order> = { header: "Order", cell: (order) => order.orderId };
const accountColumn: Column<{ accountId: number }> = { header: "Account", cell: (row) => row.accountId };
const symbolColumn: Column<{ symbol: string }> = { header: "Symbol", cell: (row) => row.symbol };
const sideColumn: Column<{ side: Side }> = { header: "Side", cell: (row) => row.side, cellClass: (row) => row.side };
const orderPriceColumn = figure<Order>("Price", (order) => order.price ?? order.stopPrice);
const orderQuantityColumn = figure<Order>("Qty", (order) => order.quantity);
const filledColumn = figure<Order>("Filled", (order) => order.filledQuantity);
const status = (order: Order): string => order.status.replace("_", " ");
const orderRowProps = (order: Order): RowAttributes => ({ "data-order-id": order.orderId });

function OpenOrders(): ReactElement {
  const store = useLive();
  const { session } = useApp();
  const [amending, setAmending] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cancel = async (order: Order): Promise<void> => {
    setError(null);
    try {
      const answer = await session.request<{ order: Order }>("DELETE", `/api/v1/orders/${String(order.orderId)}`);
      store.upsertOrder(answer.order);
      store.flush();
    } catch (caught) {
      setError(caught instanceof ApiError ? rejectionMessage(caught.code, caught.message) : "The cancel failed.");
    }
  };
  const columns: ReadonlyArray<Column<Order>> = [
    orderColumn,
    symbolColumn,
    sideColumn,
    { header: "Type", cell: (order) => `${order.type}${order.displayQuantity === null ? "" : " (iceberg)"}${order.postOnly ? " post-only" : ""}` },
    orderPriceColumn,
    orderQuantityColumn,
    filledColumn,
    { header: "Status", cell: status },
    {
      header: "Actions",
      cellClass: () => "actions",
      cell: (order) => (
        <>
          {order.type === "limit" && (
            <button type="button" onClick={() => setAmending(order.orderId)} aria-label={`Amend order ${String(order.orderId)}`}>
              Amend
            </button>
          )}
          <button type="button" onClick={() => void cancel(order)} aria-label={`Cancel order ${String(order.orderId)}`}>
            Cancel
          </button>
        </>
      ),
    },
  ];
  return (
    <>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <DataTable
        className="blotter-table"
        aria-label="Open orders"
        columns={columns}
        rows={store.openOrders()}
        rowKey={(order) => order.orderId}
        rowProps={orderRowProps}
        empty="No open orders."
        // Price to actions give way to the inline amendment form.
        collapse={(order) => (amending === order.orderId ? { from: columns.indexOf(orderPriceColumn), content: <AmendRow order={order} onDone={() => setAmending(null)} /> } : null)}
      />
    </>
  );
}

const historyColumns: ReadonlyArray<Column<Order>> = [
  { header: "Time", cell: (order) => time(order.updatedAt) },
  symbolColumn,
  sideColumn,
  { header: "Type", cell: (order) => order.type },
  orderPriceColumn,
  orderQuantityColumn,
  filledColumn,
  figure<Order>("Avg", (order) => order.averagePrice),
  { header: "Status", cell: (order) => `${status(order)}${order.cancelReason === null ? "" : ` (${order.cancelReason})`}` },
];

export function OrderTable(props: { orders: readonly Order[]; label: string; showAccount?: boolean }): ReactElement {
  const columns = [orderColumn, ...(props.showAccount === true ? [accountColumn] : []), ...historyColumns];
  return <DataTable className="blotter-table" aria-label={props.label} columns={columns} rows={props.orders} rowKey={(order) => order.orderId} rowProps={orderRowProps} />;
}

const fillColumns: ReadonlyArray<Column<Fill>> = [
  { header: "Time", cell: (fill) => time(fill.time) },
  { header: "Order", cell: (fill) => fill.orderId },
  symbolColumn,
  sideColumn,
  figure<Fill>("Price", (fill) => fill.price),
  figure<Fill>("Qty", (fill) => fill.quantity),
  amount<Fill>("Notional", (fill) => fill.notional, (fill) => fill.currency),
  amount<Fill>("Fee", (fill) => fill.fee, (fill) => fill.currency),
  { header: "Liquidity", cell: (fill) => fill.liquidity },
];

function Fills(): ReactElement {
  const store = useLive();
  return <DataTable className="blotter-table" aria-label="Fills" columns={fillColumns} rows={store.fills.slice(0, 200)} rowKey={(fill) => `${String(fill.tradeId)}:${String(fill.orderId)}`} />;
}

interface MarkedPosition {
  readonly position: Position;
  readonly currency: string;
  readonly mark: string | null;
  readonly marketValue: string | null;
  readonly pnl: string | null;
}

const positionColumns: ReadonlyArray<Column<MarkedPosition>> = [
  { header: "Account", cell: (row) => row.position.accountId },
  { header: "Symbol", cell: (row) => row.position.symbol },
  figure<MarkedPosition>("Position", (row) => row.position.position, { testId: (row) => `position-${row.position.symbol}` }),
  figure<MarkedPosition>("Reserved", (row) => row.position.reserved),
  figure<MarkedPosition>("Available", (row) => row.position.available),
  figure<MarkedPosition>("Mark (ref.)", (row) => row.mark),
  amount<MarkedPosition>("Market value", (row) => row.marketValue, (row) => row.currency),
  amount<MarkedPosition>("P&L", (row) => row.pnl, (row) => row.currency, {
    cellClass: (row) => (row.pnl === null ? "" : row.pnl.startsWith("-") ? "down" : row.pnl.replace(/[0.]/g, "") === "" ? "" : "up"),
    testId: (row) => `pnl-${row.position.symbol}`,
  }),
];

function Positions(): ReactElement {
  const store = useLive();
  const { config } = useApp();
  const rows = [...store.positions.values()]
    .sort((a, b) => a.symbol.localeCompare(b.symbol))
    .map((position): MarkedPosition => {
      const instrument = store.instruments.get(position.symbol);
      const currency = instrument?.currency ?? config.currency;
      const mark = store.tickers.get(position.symbol)?.referencePrice ?? instrument?.referencePrice ?? null;
      const marked = markPosition({ symbol: position.symbol, currency, position: position.position, mark, fills: store.fills.filter((fill) => fill.accountId === position.accountId) });
      return { position, currency, mark, marketValue: marked.marketValue, pnl: marked.pnl };
    });
  // Totals in the configured currency (positions in other currencies are not converted).
  let totalValue: Dec = { units: 0n, scale: 0 };
  let totalPnl: Dec = { units: 0n, scale: 0 };
  for (const row of rows) {
    if (row.currency !== config.currency) continue;
    totalValue = add(totalValue, parseDec(row.marketValue ?? "0") ?? totalValue);
    totalPnl = add(totalPnl, parseDec(row.pnl ?? "0") ?? totalPnl);
  }
  const total = (value: Dec): string => money(formatDec(value, currencyDecimals(config.currency)), config.currency);
  return (
    <DataTable
      className="blotter-table"
      aria-label="Positions"
      columns={positionColumns}
      rows={rows}
      rowKey={(row) => `${String(row.position.accountId)}:${row.position.symbol}`}
      rowProps={(row) => ({ "data-symbol": row.position.symbol })}
      footer={
        <tr>
          <th scope="row" colSpan={positionColumns.length - 2}>
            Total ({config.currency})
          </th>
          <td className="num">{total(totalValue)}</td>
          <td className="num" data-testid="pnl-total">
            {total(totalPnl)}
          </td>
        </tr>
      }
    />
  );
}

const balanceColumns: ReadonlyArray<Column<Balance>> = [
  accountColumn,
  { header: "Currency", cell: (balance) => balance.currency },
  amount<Balance>("Balance", (balance) => balance.balance, (balance) => balance.currency),
  amount<Balance>("Reserved", (balance) => balance.reserved, (balance) => balance.currency, { testId: (balance) => `reserved-${balance.currency}` }),
  amount<Balance>("Available", (balance) => balance.available, (balance) => balance.currency, { testId: (balance) => `available-${balance.currency}` }),
];

function Balances(): ReactElement {
  const store = useLive();
  const rows = [...store.balances.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  return <DataTable className="blotter-table" aria-label="Balances" columns={balanceColumns} rows={rows} rowKey={(balance) => `${String(balance.accountId)}:${balance.currency}`} />;
}

export function Blotter(): ReactElement {
  const [tab, setTab] = useState<Tab>("open");
  const store = useLive();
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const index = tabs.findIndex((item) => item.id === tab);
    const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    if (next !== undefined) {
      setTab(next.id);
      document.getElementById(`tab-${next.id}`)?.focus();
    }
  };
  return (
    <section className="panel blotter" aria-label="Blotter">
      <div role="tablist" aria-label="Blotter" onKeyDown={onKeyDown}>
        {tabs.map((item) => (
          <button key={item.id} id={`tab-${item.id}`} type="button" role="tab" aria-selected={tab === item.id} aria-controls={`panel-${item.id}`} tabIndex={tab === item.id ? 0 : -1} onClick={() => setTab(item.id)}>
            {item.label}
            {item.id === "open" ? ` (${String(store.openOrders().length)})` : ""}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === "open" && <OpenOrders />}
        {tab === "history" && <OrderTable orders={store.orderHistory().slice(0, 200)} label="Order history" />}
        {tab === "fills" && <Fills />}
        {tab === "positions" && <Positions />}
        {tab === "balances" && <Balances />}
      </div>
    </section>
  );
}
