/**
 * Restarting keeps all state: orders, fills, balances, users and sessions survive
 * a stop and start on the same data directory (journal replay + PGlite), and the
 * read models rebuilt from the journal equal the ones built live.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type PlatformConfig } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

const dir = mkdtempSync(join(tmpdir(), "tradestream-restart-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config: PlatformConfig = testConfig({ seed: 4, dataDir: dir });

describe("restart", () => {
  it("keeps orders, fills, balances, users and API keys", async () => {
    const first = await startPlatform(config);
    let orderId: number;
    let key: { keyId: string; secret: string };
    let before: { orders: unknown; balances: unknown; book: unknown; ticker: unknown };
    try {
      const trader1 = await ApiClient.signIn(first.url, "trader1");
      const trader2 = await ApiClient.signIn(first.url, "trader2");
      const bid = await trader1.post<{ order: { orderId: number } }>("/api/v1/orders", { symbol: "ASML", side: "buy", type: "limit", price: "649.00", quantity: "7", clientOrderId: "r-1" });
      orderId = bid.body.order.orderId;
      await trader2.post("/api/v1/orders", { symbol: "ASML", side: "sell", type: "limit", price: "649.00", quantity: "2", clientOrderId: "r-2" });
      key = (await trader1.post<{ keyId: string; secret: string }>("/api/v1/api-keys", { label: "restart" })).body;
      before = {
        orders: (await trader1.get("/api/v1/orders")).body,
        balances: (await trader1.get("/api/v1/accounts/1001")).body,
        book: (await trader1.get("/api/v1/markets/ASML/book")).body,
        ticker: (await trader1.get("/api/v1/markets/ASML/ticker")).body,
      };
    } finally {
      await first.close();
    }
    const second = await startPlatform(config);
    try {
      const viaKey = new ApiClient(second.url, null, key);
      expect((await viaKey.get("/api/v1/orders")).body).toEqual(before.orders);
      expect((await viaKey.get("/api/v1/accounts/1001")).body).toEqual(before.balances);
      expect((await viaKey.get("/api/v1/markets/ASML/book")).body).toEqual(before.book);
      expect((await viaKey.get("/api/v1/markets/ASML/ticker")).body).toEqual(before.ticker);
      const order = await viaKey.get<{ order: { status: string; filledQuantity: string } }>(`/api/v1/orders/${String(orderId)}`);
      expect(order.body.order).toMatchObject({ status: "partially_filled", filledQuantity: "2" });
      // The same client order id is still taken today: a retry answers with the order, not a new one.
      const retry = await viaKey.post<{ order: { orderId: number } }>("/api/v1/orders", { symbol: "ASML", side: "buy", type: "limit", price: "649.00", quantity: "7", clientOrderId: "r-1" });
      expect(retry.status).toBe(200);
      expect(retry.body.order.orderId).toBe(orderId);
      expect((await second.auth.findUser("trader1"))?.mfaEnrolled).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("finishes a payment a crash left between the engine and the database, without crediting it twice", async () => {
    const first = await startPlatform(config);
    let paymentId: string;
    let balance: string | undefined;
    let key: { keyId: string; secret: string };
    // trader3 (account 1003): a one-time code is accepted once, so each test signs in a user of its own.
    const eur = async (client: ApiClient) => (await client.get<{ items: Array<{ currency: string; total: string }> }>("/api/v1/accounts/1003/balances")).body.items.find((b) => b.currency === "EUR")?.total;
    try {
      const trader3 = await ApiClient.signIn(first.url, "trader3");
      key = (await trader3.post<{ keyId: string; secret: string }>("/api/v1/api-keys", { label: "payments" })).body;
      const deposit = await trader3.post<{ payment: { paymentId: string } }>("/api/v1/payments/deposits", { currency: "EUR", amount: "250.00", idempotencyKey: "crash-1" });
      paymentId = deposit.body.payment.paymentId;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await trader3.get<{ payment: { status: string } }>(`/api/v1/payments/${paymentId}`)).body.payment.status !== "posted") await new Promise((resolve) => setTimeout(resolve, 50));
      balance = await eur(trader3);
      // As if the process died after the engine credited the deposit but before the status was written.
      await first.sql.query("UPDATE ledger_payments SET status = 'crediting' WHERE payment_id = $1", [paymentId]);
    } finally {
      await first.close();
    }
    const second = await startPlatform(config);
    try {
      const trader3 = new ApiClient(second.url, null, key);
      expect((await trader3.get<{ payment: { status: string } }>(`/api/v1/payments/${paymentId}`)).body.payment.status).toBe("posted");
      expect(await eur(trader3)).toBe(balance);
      await second.ledgerRunner.drained();
      const auditor = await ApiClient.signIn(second.url, "auditor1");
      expect((await auditor.get<{ status: string }>("/api/v1/ledger/reconciliation")).body.status).toBe("matched");
    } finally {
      await second.close();
    }
  });
});
