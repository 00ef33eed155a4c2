/**
 * Self-trade prevention, by the aggressor's account mode. The book holds account
 * 1's own ask of `maker` lots at 10 000 first, then account 2's ask of 5 lots at
 * 10 000; account 1 then buys `taker` lots at 10 000.
 */
import { describe, expect, it } from "vitest";
import type { StpMode } from "@tradestream/contracts";
import { cancels, Scenario, trades } from "./scenario.ts";

const cash0 = 10_000_000_000;
const lots0 = 1_000_000;

type Who = "own" | "other" | "taker";

interface Case {
  readonly name: string;
  readonly mode: StpMode;
  readonly maker: number;
  readonly taker: number;
  /** [order, cancelled, leaves] with reason self_trade_prevention, in event order. */
  readonly cancelled: Array<[Who, number, number]>;
  /** [maker order, qty], all at 10 000. */
  readonly traded: Array<[Who, number]>;
  readonly asks: Array<[number, number, number]>;
}

const cases: Case[] = [
  { name: "none: the self trade happens", mode: "none", maker: 5, taker: 4, cancelled: [], traded: [["own", 4]], asks: [[10_000, 6, 2]] },
  { name: "cancel_newest: the aggressor is cancelled", mode: "cancel_newest", maker: 5, taker: 4, cancelled: [["taker", 4, 0]], traded: [], asks: [[10_000, 10, 2]] },
  {
    name: "cancel_oldest: the resting order is cancelled and matching goes on",
    mode: "cancel_oldest",
    maker: 5,
    taker: 4,
    cancelled: [["own", 5, 0]],
    traded: [["other", 4]],
    asks: [[10_000, 1, 1]],
  },
  {
    name: "cancel_both: both are cancelled",
    mode: "cancel_both",
    maker: 5,
    taker: 4,
    cancelled: [
      ["own", 5, 0],
      ["taker", 4, 0],
    ],
    traded: [],
    asks: [[10_000, 5, 1]],
  },
  {
    // min(5, 3) = 3 off both: the resting order is gone, the aggressor keeps 2 and trades them with account 2.
    name: "decrement_and_cancel, aggressor bigger",
    mode: "decrement_and_cancel",
    maker: 3,
    taker: 5,
    cancelled: [
      ["own", 3, 0],
      ["taker", 3, 2],
    ],
    traded: [["other", 2]],
    asks: [[10_000, 3, 1]],
  },
  {
    // min(5, 3) = 3 off both: the resting order survives with 2, the aggressor is gone.
    name: "decrement_and_cancel, resting order bigger",
    mode: "decrement_and_cancel",
    maker: 5,
    taker: 3,
    cancelled: [
      ["own", 3, 2],
      ["taker", 3, 0],
    ],
    traded: [],
    asks: [[10_000, 7, 2]],
  },
  {
    name: "decrement_and_cancel, equal",
    mode: "decrement_and_cancel",
    maker: 4,
    taker: 4,
    cancelled: [
      ["own", 4, 0],
      ["taker", 4, 0],
    ],
    traded: [],
    asks: [[10_000, 5, 1]],
  },
];

describe("self-trade prevention", () => {
  it.each(cases)("$name", ({ mode, maker, taker, cancelled, traded, asks }) => {
    const s = Scenario.create({ stpMode: mode });
    const ids: Record<Who, number> = { own: 0, other: 0, taker: 0 };
    ids.own = s.order(1, "sell", 10_000, maker).id;
    ids.other = s.order(2, "sell", 10_000, 5).id;
    const { events, id } = s.order(1, "buy", 10_000, taker);
    ids.taker = id;
    expect(cancels(events)).toEqual(cancelled.map(([who, qty, leaves]) => [ids[who], qty, leaves, "self_trade_prevention"]));
    expect(trades(events)).toEqual(traded.map(([who, qty]) => [10_000, qty, ids[who], ids.taker]));
    expect(s.levels("sell")).toEqual(asks);
    expect(s.levels("buy")).toEqual([]);
    // Only trades with account 2 move account 1's cash and position; a self trade moves neither (no fees here).
    const boughtFromOther = traded.filter(([who]) => who === "other").reduce((sum, [, qty]) => sum + qty, 0);
    expect(s.cash(1)).toEqual([cash0 - 10_000 * boughtFromOther, 0]);
    const ownLeft = s.open(ids.own)?.[0] ?? 0;
    expect(s.position(1)).toEqual([lots0 + boughtFromOther, ownLeft]);
  });

  it("cancel_newest: trades with other accounts ahead of the own order stand", () => {
    const s = Scenario.create({ stpMode: "cancel_newest" });
    const other = s.order(2, "sell", 10_000, 2).id;
    const own = s.order(1, "sell", 10_000, 5).id;
    const { events, id } = s.order(1, "buy", 10_000, 4);
    expect(trades(events)).toEqual([[10_000, 2, other, id]]);
    expect(cancels(events)).toEqual([[id, 2, 0, "self_trade_prevention"]]);
    expect(s.open(own)).toEqual([5, 0]);
  });

  it("decrement_and_cancel shrinks a resting iceberg's displayed peak when it drops below it", () => {
    const s = Scenario.create({ stpMode: "decrement_and_cancel" });
    const own = s.order(1, "sell", 10_000, 10, { displayQtyLots: 4 }).id;
    // 10 − 8 = 2 left, below the displayed 4.
    const { events } = s.order(1, "buy", 10_000, 8);
    expect(cancels(events)[0]).toEqual([own, 8, 2, "self_trade_prevention"]);
    expect(s.levels("sell")).toEqual([[10_000, 2, 1]]);
    expect(s.position(1)).toEqual([lots0, 2]);
  });

  it.each([
    { mode: "cancel_oldest", fills: true },
    { mode: "cancel_newest", fills: false },
    { mode: "decrement_and_cancel", fills: false },
    { mode: "none", fills: true },
  ] as const)("FOK through an own order with $mode: fills=$fills, all or nothing", ({ mode, fills }) => {
    const s = Scenario.create({ stpMode: mode });
    const own = s.order(1, "sell", 10_000, 2).id;
    const other = s.order(2, "sell", 10_000, 3).id;
    const { events, id } = s.order(1, "buy", 10_000, 3, { tif: "FOK" });
    if (!fills) {
      expect(trades(events)).toEqual([]);
      expect(cancels(events)).toEqual([[id, 3, 0, "fok_not_filled"]]);
      expect(s.open(own)).toEqual([2, 0]);
    } else if (mode === "cancel_oldest") {
      // The own 2 lots are cancelled, not counted; account 2's 3 lots fill the order.
      expect(cancels(events)).toEqual([[own, 2, 0, "self_trade_prevention"]]);
      expect(trades(events)).toEqual([[10_000, 3, other, id]]);
    } else {
      expect(trades(events)).toEqual([
        [10_000, 2, own, id],
        [10_000, 1, other, id],
      ]);
    }
  });

  it("an own order beyond the circuit band is removed by STP without halting the instrument (no trade would happen)", () => {
    const s = Scenario.create({ stpMode: "cancel_oldest" });
    s.tradeAt(10_000);
    // Band: floor(10 000 × 500 / 10 000) = 500, so 10 600 would break the circuit if it traded.
    const own = s.order(1, "sell", 10_600, 1).id;
    const { events, id } = s.order(1, "buy", 10_600, 1);
    expect(cancels(events)).toEqual([[own, 1, 0, "self_trade_prevention"]]);
    expect(events.some((e) => e.type === "TradingStateChanged")).toBe(false);
    expect(s.engine.instruments.get(1)?.state).toBe("open");
    expect(s.open(id)).toEqual([1, 0]);
  });
});
