/**
 * A small seeded stream of trading commands for shard tests: accounts with
 * money and shares, then limit orders around a drifting mid, cancels of recent
 * orders and marketable orders. Deterministic for a given seed.
 */
import { mulberry32 } from "@tradestream/kernel";
import type { CommandInput } from "./shard.ts";

export { mulberry32 };


export function* seededCommands(seed: number, count: number, accounts = 6): Generator<CommandInput> {
  const random = mulberry32(seed);
  for (let id = 1; id <= accounts; id += 1) {
    yield { type: "CreateAccount", accountId: id, firmId: 1 + (id % 2), stpMode: "cancel_oldest", openOrdersMax: 10_000, ordersPerSecondMax: 1_000_000 };
    yield { type: "DepositCash", accountId: id, currency: "EUR", amountMinor: 1_000_000_000_000 };
    yield { type: "DepositSecurities", accountId: id, instrumentId: 1, qtyLots: 100_000_000 };
  }
  let mid = 10_000;
  let nextOrderId = 1;
  for (let i = 0; i < count; i += 1) {
    const roll = random();
    const accountId = 1 + Math.floor(random() * accounts);
    const side = random() < 0.5 ? "buy" : "sell";
    if (roll < 0.2 && nextOrderId > 1) {
      yield { type: "CancelOrder", accountId, orderId: Math.max(1, nextOrderId - 1 - Math.floor(random() * 50)) };
      continue;
    }
    mid = Math.max(9_600, Math.min(10_400, mid + Math.round((random() - 0.5) * 4)));
    const crossing = roll > 0.9;
    const offset = 1 + Math.floor(random() * 30);
    const priceTicks = crossing ? (side === "buy" ? mid + 20 : mid - 20) : side === "buy" ? mid - offset : mid + offset;
    nextOrderId += 1;
    yield {
      type: "PlaceOrder",
      accountId,
      instrumentId: 1,
      clientOrderId: `s${seed}-${i}`,
      side,
      orderType: "limit",
      tif: crossing ? "IOC" : "GTC",
      priceTicks,
      stopPriceTicks: 0,
      qtyLots: 1 + Math.floor(random() * 100),
      displayQtyLots: 0,
      postOnly: false,
      sessionId: 0,
    };
  }
}
