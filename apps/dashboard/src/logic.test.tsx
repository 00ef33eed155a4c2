// @vitest-environment jsdom
/** Pure logic of the dashboard: exact decimals, the live store (book gaps, batching), P&L marking, config, roles. */
import { describe, expect, it, vi } from "vitest";
import { parseConfig, wsUrl } from "./config.ts";
import { add, cmp, formatDec, isMultipleOf, mul, parseDec, truncate } from "./decimal.ts";
import { markPosition } from "./pnl.ts";
import { navFor } from "./roles.ts";
import { Store } from "./store.ts";
import type { Fill } from "./types.ts";

const dec = (text: string) => {
  const value = parseDec(text);
  if (value === null) throw new Error(`not a decimal: ${text}`);
  return value;
};

describe("decimal", () => {
  it("adds, multiplies and compares exactly", () => {
    expect(formatDec(add(dec("0.1"), dec("0.2")))).toBe("0.3");
    expect(formatDec(mul(dec("229.55"), dec("3")))).toBe("688.65");
    expect(cmp(dec("1.10"), dec("1.1"))).toBe(0);
    expect(cmp(dec("-2"), dec("1"))).toBe(-1);
    expect(formatDec(truncate(dec("0.6885"), 2))).toBe("0.68");
    expect(formatDec(dec("-0.05"), 2)).toBe("-0.05");
    expect(isMultipleOf(dec("100.25"), dec("0.05"))).toBe(true);
    expect(isMultipleOf(dec("100.26"), dec("0.05"))).toBe(false);
    expect(parseDec("1,000")).toBeNull();
    expect(parseDec(" 12.5 ")).toEqual({ units: 125n, scale: 1 });
  });
});

describe("live store", () => {
  it("applies sequenced deltas and asks for a snapshot on a gap", () => {
    const store = new Store(500);
    const gaps: string[] = [];
    store.onGap = (symbol) => gaps.push(symbol);
    store.apply({ type: "snapshot", symbol: "SAP", seq: 10, bids: [["229.70", "5", 1]], asks: [["229.90", "3", 1]] });
    store.apply({ type: "delta", symbol: "SAP", seq: 11, changes: [["buy", "229.75", "2", 1], ["sell", "229.90", "0", 0]] });
    expect(store.ladder("SAP", 10)).toEqual({ bids: [["229.75", "2", 1], ["229.70", "5", 1]], asks: [] });
    store.apply({ type: "delta", symbol: "SAP", seq: 11, changes: [["buy", "1.00", "1", 1]] });
    expect(store.ladder("SAP", 10).bids).toHaveLength(2);
    store.apply({ type: "delta", symbol: "SAP", seq: 13, changes: [] });
    expect(gaps).toEqual(["SAP"]);
    // Nothing more is applied until the fresh snapshot.
    store.apply({ type: "delta", symbol: "SAP", seq: 14, changes: [["buy", "1.00", "1", 1]] });
    expect(store.ladder("SAP", 10).bids).toHaveLength(2);
    store.apply({ type: "snapshot", symbol: "SAP", seq: 20, bids: [], asks: [] });
    expect(store.ladder("SAP", 10).bids).toHaveLength(0);
  });

  it("repaints at most once per refresh period, however many messages arrive", () => {
    vi.useFakeTimers();
    try {
      const store = new Store(500);
      const listener = vi.fn();
      store.subscribe(listener);
      store.start();
      for (let i = 0; i < 1_000; i += 1) store.apply({ type: "trade", tradeId: i + 1, symbol: "SAP", price: "1.00", quantity: "1", takerSide: "buy", time: "" });
      expect(listener).not.toHaveBeenCalled();
      vi.advanceTimersByTime(500);
      expect(listener).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(2_000);
      expect(listener).toHaveBeenCalledTimes(1);
      expect(store.trades.get("SAP")).toHaveLength(200);
      store.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("P&L marked to the reference price", () => {
  const fill = (side: "buy" | "sell", price: string, quantity: string, notional: string, fee: string): Fill => ({ tradeId: 1, orderId: 1, accountId: 1001, symbol: "SAP", side, price, quantity, notional, fee, currency: "EUR", liquidity: "maker", time: "" });
  it("values the fills' cash and net quantity at the mark", () => {
    const fills = [fill("buy", "228.50", "3", "685.50", "0.06")];
    expect(markPosition({ symbol: "SAP", currency: "EUR", position: "5003", mark: "229.80", fills })).toEqual({ symbol: "SAP", tradedQuantity: "3", marketValue: "1149689.40", pnl: "3.84" });
    const round = [...fills, fill("sell", "229.00", "3", "687.00", "0.20")];
    expect(markPosition({ symbol: "SAP", currency: "EUR", position: "5000", mark: "300.00", fills: round }).pnl).toBe("1.24");
    expect(markPosition({ symbol: "SAP", currency: "EUR", position: "5000", mark: null, fills }).pnl).toBeNull();
  });
});

describe("config and roles", () => {
  it("validates config.json and falls back to defaults", () => {
    expect(parseConfig({ apiUrl: "", refreshRate: 500, currency: "EUR", sso: true })).toEqual({ apiUrl: "", refreshRate: 500, currency: "EUR", sso: true });
    expect(parseConfig({ apiUrl: "javascript:alert(1)", refreshRate: 1, currency: "euro" })).toEqual({ apiUrl: "", refreshRate: 50, currency: "EUR", sso: false });
    expect(parseConfig(null).refreshRate).toBe(500);
    expect(wsUrl("", { protocol: "https:", host: "trade.example" })).toBe("wss://trade.example/ws");
    expect(wsUrl("http://127.0.0.1:8080", { protocol: "http:", host: "x" })).toBe("ws://127.0.0.1:8080/ws");
  });

  it("shows each role only the views its API routes allow", () => {
    const views = (roles: Parameters<typeof navFor>[0]) => navFor(roles).map((item) => item.view);
    expect(views(["trader"])).toEqual(["trade"]);
    expect(views(["sre"])).toEqual(["trade", "ops"]);
    expect(views(["auditor"])).toEqual(["trade", "orders", "audit", "ledger", "users"]);
    expect(views(["compliance"])).toEqual(["trade", "orders", "audit", "ledger", "users", "controls"]);
    expect(views(["support"])).toEqual(["trade", "orders", "users"]);
    expect(views(["admin"])).toEqual(["trade", "orders", "audit", "ledger", "ops", "users", "controls"]);
  });
});
