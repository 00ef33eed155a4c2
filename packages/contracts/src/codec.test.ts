import { describe, expect, it } from "vitest";
import { CodecError, decodeCommand, encodeCommand } from "./codec.ts";
import type { Command } from "./commands.ts";

const place = (clientOrderId: string): Command => ({
  type: "PlaceOrder", tsUs: 1, accountId: 1, instrumentId: 1, clientOrderId, side: "buy", orderType: "limit", tif: "GTC",
  priceTicks: 100, stopPriceTicks: 0, qtyLots: 1, displayQtyLots: 0, postOnly: false, sessionId: 0,
});

describe("command codec strings", () => {
  it("keeps a leading byte-order mark", () => {
    expect(decodeCommand(encodeCommand(place("\uFEFFabc")))).toEqual(place("\uFEFFabc"));
  });

  it("refuses a lone surrogate instead of silently replacing it", () => {
    expect(() => encodeCommand(place("ab\uD800"))).toThrow(CodecError);
  });

  it("refuses a string longer than its limit, and accepts the limit", () => {
    expect(decodeCommand(encodeCommand(place("x".repeat(64))))).toEqual(place("x".repeat(64)));
    expect(() => encodeCommand(place("x".repeat(65)))).toThrow(CodecError);
  });
});
