/**
 * The blotter: open orders (cancel; amend price and quantity inline), order
 * history, fills, positions with P&L marked to the reference price, and cash per
 * currency (balance, reserved by open orders, available).
 */
import { useState, type FormEvent, type KeyboardEvent, type ReactElement } from "react";
import { ApiError } from "../api.ts";
import { useApp, useLive } from "../context.ts";
import { money, num, time } from "../format.ts";
import { markPosition } from "../pnl.ts";
import { add, formatDec, parseDec, type Dec } from "../decimal.ts";
import { currencyDecimals, rejectionMessage } from "../ticket.ts";
import type { Order } from "../types.ts";

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
  const orders = store.openOrders();
  return (
    <>
      {error !== null && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table className="blotter-table" aria-label="Open orders">
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Symbol</th>
            <th scope="col">Side</th>
            <th scope="col">Type</th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Qty
            </th>
            <th scope="col" className="num">
              Filled
            </th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {orders.length === 0 && (
            <tr>
              <td colSpan={9} className="muted">
                No open orders.
              </td>
            </tr>
          )}
          {orders.map((order) => (
            <tr key={order.orderId} data-order-id={order.orderId}>
              <td>{order.orderId}</td>
              <td>{order.symbol}</td>
              <td className={order.side}>{order.side}</td>
              <td>
                {order.type}
                {order.displayQuantity === null ? "" : " (iceberg)"}
                {order.postOnly ? " post-only" : ""}
              </td>
              {amending === order.orderId ? (
                <td colSpan={5}>
                  <AmendRow order={order} onDone={() => setAmending(null)} />
                </td>
              ) : (
                <>
                  <td className="num">{num(order.price ?? order.stopPrice)}</td>
                  <td className="num">{num(order.quantity)}</td>
                  <td className="num">{num(order.filledQuantity)}</td>
                  <td>{order.status.replace("_", " ")}</td>
                  <td className="actions">
                    {order.type === "limit" && (
                      <button type="button" onClick={() => setAmending(order.orderId)} aria-label={`Amend order ${String(order.orderId)}`}>
                        Amend
                      </button>
                    )}
                    <button type="button" onClick={() => void cancel(order)} aria-label={`Cancel order ${String(order.orderId)}`}>
                      Cancel
                    </button>
                  </td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function OrderTable(props: { orders: readonly Order[]; label: string; showAccount?: boolean }): ReactElement {
  return (
    <table className="blotter-table" aria-label={props.label}>
      <thead>
        <tr>
          <th scope="col">Order</th>
          {props.showAccount === true && <th scope="col">Account</th>}
          <th scope="col">Time</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col">Type</th>
          <th scope="col" className="num">
            Price
          </th>
          <th scope="col" className="num">
            Qty
          </th>
          <th scope="col" className="num">
            Filled
          </th>
          <th scope="col" className="num">
            Avg
          </th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {props.orders.map((order) => (
          <tr key={order.orderId} data-order-id={order.orderId}>
            <td>{order.orderId}</td>
            {props.showAccount === true && <td>{order.accountId}</td>}
            <td>{time(order.updatedAt)}</td>
            <td>{order.symbol}</td>
            <td className={order.side}>{order.side}</td>
            <td>{order.type}</td>
            <td className="num">{num(order.price ?? order.stopPrice)}</td>
            <td className="num">{num(order.quantity)}</td>
            <td className="num">{num(order.filledQuantity)}</td>
            <td className="num">{num(order.averagePrice)}</td>
            <td>
              {order.status.replace("_", " ")}
              {order.cancelReason === null ? "" : ` (${order.cancelReason})`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Fills(): ReactElement {
  const store = useLive();
  return (
    <table className="blotter-table" aria-label="Fills">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Order</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col" className="num">
            Price
          </th>
          <th scope="col" className="num">
            Qty
          </th>
          <th scope="col" className="num">
            Notional
          </th>
          <th scope="col" className="num">
            Fee
          </th>
          <th scope="col">Liquidity</th>
        </tr>
      </thead>
      <tbody>
        {store.fills.slice(0, 200).map((fill) => (
          <tr key={`${String(fill.tradeId)}:${String(fill.orderId)}`}>
            <td>{time(fill.time)}</td>
            <td>{fill.orderId}</td>
            <td>{fill.symbol}</td>
            <td className={fill.side}>{fill.side}</td>
            <td className="num">{num(fill.price)}</td>
            <td className="num">{num(fill.quantity)}</td>
            <td className="num">{money(fill.notional, fill.currency)}</td>
            <td className="num">{money(fill.fee, fill.currency)}</td>
            <td>{fill.liquidity}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Positions(): ReactElement {
  const store = useLive();
  const { config } = useApp();
  const rows = [...store.positions.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));
  // Totals in the configured currency (positions in other currencies are not converted).
  let totalValue: Dec = { units: 0n, scale: 0 };
  let totalPnl: Dec = { units: 0n, scale: 0 };
  return (
    <table className="blotter-table" aria-label="Positions">
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col">Symbol</th>
          <th scope="col" className="num">
            Position
          </th>
          <th scope="col" className="num">
            Reserved
          </th>
          <th scope="col" className="num">
            Available
          </th>
          <th scope="col" className="num">
            Mark (ref.)
          </th>
          <th scope="col" className="num">
            Market value
          </th>
          <th scope="col" className="num">
            P&amp;L
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((position) => {
          const instrument = store.instruments.get(position.symbol);
          const currency = instrument?.currency ?? config.currency;
          const mark = store.tickers.get(position.symbol)?.referencePrice ?? instrument?.referencePrice ?? null;
          const marked = markPosition({ symbol: position.symbol, currency, position: position.position, mark, fills: store.fills.filter((fill) => fill.accountId === position.accountId) });
          if (currency === config.currency) {
            totalValue = add(totalValue, parseDec(marked.marketValue ?? "0") ?? totalValue);
            totalPnl = add(totalPnl, parseDec(marked.pnl ?? "0") ?? totalPnl);
          }
          const pnlClass = marked.pnl === null ? "" : marked.pnl.startsWith("-") ? "down" : marked.pnl.replace(/[0.]/g, "") === "" ? "" : "up";
          return (
            <tr key={`${String(position.accountId)}:${position.symbol}`} data-symbol={position.symbol}>
              <td>{position.accountId}</td>
              <td>{position.symbol}</td>
              <td className="num" data-testid={`position-${position.symbol}`}>
                {num(position.position)}
              </td>
              <td className="num">{num(position.reserved)}</td>
              <td className="num">{num(position.available)}</td>
              <td className="num">{num(mark)}</td>
              <td className="num">{money(marked.marketValue, currency)}</td>
              <td className={`num ${pnlClass}`} data-testid={`pnl-${position.symbol}`}>
                {money(marked.pnl, currency)}
              </td>
            </tr>
          );
        })}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={6}>
            Total ({config.currency})
          </th>
          <td className="num">{money(formatDec(totalValue, currencyDecimals(config.currency)), config.currency)}</td>
          <td className="num" data-testid="pnl-total">
            {money(formatDec(totalPnl, currencyDecimals(config.currency)), config.currency)}
          </td>
        </tr>
      </tfoot>
    </table>
  );
}

function Balances(): ReactElement {
  const store = useLive();
  const rows = [...store.balances.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  return (
    <table className="blotter-table" aria-label="Balances">
      <thead>
        <tr>
          <th scope="col">Account</th>
          <th scope="col">Currency</th>
          <th scope="col" className="num">
            Balance
          </th>
          <th scope="col" className="num">
            Reserved
          </th>
          <th scope="col" className="num">
            Available
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((balance) => (
          <tr key={`${String(balance.accountId)}:${balance.currency}`}>
            <td>{balance.accountId}</td>
            <td>{balance.currency}</td>
            <td className="num">{money(balance.balance, balance.currency)}</td>
            <td className="num" data-testid={`reserved-${balance.currency}`}>
              {money(balance.reserved, balance.currency)}
            </td>
            <td className="num" data-testid={`available-${balance.currency}`}>
              {money(balance.available, balance.currency)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
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
