// @vitest-environment jsdom
/**
 * The order ticket: exact grid checks, shape rules, limits, collar, funds,
 * notional and fee to the cent, and the keyboard (Enter sends, Esc clears).
 */
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState, type ReactElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./api.ts";
import { dayExpiry, Ticket } from "./components/Ticket.tsx";
import { checkTicket, collar, emptyDraft, orderRequest, rejectionMessage, withType, type TicketDraft, type TicketMarket } from "./ticket.ts";
import { testInstrument } from "./test-support.ts";
import type { Instrument, Order } from "./types.ts";

const sap: Instrument = testInstrument({ symbol: "SAP", isin: "DE0007164600", referencePrice: "229.80", lastPrice: "229.80", maxOrderNotional: "10000000.00" });

const market: TicketMarket = { instrument: sap, state: "open", referencePrice: "229.80", bestBid: "229.70", bestAsk: "229.90", availableCash: "1000000.00", availablePosition: "5000" };
const draft = (fields: Partial<TicketDraft>): TicketDraft => ({ ...emptyDraft, ...fields });

afterEach(cleanup);

describe("ticket rules", () => {
  it("accepts a price on the tick grid and a quantity on the lot grid, with notional and fee to the cent", () => {
    const check = checkTicket(draft({ price: "229.50", quantity: "10" }), market);
    expect(check.ok).toBe(true);
    expect(check.notional).toBe("2295.00");
    // The larger of maker (1 bps) and taker (3 bps), rounded down: 2295.00 × 0.0003 = 0.6885 → 0.68.
    expect(check.fee).toBe("0.68");
    expect(check.total).toBe("2295.68");
  });

  it("refuses values off the grids exactly, without float rounding", () => {
    expect(checkTicket(draft({ price: "229.505", quantity: "10" }), market).errors.price).toMatch(/multiple of the tick size 0.01/);
    expect(checkTicket(draft({ price: "229.50", quantity: "1.5" }), market).errors.quantity).toMatch(/multiple of the lot size 1/);
    // 0.1 + 0.2 style traps: 1.15 on a 0.05 grid is on the grid.
    const fine = { ...market, instrument: { ...sap, tickSize: "0.05", referencePrice: "1.20", maxOrderNotional: "100.00" }, referencePrice: "1.20" };
    expect(checkTicket(draft({ price: "1.15", quantity: "3" }), fine).errors.price).toBeUndefined();
    expect(checkTicket(draft({ price: "1.17", quantity: "3" }), fine).errors.price).toBeDefined();
    expect(checkTicket(draft({ price: "abc", quantity: "1" }), market).errors.price).toMatch(/number/);
    expect(checkTicket(draft({ price: "0", quantity: "1" }), market).errors.price).toMatch(/positive/);
    expect(checkTicket(draft({ price: "1e3", quantity: "1" }), market).errors.price).toMatch(/number/);
  });

  it("checks the maximum quantity at and past the limit", () => {
    expect(checkTicket(draft({ price: "229.50", quantity: "100000", side: "sell" }), { ...market, availablePosition: "200000" }).errors.quantity).toBeUndefined();
    expect(checkTicket(draft({ price: "229.50", quantity: "100001", side: "sell" }), { ...market, availablePosition: "200000" }).errors.quantity).toMatch(/max_quantity_exceeded/);
  });

  it("checks the maximum notional at and past the limit", () => {
    const limited = { ...market, instrument: { ...sap, maxOrderNotional: "2295.00" } };
    expect(checkTicket(draft({ price: "229.50", quantity: "10", side: "sell" }), limited).blocking).toBeNull();
    expect(checkTicket(draft({ price: "229.51", quantity: "10", side: "sell" }), limited).blocking).toMatch(/max_notional_exceeded/);
  });

  it("applies the engine's collar: reference ± floor(ref ticks × band)", () => {
    expect(collar(sap, "229.80")).toEqual({ low: "206.82", high: "252.78" });
    expect(checkTicket(draft({ price: "252.78", quantity: "1" }), market).errors.price).toBeUndefined();
    expect(checkTicket(draft({ price: "252.79", quantity: "1" }), market).errors.price).toMatch(/price_outside_collar/);
    expect(checkTicket(draft({ price: "206.81", quantity: "1" }), market).errors.price).toMatch(/collar/);
  });

  it("needs the cash for notional plus fee on a buy, and the shares on a sell", () => {
    expect(checkTicket(draft({ price: "229.50", quantity: "10" }), { ...market, availableCash: "2295.68" }).blocking).toBeNull();
    expect(checkTicket(draft({ price: "229.50", quantity: "10" }), { ...market, availableCash: "2295.67" }).blocking).toMatch(/insufficient_funds/);
    expect(checkTicket(draft({ price: "229.50", quantity: "5000", side: "sell" }), market).blocking).toBeNull();
    expect(checkTicket(draft({ price: "229.50", quantity: "5001", side: "sell" }), market).blocking).toMatch(/insufficient_position/);
  });

  it("refuses every order while the instrument is halted", () => {
    const check = checkTicket(draft({ price: "229.50", quantity: "1" }), { ...market, state: "halted" });
    expect(check.ok).toBe(false);
    expect(check.blocking).toMatch(/halted/);
  });

  it("keeps type, time in force, post-only and iceberg consistent", () => {
    const market_ = withType(draft({ timeInForce: "GTC", postOnly: true, displayQuantity: "5" }), "market");
    expect(market_).toMatchObject({ type: "market", timeInForce: "IOC", postOnly: false, displayQuantity: "" });
    expect(withType(draft({ timeInForce: "IOC" }), "stop").timeInForce).toBe("GTC");
    expect(checkTicket(draft({ price: "229.50", quantity: "10", timeInForce: "IOC", postOnly: true }), market).errors.postOnly).toBeDefined();
    expect(checkTicket(draft({ price: "229.50", quantity: "10", displayQuantity: "11" }), market).errors.displayQuantity).toMatch(/cannot exceed/);
    expect(checkTicket(draft({ price: "229.50", quantity: "10", displayQuantity: "2" }), market).ok).toBe(true);
    // A post-only order pays the maker fee: 2295.00 × 0.0001 = 0.2295 → 0.22.
    expect(checkTicket(draft({ price: "229.50", quantity: "10", postOnly: true }), market).fee).toBe("0.22");
  });

  it("estimates market and stop orders from the book and the stop price", () => {
    const buy = checkTicket(draft({ type: "market", timeInForce: "IOC", quantity: "2" }), market);
    expect(buy).toMatchObject({ notional: "459.80", notionalEstimated: true, ok: true });
    const stop = checkTicket(draft({ type: "stop", stopPrice: "231.00", quantity: "2", side: "sell" }), market);
    expect(stop).toMatchObject({ notional: "462.00", notionalEstimated: true, ok: true });
    expect(checkTicket(draft({ type: "stop_limit", stopPrice: "231.00", price: "231.50", quantity: "2" }), market).notional).toBe("463.00");
  });

  it("builds the API request with only the fields the type uses", () => {
    expect(orderRequest(draft({ price: "229.50", quantity: "10", displayQuantity: "2" }), "SAP", "c-1", 1001)).toEqual({ symbol: "SAP", side: "buy", type: "limit", timeInForce: "GTC", price: "229.50", quantity: "10", displayQuantity: "2", clientOrderId: "c-1", accountId: 1001 });
    expect(orderRequest(draft({ type: "market", timeInForce: "IOC", quantity: "1", price: "1" }), "SAP", "c-2", undefined)).toEqual({ symbol: "SAP", side: "buy", type: "market", timeInForce: "IOC", quantity: "1", clientOrderId: "c-2" });
  });

  it("explains rejections with the API's code", () => {
    expect(rejectionMessage("insufficient_funds", "Not enough available cash for this order or withdrawal.")).toMatch(/\(insufficient_funds\)$/);
    expect(rejectionMessage("something_new", "Server says no.")).toBe("Server says no. (something_new)");
  });
});

function Harness(props: { send: (body: Record<string, unknown>) => Promise<{ order: Order; fills: readonly unknown[] }>; initial?: Partial<TicketDraft>; market?: TicketMarket; dayClosesAt?: string | null }): ReactElement {
  const [value, setValue] = useState<TicketDraft>({ ...emptyDraft, ...props.initial });
  return <Ticket market={props.market ?? market} draft={value} onDraft={(update) => setValue(update)} send={props.send} accountId={1001} dayClosesAt={props.dayClosesAt ?? null} />;
}

const accepted = (body: Record<string, unknown>): { order: Order; fills: [] } => ({
  order: { orderId: 7, clientOrderId: String(body.clientOrderId), accountId: 1001, symbol: "SAP", side: "buy", type: "limit", timeInForce: "GTC", price: String(body.price), stopPrice: null, quantity: String(body.quantity), displayQuantity: null, postOnly: false, filledQuantity: "0", leavesQuantity: String(body.quantity), averagePrice: null, fees: "0.00", currency: "EUR", status: "new", cancelReason: null, createdAt: "", updatedAt: "" },
  fills: [],
});

describe("ticket component", () => {
  it("shows notional, fee and available balance as the user types", () => {
    render(<Harness send={vi.fn()} />);
    fireEvent.change(screen.getByLabelText(/^Quantity/), { target: { value: "10" } });
    fireEvent.change(screen.getByLabelText(/Limit price/), { target: { value: "229.50" } });
    expect(screen.getByTestId("notional").textContent).toContain("2,295.00");
    expect(screen.getByTestId("fee").textContent).toContain("0.68");
    expect(screen.getByTestId("available").textContent).toContain("1,000,000.00");
  });

  it("marks an off-grid field and does not send", async () => {
    const send = vi.fn();
    render(<Harness send={send} />);
    fireEvent.change(screen.getByLabelText(/^Quantity/), { target: { value: "10" } });
    fireEvent.change(screen.getByLabelText(/Limit price/), { target: { value: "229.505" } });
    expect(screen.getByLabelText(/Limit price/).getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText(/multiple of the tick size/)).toBeTruthy();
    await act(async () => {
      fireEvent.keyDown(screen.getByLabelText(/Limit price/), { key: "Enter" });
      fireEvent.submit(screen.getByRole("form"));
      await Promise.resolve();
    });
    expect(send).not.toHaveBeenCalled();
  });

  it("sends with Enter and reports the accepted order", async () => {
    const send = vi.fn((body: Record<string, unknown>) => Promise.resolve(accepted(body)));
    render(<Harness send={send} initial={{ price: "229.50", quantity: "10" }} />);
    await act(async () => {
      fireEvent.submit(screen.getByRole("form"));
      await Promise.resolve();
    });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]?.[0]).toMatchObject({ symbol: "SAP", side: "buy", type: "limit", price: "229.50", quantity: "10" });
    expect(screen.getByTestId("ticket-outcome").textContent).toMatch(/Order 7 new/);
  });

  it("shows the platform's rejection with its code", async () => {
    const send = vi.fn(() => Promise.reject(new ApiError(422, "post_only_would_cross", "A post-only order would have traded on entry.")));
    render(<Harness send={send} initial={{ price: "229.50", quantity: "10" }} />);
    await act(async () => {
      fireEvent.submit(screen.getByRole("form"));
      await Promise.resolve();
    });
    expect(screen.getByRole("alert").textContent).toMatch(/post_only_would_cross/);
  });

  it("clears with Esc, keeping the side", () => {
    render(<Harness send={vi.fn()} initial={{ side: "sell", price: "229.50", quantity: "10" }} />);
    fireEvent.keyDown(screen.getByLabelText(/^Quantity/), { key: "Escape" });
    expect(screen.getByLabelText<HTMLInputElement>(/^Quantity/).value).toBe("");
    expect(screen.getByRole("radio", { name: /Sell/ }).getAttribute("aria-checked")).toBe("true");
  });

  it("tells when a DAY order expires: the next close, in the reader's time zone; nothing for other times in force or without a close", () => {
    const close = "2026-12-24T13:05:00.000Z";
    render(<Harness send={vi.fn()} initial={{ timeInForce: "DAY" }} dayClosesAt={close} />);
    expect(screen.getByTestId("day-expiry").textContent).toBe(`Expires at the close: ${dayExpiry(close)}`);
    // The close at 13:05 UTC reads as the local time of the reader's zone.
    expect(dayExpiry(close, "en-GB", "Europe/Paris")).toBe("Thu 24 Dec, 14:05");
    expect(dayExpiry(close, "en-GB", "Asia/Tokyo")).toBe("Thu 24 Dec, 22:05");
    fireEvent.change(screen.getByLabelText(/Time in force/), { target: { value: "GTC" } });
    expect(screen.queryByTestId("day-expiry")).toBeNull();
    cleanup();
    render(<Harness send={vi.fn()} initial={{ timeInForce: "DAY" }} dayClosesAt={null} />);
    expect(screen.queryByTestId("day-expiry")).toBeNull();
  });

  it("refuses to send while the instrument is halted", async () => {
    const send = vi.fn();
    render(<Harness send={send} initial={{ price: "229.50", quantity: "1" }} market={{ ...market, state: "halted" }} />);
    expect(screen.getByRole("status").textContent).toBe("HALTED");
    await act(async () => {
      fireEvent.submit(screen.getByRole("form"));
      await Promise.resolve();
    });
    expect(send).not.toHaveBeenCalled();
    expect(screen.getByTestId("ticket-blocking").textContent).toMatch(/halted/);
  });
});
