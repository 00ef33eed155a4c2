/**
 * The order ticket. Every field is checked as it is typed (ticket.ts: grids,
 * shape, size, collar, funds) and the notional, fee estimate and available
 * balance are shown before sending. Keyboard-first: B and S pick the side from
 * anywhere on the trade screen, Enter sends, Esc clears. A rejection from the
 * platform is shown with its error code.
 */
import { useId, useState, type FormEvent, type KeyboardEvent, type ReactElement, type RefObject } from "react";
import { ApiError } from "../api.ts";
import { money, num } from "../format.ts";
import { allowedTifs, checkTicket, emptyDraft, hasLimitPrice, hasStopPrice, orderRequest, rejectionMessage, withType, type TicketDraft, type TicketMarket } from "../ticket.ts";
import type { Order, OrderType, TimeInForce } from "../types.ts";

export interface TicketProps {
  readonly market: TicketMarket;
  readonly draft: TicketDraft;
  readonly onDraft: (update: (draft: TicketDraft) => TicketDraft) => void;
  /** Sends the order; resolves with the platform's answer or throws its ApiError. */
  readonly send: (body: Record<string, unknown>) => Promise<{ order: Order; fills: readonly unknown[] }>;
  readonly accountId: number | null;
  /** Names the account on the ticket (for users who pick one of several). */
  readonly showAccount?: boolean;
  readonly quantityRef?: RefObject<HTMLInputElement | null>;
  /** The next close of the trading day (ISO time), when DAY orders expire; null or left out when there is none. */
  readonly dayClosesAt?: string | null;
}

/** When a DAY order entered now expires, in the reader's language and time zone unless given: "Thu 24 Dec, 14:05". */
export function dayExpiry(iso: string, locale?: string, timeZone?: string): string {
  return new Date(iso).toLocaleString(locale, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", ...(timeZone === undefined ? {} : { timeZone }) });
}

type Outcome = { readonly kind: "ok" | "error"; readonly text: string } | null;

const typeLabels: Readonly<Record<OrderType, string>> = { limit: "Limit", market: "Market", stop: "Stop", stop_limit: "Stop-limit" };
let clientOrderSeq = 0;

/** A client order id unique for this tab and day: the time plus a counter. */
export function newClientOrderId(): string {
  clientOrderSeq += 1;
  return `ui-${Date.now().toString(36)}-${String(clientOrderSeq)}`;
}

export function Ticket(props: TicketProps): ReactElement {
  const { market, draft, onDraft } = props;
  const { instrument } = market;
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [sending, setSending] = useState(false);
  const [touched, setTouched] = useState(false);
  const id = useId();
  const check = checkTicket(draft, market);
  const set = <K extends keyof TicketDraft>(key: K, value: TicketDraft[K]): void => onDraft((current) => ({ ...current, [key]: value }));
  const canTrade = props.accountId !== null;

  const submit = async (event?: FormEvent): Promise<void> => {
    event?.preventDefault();
    setTouched(true);
    if (!check.ok || sending || !canTrade) {
      // A blocking problem is already on screen; field problems are marked at their fields.
      setOutcome(check.ok || check.blocking !== null ? null : { kind: "error", text: "Correct the highlighted fields first." });
      return;
    }
    setSending(true);
    setOutcome(null);
    try {
      const answer = await props.send(orderRequest(draft, instrument.symbol, newClientOrderId(), props.accountId ?? undefined));
      const order = answer.order;
      const filled = order.filledQuantity !== "0" ? `, ${order.filledQuantity} filled` : "";
      setOutcome({ kind: "ok", text: `Order ${String(order.orderId)} ${order.status.replace("_", " ")}: ${order.side} ${order.quantity} ${order.symbol}${order.price === null ? "" : ` @ ${order.price}`}${filled}.` });
      setTouched(false);
    } catch (error) {
      setOutcome({ kind: "error", text: error instanceof ApiError ? rejectionMessage(error.code, error.message) : "The order could not be sent." });
    } finally {
      setSending(false);
    }
  };

  const clear = (): void => {
    onDraft((current) => ({ ...emptyDraft, side: current.side }));
    setOutcome(null);
    setTouched(false);
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === "Escape") {
      event.preventDefault();
      clear();
    }
  };

  const fieldError = (field: keyof typeof check.errors, value: string): string | undefined => (touched || value !== "" ? check.errors[field] : undefined);
  const errorProps = (field: keyof typeof check.errors, value: string): { "aria-invalid": boolean; "aria-describedby"?: string } => {
    const message = fieldError(field, value);
    return message === undefined ? { "aria-invalid": false } : { "aria-invalid": true, "aria-describedby": `${id}-${field}-error` };
  };
  const errorText = (field: keyof typeof check.errors, value: string): ReactElement | null => {
    const message = fieldError(field, value);
    return message === undefined ? null : (
      <span className="field-error" id={`${id}-${field}-error`}>
        {message}
      </span>
    );
  };

  const available = draft.side === "buy" ? (market.availableCash === null ? "—" : money(market.availableCash, instrument.currency)) : market.availablePosition === null ? "—" : `${num(market.availablePosition)} ${instrument.symbol}`;

  return (
    <form
      className={`ticket side-${draft.side}`}
      onSubmit={(event) => void submit(event)}
      onKeyDown={onKeyDown}
      aria-label={`Order ticket for ${instrument.symbol}${props.showAccount === true && props.accountId !== null ? `, account ${String(props.accountId)}` : ""}`}
      noValidate
    >
      <h2>
        Order ticket <span className="symbol">{instrument.symbol}</span>
        {market.state !== "open" && (
          <span className="badge halted" role="status">
            {market.state.toUpperCase()}
          </span>
        )}
      </h2>
      <div className="side-switch" role="radiogroup" aria-label="Side">
        <button type="button" role="radio" aria-checked={draft.side === "buy"} className={draft.side === "buy" ? "buy active" : "buy"} onClick={() => set("side", "buy")} title="Buy (B)">
          Buy <kbd>B</kbd>
        </button>
        <button type="button" role="radio" aria-checked={draft.side === "sell"} className={draft.side === "sell" ? "sell active" : "sell"} onClick={() => set("side", "sell")} title="Sell (S)">
          Sell <kbd>S</kbd>
        </button>
      </div>
      <div className="row">
        <label>
          Type
          <select value={draft.type} onChange={(event) => onDraft((current) => withType(current, event.target.value as OrderType))}>
            {(Object.keys(typeLabels) as OrderType[]).map((type) => (
              <option key={type} value={type}>
                {typeLabels[type]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Time in force
          <select value={draft.timeInForce} onChange={(event) => set("timeInForce", event.target.value as TimeInForce)} {...errorProps("timeInForce", "x")}>
            {allowedTifs(draft.type).map((tif) => (
              <option key={tif} value={tif}>
                {tif}
              </option>
            ))}
          </select>
          {draft.timeInForce === "DAY" && props.dayClosesAt != null && (
            <small className="muted" data-testid="day-expiry">
              Expires at the close: {dayExpiry(props.dayClosesAt)}
            </small>
          )}
        </label>
      </div>
      <label>
        <span>
          Quantity <span className="muted">(lot {instrument.lotSize})</span>
        </span>
        <input ref={props.quantityRef} name="quantity" inputMode="decimal" autoComplete="off" value={draft.quantity} onChange={(event) => set("quantity", event.target.value)} {...errorProps("quantity", draft.quantity)} />
        {errorText("quantity", draft.quantity)}
      </label>
      {hasLimitPrice(draft.type) && (
        <label>
          <span>
            Limit price <span className="muted">(tick {instrument.tickSize})</span>
          </span>
          <input name="price" inputMode="decimal" autoComplete="off" value={draft.price} onChange={(event) => set("price", event.target.value)} {...errorProps("price", draft.price)} />
          {errorText("price", draft.price)}
        </label>
      )}
      {hasStopPrice(draft.type) && (
        <label>
          Stop price
          <input name="stopPrice" inputMode="decimal" autoComplete="off" value={draft.stopPrice} onChange={(event) => set("stopPrice", event.target.value)} {...errorProps("stopPrice", draft.stopPrice)} />
          {errorText("stopPrice", draft.stopPrice)}
        </label>
      )}
      {draft.type === "limit" && (
        <div className="row">
          <label>
            Iceberg display qty
            <input name="displayQuantity" inputMode="decimal" autoComplete="off" placeholder="all" value={draft.displayQuantity} onChange={(event) => set("displayQuantity", event.target.value)} {...errorProps("displayQuantity", draft.displayQuantity)} />
            {errorText("displayQuantity", draft.displayQuantity)}
          </label>
          <label className="check">
            <input type="checkbox" checked={draft.postOnly} onChange={(event) => set("postOnly", event.target.checked)} {...errorProps("postOnly", draft.postOnly ? "x" : "")} />
            Post-only
            {errorText("postOnly", draft.postOnly ? "x" : "")}
          </label>
        </div>
      )}
      <dl className="summary" aria-label="Order summary">
        {props.showAccount === true && props.accountId !== null && (
          <div>
            <dt>Account</dt>
            <dd data-testid="ticket-account">{props.accountId}</dd>
          </div>
        )}
        <div>
          <dt>Notional{check.notionalEstimated ? " (est.)" : ""}</dt>
          <dd data-testid="notional">{money(check.notional, instrument.currency)}</dd>
        </div>
        <div>
          <dt>Fee estimate</dt>
          <dd data-testid="fee">{money(check.fee, instrument.currency)}</dd>
        </div>
        <div>
          <dt>Available</dt>
          <dd data-testid="available">{available}</dd>
        </div>
      </dl>
      {check.blocking !== null && (touched || draft.quantity !== "" || market.state !== "open") && (
        <p className="error" role="alert" data-testid="ticket-blocking">
          {check.blocking}
        </p>
      )}
      {outcome !== null && (
        <p className={outcome.kind === "ok" ? "ok" : "error"} role={outcome.kind === "ok" ? "status" : "alert"} data-testid="ticket-outcome">
          {outcome.text}
        </p>
      )}
      {!canTrade && <p className="muted">No trading account is assigned to you.</p>}
      <div className="row">
        <button type="submit" className={`primary ${draft.side}`} disabled={sending || !canTrade} aria-disabled={!check.ok}>
          {draft.side === "buy" ? "Buy" : "Sell"} {instrument.symbol} <kbd>Enter</kbd>
        </button>
        <button type="button" onClick={clear}>
          Clear <kbd>Esc</kbd>
        </button>
      </div>
    </form>
  );
}
