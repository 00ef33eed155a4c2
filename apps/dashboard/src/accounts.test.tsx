// @vitest-environment jsdom
/**
 * The trading-account picker: shown only for users with several accounts,
 * labelled and announced; picking an account switches the ticket, the blotter,
 * the balances and the private WebSocket channels (unsubscribing the previous
 * account's first), drops late updates of the previous account, and is
 * remembered for the session. A single-account user's screen is unchanged.
 */
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { accountHistoryPaths, accountSubscriptions, initialAccount, rememberAccount } from "./accounts.ts";
import { App } from "./App.tsx";
import { AccountPicker } from "./components/AccountPicker.tsx";
import { dayExpiry } from "./components/Ticket.tsx";
import { defaultConfig } from "./config.ts";
import { Store } from "./store.ts";
import { FakeSocket, testInstrument } from "./test-support.ts";
import type { Fill, Instrument, Order, User } from "./types.ts";

vi.mock("./components/Chart.tsx", () => ({ default: () => null }));

const sap: Instrument = testInstrument({ symbol: "SAP", isin: "DE0007164600", referencePrice: "230.00", lastPrice: "230.00" });

const order = (orderId: number, accountId: number, price: string): Order => ({
  orderId,
  clientOrderId: `c${String(orderId)}`,
  accountId,
  symbol: "SAP",
  side: "buy",
  type: "limit",
  timeInForce: "GTC",
  price,
  stopPrice: null,
  quantity: "5",
  displayQuantity: null,
  postOnly: false,
  filledQuantity: "0",
  leavesQuantity: "5",
  averagePrice: null,
  fees: "0.00",
  currency: "EUR",
  status: "new",
  cancelReason: null,
  createdAt: "2026-01-05T09:00:00.000Z",
  updatedAt: "2026-01-05T09:00:00.000Z",
});

const fill = (tradeId: number, orderId: number, accountId: number): Fill => ({
  tradeId,
  orderId,
  accountId,
  symbol: "SAP",
  side: "buy",
  price: "229.00",
  quantity: "1",
  notional: "229.00",
  fee: "0.06",
  currency: "EUR",
  liquidity: "taker",
  time: "2026-01-05T09:00:01.000Z",
});

const balance = (accountId: number, available: string): Record<string, unknown> => ({ type: "balance", channel: "balances", accountId, currency: "EUR", balance: available, reserved: "0.00", available });

/** The trading day's next close as the stubbed platform tells it. */
const nextCloseAt = "2026-12-24T13:05:00.000Z";

/** The platform's REST answers for one user: each account has one open order and one fill. */
function stubPlatform(user: User): { paths: string[] } {
  const paths: string[] = [];
  const json = (body: unknown): Response => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string) => {
      paths.push(url);
      const parsed = new URL(url, "http://dashboard.test");
      const accountId = Number(parsed.searchParams.get("accountId"));
      const accounts = parsed.searchParams.has("accountId") ? [accountId] : user.accountIds;
      switch (parsed.pathname) {
        case "/api/v1/auth/me":
          return Promise.resolve(json(user));
        case "/api/v1/markets":
          return Promise.resolve(json({ items: [sap] }));
        case "/api/v1/trading-day":
          return Promise.resolve(json({ closesAt: "17:30 Europe/Paris Mon-Fri, holidays euronext", nextCloseAt, startedAt: null }));
        case "/api/v1/orders":
          return Promise.resolve(json({ items: accounts.map((id) => order(id * 10, id, `${String(id % 1000)}.00`)), nextCursor: null }));
        case "/api/v1/fills":
          return Promise.resolve(json({ items: accounts.map((id) => fill(id * 10, id * 10, id)), nextCursor: null }));
        default:
          return Promise.resolve(json({ items: [] }));
      }
    }),
  );
  return { paths };
}

const trader = (accountIds: number[]): User => ({ userId: 7, username: "desk", displayName: "Desk Trader", groups: ["authorized-traders"], accountIds, mfaEnrolled: true, roles: ["trader"] });

async function signedIn(user: User): Promise<{ socket: FakeSocket; paths: string[] }> {
  const { paths } = stubPlatform(user);
  sessionStorage.setItem("tradestream.session", JSON.stringify({ accessToken: "a", refreshToken: "r", expiresAtMs: Date.now() + 900_000 }));
  render(<App config={{ ...defaultConfig, refreshRate: 50 }} />);
  await screen.findByRole("form", { name: /Order ticket for SAP/ });
  const socket = FakeSocket.all[0];
  if (socket === undefined) throw new Error("no socket");
  await act(async () => {
    socket.open();
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
    socket.receive({ type: "authenticated" });
  });
  return { socket, paths };
}

const openOrderIds = (): Array<string | null> => within(screen.getByRole("table", { name: "Open orders" })).queryAllByRole("row").map((row) => row.getAttribute("data-order-id")).filter((id) => id !== null);

beforeEach(() => {
  vi.stubGlobal("WebSocket", FakeSocket);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
  FakeSocket.all = [];
});

describe("account picker", () => {
  it("is not shown for a user with one account (or none)", () => {
    const { container, rerender } = render(<AccountPicker accountIds={[1001]} accountId={1001} onSelect={() => undefined} />);
    expect(container.innerHTML).toBe("");
    rerender(<AccountPicker accountIds={[]} accountId={null} onSelect={() => undefined} />);
    expect(container.innerHTML).toBe("");
  });

  it("is a labelled, focusable select that reports the pick and announces it", () => {
    const onSelect = vi.fn();
    render(<AccountPicker accountIds={[1002, 1003]} accountId={1002} onSelect={onSelect} />);
    const select = screen.getByLabelText<HTMLSelectElement>("Trading account");
    expect(select.tagName).toBe("SELECT");
    expect(select.value).toBe("1002");
    expect(within(select).getAllByRole("option").map((option) => option.textContent)).toEqual(["1002", "1003"]);
    select.focus();
    expect(document.activeElement).toBe(select);
    fireEvent.change(select, { target: { value: "1003" } });
    expect(onSelect).toHaveBeenCalledWith(1003);
    expect(screen.getByRole("status").textContent).toBe("Now trading and showing account 1003.");
  });
});

describe("account choice", () => {
  it("starts with the account remembered for the session when it is still the user's, else the first", () => {
    const user = { userId: 7, accountIds: [1002, 1003] };
    expect(initialAccount(user)).toBe(1002);
    rememberAccount(7, 1003);
    expect(initialAccount(user)).toBe(1003);
    // Another user in the same tab does not inherit it; a stale account falls back to the first.
    expect(initialAccount({ userId: 8, accountIds: [1003, 1004] })).toBe(1003);
    expect(initialAccount({ userId: 8, accountIds: [1004, 1005] })).toBe(1004);
    rememberAccount(7, 9999);
    expect(initialAccount(user)).toBe(1002);
    expect(initialAccount({ userId: 9, accountIds: [] })).toBeNull();
  });

  it("names the account in the private subscriptions and the history loads", () => {
    expect(accountSubscriptions(1003)).toEqual([
      { channel: "orders", accountId: 1003 },
      { channel: "fills", accountId: 1003 },
      { channel: "balances", accountId: 1003 },
    ]);
    expect(accountHistoryPaths(1003)).toEqual({ orders: "/api/v1/orders?limit=500&accountId=1003", fills: "/api/v1/fills?limit=500&accountId=1003" });
  });
});

describe("store and the trading account", () => {
  it("empties the private part on a switch and drops whatever belongs to another account", () => {
    const store = new Store(500);
    store.setAccount(1002);
    store.setOrders([order(1, 1002, "229.00"), order(2, 1003, "228.00")]);
    store.setFills([fill(1, 1, 1002), fill(2, 2, 1003)]);
    store.apply(balance(1002, "100.00"));
    store.apply(balance(1003, "200.00"));
    store.apply({ type: "position", channel: "balances", accountId: 1003, symbol: "SAP", instrumentId: 1, position: "5", reserved: "0", available: "5" });
    expect([...store.orders.keys()]).toEqual([1]);
    expect(store.fills.map((item) => item.accountId)).toEqual([1002]);
    expect([...store.balances.keys()]).toEqual(["1002:EUR"]);
    expect(store.positions.size).toBe(0);

    store.setAccount(1003);
    expect(store.orders.size + store.fills.length + store.balances.size + store.positions.size).toBe(0);
    // A late update of the previous account, then the new account's.
    store.apply({ type: "order", channel: "orders", order: order(3, 1002, "227.00") });
    store.apply({ type: "fill", channel: "fills", fill: fill(3, 3, 1002) });
    store.apply(balance(1002, "300.00"));
    store.apply({ type: "order", channel: "orders", order: order(4, 1003, "226.00") });
    store.apply(balance(1003, "400.00"));
    expect([...store.orders.keys()]).toEqual([4]);
    expect(store.fills).toEqual([]);
    expect([...store.balances.keys()]).toEqual(["1003:EUR"]);
  });

  it("keeps everything for a user without an account (no account set)", () => {
    const store = new Store(500);
    store.setOrders([order(1, 1002, "229.00"), order(2, 1003, "228.00")]);
    store.apply(balance(1003, "200.00"));
    expect(store.orders.size).toBe(2);
    expect(store.balances.size).toBe(1);
  });
});

describe("dashboard and the trading day", () => {
  it("asks the platform when the day closes and shows it on the ticket for a DAY order", async () => {
    const { paths } = await signedIn(trader([1002]));
    expect(paths).toContain("/api/v1/trading-day");
    expect(screen.queryByTestId("day-expiry")).toBeNull();
    fireEvent.change(screen.getByLabelText(/Time in force/), { target: { value: "DAY" } });
    await waitFor(() => expect(screen.getByTestId("day-expiry").textContent).toBe(`Expires at the close: ${dayExpiry(nextCloseAt)}`));
  });
});

describe("dashboard with several accounts", () => {
  it("switches the ticket, blotter, balances and private channels, without leaking the previous account", async () => {
    const { socket, paths } = await signedIn(trader([1002, 1003]));
    const select = screen.getByLabelText<HTMLSelectElement>("Trading account");
    expect(select.value).toBe("1002");
    expect(socket.privateOps()).toEqual(["subscribe:orders:1002", "subscribe:fills:1002", "subscribe:balances:1002"]);
    expect(paths).toContain("/api/v1/orders?limit=500&accountId=1002");
    expect(paths).toContain("/api/v1/fills?limit=500&accountId=1002");
    act(() => socket.receive(balance(1002, "1000.00")));
    await waitFor(() => expect(screen.getByTestId("available").textContent).toBe("€1,000.00"));
    await waitFor(() => expect(openOrderIds()).toEqual(["10020"]));
    expect(screen.getByTestId("ticket-account").textContent).toBe("1002");
    expect(screen.getByRole("form", { name: "Order ticket for SAP, account 1002" })).toBeDefined();
    // The header does not repeat the account next to the picker.
    expect(screen.getByText(/Desk Trader/).textContent).not.toContain("account");

    fireEvent.change(select, { target: { value: "1003" } });
    expect(select.value).toBe("1003");
    expect(sessionStorage.getItem("tradestream.account.7")).toBe("1003");
    expect(screen.getByText("Now trading and showing account 1003.")).toBeDefined();
    // Previous account's channels off first, then the new account's on.
    expect(socket.privateOps()).toEqual([
      "subscribe:orders:1002",
      "subscribe:fills:1002",
      "subscribe:balances:1002",
      "unsubscribe:orders:1002",
      "unsubscribe:fills:1002",
      "unsubscribe:balances:1002",
      "subscribe:orders:1003",
      "subscribe:fills:1003",
      "subscribe:balances:1003",
    ]);
    // Nothing of 1002 is shown any more, even what arrives late.
    expect(openOrderIds()).toEqual([]);
    expect(screen.getByTestId("available").textContent).toBe("€0.00");
    act(() => {
      socket.receive({ type: "order", channel: "orders", order: order(99, 1002, "200.00") });
      socket.receive(balance(1002, "5000.00"));
      socket.receive(balance(1003, "750.00"));
    });
    await waitFor(() => expect(screen.getByTestId("available").textContent).toBe("€750.00"));
    await waitFor(() => expect(openOrderIds()).toEqual(["10030"]));
    expect(paths).toContain("/api/v1/orders?limit=500&accountId=1003");
    expect(screen.getByTestId("ticket-account").textContent).toBe("1003");

    fireEvent.click(screen.getByRole("tab", { name: "Balances" }));
    const balances = screen.getByRole("table", { name: "Balances" });
    expect(within(balances).queryByText("1002")).toBeNull();
    expect(within(balances).getByText("1003")).toBeDefined();
    fireEvent.click(screen.getByRole("tab", { name: "Fills" }));
    expect(within(screen.getByRole("table", { name: "Fills" })).getAllByRole("row")).toHaveLength(2);
  });

  it("places the order on the picked account", async () => {
    const { socket } = await signedIn(trader([1002, 1003]));
    fireEvent.change(screen.getByLabelText("Trading account"), { target: { value: "1003" } });
    act(() => socket.receive(balance(1003, "100000.00")));
    const posted: Array<Record<string, unknown>> = [];
    const previous = globalThis.fetch;
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string, init: RequestInit) => {
        if (url === "/api/v1/orders" && init.method === "POST") {
          const body = JSON.parse(init.body as string) as Record<string, unknown>;
          posted.push(body);
          return Promise.resolve(new Response(JSON.stringify({ order: order(555, 1003, "229.00"), fills: [] }), { status: 201, headers: { "content-type": "application/json" } }));
        }
        return previous(url, init);
      }),
    );
    fireEvent.change(screen.getByRole("textbox", { name: /^Quantity/ }), { target: { value: "2" } });
    fireEvent.change(screen.getByRole("textbox", { name: /Limit price/ }), { target: { value: "229.00" } });
    fireEvent.submit(screen.getByRole("form", { name: /Order ticket/ }));
    await waitFor(() => expect(screen.getByTestId("ticket-outcome").textContent).toMatch(/Order 555 new/));
    expect(posted[0]).toMatchObject({ accountId: 1003, symbol: "SAP", quantity: "2", price: "229.00" });
  });

  it("starts with the account remembered for the session", async () => {
    sessionStorage.setItem("tradestream.account.7", "1003");
    const { socket } = await signedIn(trader([1002, 1003]));
    expect(screen.getByLabelText<HTMLSelectElement>("Trading account").value).toBe("1003");
    expect(socket.privateOps()).toEqual(["subscribe:orders:1003", "subscribe:fills:1003", "subscribe:balances:1003"]);
  });
});

describe("dashboard with one account", () => {
  it("shows no picker and no account on the ticket; the header names the account as before", async () => {
    const { socket } = await signedIn(trader([1001]));
    expect(screen.queryByLabelText("Trading account")).toBeNull();
    expect(screen.queryByTestId("ticket-account")).toBeNull();
    expect(screen.getByRole("form", { name: "Order ticket for SAP" })).toBeDefined();
    expect(screen.getByText(/Desk Trader/).textContent).toContain("(trader · account 1001)");
    expect(socket.privateOps()).toEqual(["subscribe:orders:1001", "subscribe:fills:1001", "subscribe:balances:1001"]);
    await waitFor(() => expect(openOrderIds()).toEqual(["10010"]));
  });
});
