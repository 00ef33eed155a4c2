/**
 * Batch order entry, as programs use it: POST /api/v1/orders/batch and the WebSocket
 * `place_batch` op. Each order of a batch gets the answer it would have got alone, in the
 * batch's order; a malformed batch places nothing; every order counts against the limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { limitOrder, roomyRateLimits, testConfig } from "./test-platform.ts";
import { openTestSocket } from "./test-socket.ts";

interface Result {
  status: number;
  replay: boolean;
  body: {
    order?: { orderId: number; status: string; clientOrderId: string; accountId: number; filledQuantity: string };
    fills?: Array<{ price: string; quantity: string; liquidity: string }>;
    error?: { code: string; message: string };
  };
}


let platform: Platform;
let trader1: ApiClient;
let trader2: ApiClient;
let auditor: ApiClient;

/** Client order ids of the account's orders, newest first (one page is enough here). */
async function clientOrderIds(client: ApiClient, accountId: number): Promise<string[]> {
  const page = await client.get<{ items: Array<{ clientOrderId: string }> }>(`/api/v1/orders?accountId=${String(accountId)}&limit=200`);
  expect(page.status).toBe(200);
  return page.body.items.map((order) => order.clientOrderId);
}

beforeAll(async () => {
  platform = await startPlatform(testConfig({ seed: 7, gateway: { rateLimits: roomyRateLimits } }));
  trader1 = await ApiClient.signIn(platform.url, "trader1");
  trader2 = await ApiClient.signIn(platform.url, "trader2");
  auditor = await ApiClient.signIn(platform.url, "auditor1");
});

afterAll(async () => {
  await platform.close();
});

describe("POST /api/v1/orders/batch", () => {
  it("answers each order as placing it alone would, in the batch's order, and a retry replays each", async () => {
    const ask = await trader2.post<{ order: { orderId: number } }>("/api/v1/orders", limitOrder("b-t2-ask", "sell", "229.90", "3"));
    expect(ask.status).toBe(201);
    const orders = [
      limitOrder("b-cross", "buy", "229.90", "2"),
      limitOrder("b-off-tick", "buy", "229.905", "1"),
      limitOrder("b-rest", "buy", "229.00", "1"),
      limitOrder("b-theirs", "buy", "229.00", "1", { accountId: 1002 }),
      limitOrder("b-rest", "buy", "229.00", "1"),
    ];
    const first = await trader1.post<{ results: Result[] }>("/api/v1/orders/batch", { orders });
    expect(first.status).toBe(200);
    const [cross, offTick, rest, theirs, duplicate] = first.body.results;
    expect(first.body.results).toHaveLength(5);
    expect(cross).toMatchObject({ status: 201, replay: false, body: { order: { clientOrderId: "b-cross", status: "filled", accountId: 1001 } } });
    expect(cross?.body.fills).toEqual([expect.objectContaining({ price: "229.90", quantity: "2", liquidity: "taker" })]);
    expect(offTick).toEqual({ status: 400, replay: false, body: { error: { code: "price_off_tick", message: expect.any(String) as string } } });
    expect(rest).toMatchObject({ status: 201, replay: false, body: { order: { clientOrderId: "b-rest", status: "new" }, fills: [] } });
    expect(theirs).toMatchObject({ status: 403, body: { error: { code: "not_owner" } } });
    // The same clientOrderId twice in one batch: the second is a retry of the first, never a second order.
    expect(duplicate).toMatchObject({ status: 200, replay: true, body: { order: { orderId: rest?.body.order?.orderId } } });
    // Placed in the batch's order.
    expect(cross?.body.order?.orderId ?? 0).toBeLessThan(rest?.body.order?.orderId ?? 0);

    const before = await clientOrderIds(trader1, 1001);
    const again = await trader1.post<{ results: Result[] }>("/api/v1/orders/batch", { orders });
    expect(again.status).toBe(200);
    expect(again.body.results.map((result) => [result.status, result.replay])).toEqual([[200, true], [400, false], [200, true], [403, false], [200, true]]);
    expect(again.body.results[0]?.body.order?.orderId).toBe(cross?.body.order?.orderId);
    expect(await clientOrderIds(trader1, 1001)).toEqual(before);
    expect(await clientOrderIds(trader2, 1002)).toEqual(["b-t2-ask"]);
  });

  it("refuses a malformed batch whole, with 400 and nothing placed", async () => {
    const before = await clientOrderIds(trader1, 1001);
    const empty = await trader1.post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe("validation_failed");
    const tooMany = await trader1.post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: Array.from({ length: 21 }, (_, i) => limitOrder(`b-many-${String(i)}`, "buy", "228.00", "1")) });
    expect(tooMany.status).toBe(400);
    const oneBad = await trader1.post<{ error: { code: string; message: string } }>("/api/v1/orders/batch", { orders: [limitOrder("b-good", "buy", "228.00", "1"), { ...limitOrder("b-bad", "buy", "228.00", "1"), colour: "red" }] });
    expect(oneBad.status).toBe(400);
    expect(oneBad.body.error.code).toBe("validation_failed");
    const notArray = await trader1.post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: limitOrder("b-one", "buy", "228.00", "1") });
    expect(notArray.status).toBe(400);
    expect(await clientOrderIds(trader1, 1001)).toEqual(before);
  });

  it("needs the trade permission for the whole batch", async () => {
    const refused = await auditor.post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: [limitOrder("b-auditor", "buy", "228.00", "1", { accountId: 1001 })] });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const anonymous = await new ApiClient(platform.url).post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: [limitOrder("b-anon", "buy", "228.00", "1")] });
    expect(anonymous.status).toBe(401);
    expect(await clientOrderIds(trader1, 1001)).not.toContain("b-auditor");
  });
});

describe("POST /api/v1/orders/cancel-batch", () => {
  it("cancels each order as DELETE would, in order; another trader's order and an unknown id are refused alone", async () => {
    const placed = await trader1.post<{ results: Result[] }>("/api/v1/orders/batch", { orders: [limitOrder("c-1", "buy", "227.00", "1"), limitOrder("c-2", "buy", "227.00", "2")] });
    const [one, two] = placed.body.results.map((result) => result.body.order?.orderId ?? 0);
    const theirs = await trader2.post<{ order: { orderId: number } }>("/api/v1/orders", limitOrder("c-t2", "sell", "232.00", "1"));
    const answer = await trader1.post<{ results: Result[] }>("/api/v1/orders/cancel-batch", { orderIds: [one, theirs.body.order.orderId, two, 999_999, one] });
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((result) => [result.status, result.body.error?.code ?? result.body.order?.status])).toEqual([
      [200, "cancelled"],
      [404, "unknown_order"],
      [200, "cancelled"],
      [404, "unknown_order"],
      [404, "unknown_order"],
    ]);
    const still = await trader2.get<{ order: { status: string } }>(`/api/v1/orders/${String(theirs.body.order.orderId)}`);
    expect(still.body.order.status).toBe("new");
    const malformed = await trader1.post<{ error: { code: string } }>("/api/v1/orders/cancel-batch", { orderIds: [one, "two"] });
    expect(malformed.status).toBe(400);
    expect((await trader1.post("/api/v1/orders/cancel-batch", { orderIds: [] })).status).toBe(400);
    expect((await auditor.post("/api/v1/orders/cancel-batch", { orderIds: [theirs.body.order.orderId] })).status).toBe(403);
  });
});

describe("WebSocket place_batch", () => {
  it("answers one ack with a result per order; a malformed order refuses the message and places nothing", async () => {
    const { next, send, close } = await openTestSocket(platform.url);
    send({ op: "place_batch", id: 1, orders: [limitOrder("w-early", "sell", "231.00", "1")] });
    expect(await next((m) => m.id === 1)).toMatchObject({ type: "error", error: { code: "unauthenticated" } });
    send({ op: "auth", token: trader2.token });
    await next((m) => m.type === "authenticated");

    send({ op: "place_batch", id: 2, orders: [limitOrder("w-ask-1", "sell", "231.00", "1"), limitOrder("w-off-lot", "sell", "231.00", "1.5"), limitOrder("w-ask-2", "sell", "231.10", "2")] });
    const ack = await next((m) => m.id === 2);
    expect(ack).toMatchObject({ type: "ack", status: 200, replay: false });
    const results = (ack.body as { results: Result[] }).results;
    expect(results.map((result) => result.status)).toEqual([201, 400, 201]);
    expect(results[1]?.body.error?.code).toBe("quantity_off_lot");
    expect(results[2]?.body.order).toMatchObject({ clientOrderId: "w-ask-2", status: "new", accountId: 1002 });

    send({ op: "place_batch", id: 3, orders: [limitOrder("w-good", "sell", "231.00", "1"), { symbol: "SAP", type: "limit", price: "231.00", quantity: "1", clientOrderId: "w-no-side" }] });
    const refused = await next((m) => m.id === 3);
    expect(refused).toMatchObject({ type: "error", error: { code: "validation_failed" } });
    expect((refused.error as { message: string }).message).toMatch(/^orders\[1\]: /);
    send({ op: "place_batch", id: 4, orders: [] });
    expect(await next((m) => m.id === 4)).toMatchObject({ type: "error", error: { code: "validation_failed" } });
    send({ op: "place_batch", id: 5, orders: "w-not-an-array" });
    expect(await next((m) => m.id === 5)).toMatchObject({ type: "error", error: { code: "validation_failed" } });

    const askId = results[2]?.body.order?.orderId ?? 0;
    send({ op: "cancel_batch", id: 6, orderIds: [askId, 999_999] });
    const cancelled = await next((m) => m.id === 6);
    expect(cancelled).toMatchObject({ type: "ack", status: 200 });
    expect((cancelled.body as { results: Result[] }).results.map((result) => [result.status, result.body.error?.code ?? result.body.order?.status])).toEqual([
      [200, "cancelled"],
      [404, "unknown_order"],
    ]);
    send({ op: "cancel_batch", id: 7, orderIds: [askId, -1] });
    expect(await next((m) => m.id === 7)).toMatchObject({ type: "error", error: { code: "validation_failed", message: "orderIds[1]: must be a positive integer." } });
    close();

    const ids = await clientOrderIds(trader2, 1002);
    expect(ids).toContain("w-ask-2");
    expect(ids).not.toContain("w-good");
    expect(ids).not.toContain("w-early");
  });
});

describe("batch rate limits", () => {
  it("counts every order of a batch against the caller's request limit", async () => {
    const tight = await startPlatform(testConfig({ seed: 8, gateway: { rateLimits: { ...roomyRateLimits, user: { ratePerS: 1, burst: 5 } } } }));
    try {
      const trader = await ApiClient.signIn(tight.url, "trader1");
      const six = Array.from({ length: 6 }, (_, i) => limitOrder(`r-${String(i)}`, "buy", "228.00", "1"));
      const refused = await trader.post<{ error: { code: string } }>("/api/v1/orders/batch", { orders: six });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe("rate_limited");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // The refused batch took nothing: five orders still fit in the bucket.
      const five = await trader.post<{ results: Result[] }>("/api/v1/orders/batch", { orders: six.slice(0, 5) });
      expect(five.status).toBe(200);
      expect(five.body.results.map((result) => result.status)).toEqual([201, 201, 201, 201, 201]);
      const after = await trader.get("/api/v1/orders?accountId=1001");
      expect(after.status).toBe(429);
    } finally {
      await tight.close();
    }
  });
});
