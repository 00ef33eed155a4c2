/**
 * The books of record behind the API: trades settle into the ledger as they
 * happen, the trial balance balances, the engine reconciles with the ledger, and
 * statements are served to their owners (JSON and CSV) and to staff only.
 */
import { signWebhook } from "@tradestream/ledger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

let platform: Platform;
let trader1: ApiClient;
let trader2: ApiClient;
let auditor: ApiClient;

beforeAll(async () => {
  platform = await startPlatform(testConfig({ seed: 7 }));
  trader1 = await ApiClient.signIn(platform.url, "trader1");
  trader2 = await ApiClient.signIn(platform.url, "trader2");
  auditor = await ApiClient.signIn(platform.url, "auditor1");
  await trader1.post("/api/v1/orders", { symbol: "TTE", side: "buy", type: "limit", price: "55.10", quantity: "40", clientOrderId: "l-1" });
  await trader2.post("/api/v1/orders", { symbol: "TTE", side: "sell", type: "limit", price: "55.10", quantity: "25", clientOrderId: "l-2" });
  await platform.ledgerRunner.drained();
});

afterAll(async () => {
  await platform.close();
});

describe("ledger over the API", () => {
  it("settles trades: the trial balance balances and the engine reconciles with the ledger", async () => {
    const trial = await auditor.get<{ balanced: boolean; currencies: Array<{ currency: string; debit: string; credit: string }>; projectedUpToSeq: number }>("/api/v1/ledger/trial-balance");
    expect(trial.status).toBe(200);
    expect(trial.body.balanced).toBe(true);
    expect(trial.body.currencies.find((c) => c.currency === "EUR")).toMatchObject({ debit: expect.stringMatching(/^\d+\.\d{2}$/) as string });
    const eur = trial.body.currencies.find((c) => c.currency === "EUR");
    expect(eur?.debit).toBe(eur?.credit);
    expect(trial.body.projectedUpToSeq).toBe(platform.orders.lastEventSeq);
    const recon = await auditor.get<{ status: string; differences: unknown[]; checked: number }>("/api/v1/ledger/reconciliation");
    expect(recon.body).toMatchObject({ status: "matched", differences: [] });
    expect(recon.body.checked).toBeGreaterThan(10);
  });

  it("serves a trader their own statement, as JSON and CSV, and no one else's", async () => {
    const own = await trader1.get<{ lines: Array<{ description: string; asset: string; amount: string }>; closing: Array<{ asset: string; balance: string }> }>("/api/v1/ledger/statements/1001");
    expect(own.status).toBe(200);
    // Bought 25 TTE at 55.10: cash −1377.50, securities +25, a taker fee.
    expect(own.body.lines).toEqual(expect.arrayContaining([expect.objectContaining({ description: "trade", asset: "EUR", amount: "-1377.50" }), expect.objectContaining({ description: "trade", asset: "TTE", amount: "25" })]));
    expect(own.body.closing.find((b) => b.asset === "TTE")?.balance).toBe("5025");
    const csv = await fetch(`${platform.url}/api/v1/ledger/statements/1001?format=csv`, { headers: { authorization: `Bearer ${trader1.token ?? ""}` } });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe("entry_id,time_utc,description,kind,reference,asset,unit,amount,balance_after");
    expect(text).toContain("-137750");
    expect((await trader1.get("/api/v1/ledger/statements/1002")).status).toBe(404);
    expect((await auditor.get("/api/v1/ledger/statements/1002")).status).toBe(200);
    expect((await trader1.get("/api/v1/ledger/trial-balance")).status).toBe(403);
    expect((await trader1.get("/api/v1/ledger/reconciliation")).status).toBe(403);
  });

  it("takes deposits and withdrawals through the provider: idempotent, two-phase, signed webhooks, books still balanced", async () => {
    const available = async (): Promise<string | undefined> => (await trader1.get<{ items: Array<{ currency: string; available: string }> }>("/api/v1/accounts/1001/balances")).body.items.find((b) => b.currency === "EUR")?.available;
    const settled = async (paymentId: string, status: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (await trader1.get<{ payment: { status: string } }>(`/api/v1/payments/${paymentId}`)).body.payment.status !== status) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const before = await available();
    const deposit = await trader1.post<{ payment: { paymentId: string; status: string; amount: string } }>("/api/v1/payments/deposits", { currency: "EUR", amount: "100.00", idempotencyKey: "dep-1" });
    expect(deposit.status).toBe(201);
    expect(deposit.body.payment).toMatchObject({ status: "pending", amount: "100.00" });
    const retry = await trader1.post<{ payment: { paymentId: string } }>("/api/v1/payments/deposits", { currency: "EUR", amount: "100.00", idempotencyKey: "dep-1" });
    expect(retry.status).toBe(200);
    expect(retry.body.payment.paymentId).toBe(deposit.body.payment.paymentId);
    await settled(deposit.body.payment.paymentId, "posted");
    const afterDeposit = await available();
    expect(Number(afterDeposit)).toBeCloseTo(Number(before) + 100, 2);

    const tooMuch = await trader1.post<{ error: { code: string } }>("/api/v1/payments/withdrawals", { currency: "EUR", amount: "99999999.00", idempotencyKey: "wd-big" });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toMatch(/insufficient_funds|over_transaction_limit/);
    const withdrawal = await trader1.post<{ payment: { paymentId: string; status: string } }>("/api/v1/payments/withdrawals", { currency: "EUR", amount: "40.00", idempotencyKey: "wd-1" });
    expect(withdrawal.status).toBe(201);
    // Held at once: the engine took the cash before anything was paid out.
    expect(Number(await available())).toBeCloseTo(Number(afterDeposit) - 40, 2);
    await settled(withdrawal.body.payment.paymentId, "posted");

    expect((await trader2.get(`/api/v1/payments/${withdrawal.body.payment.paymentId}`)).status).toBe(404);
    expect((await trader2.post("/api/v1/payments/withdrawals", { accountId: 1001, currency: "EUR", amount: "1.00", idempotencyKey: "steal" })).status).toBe(403);
    const forgedBody = JSON.stringify({ paymentId: deposit.body.payment.paymentId, status: "failed" });
    const forged = await fetch(`${platform.url}/api/v1/payments/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "tradestream-signature": signWebhook("not-the-secret", forgedBody, Math.floor(Date.now() / 1000)) },
      body: forgedBody,
    });
    expect(forged.status).toBe(401);
    expect((await trader1.get<{ payment: { status: string } }>(`/api/v1/payments/${deposit.body.payment.paymentId}`)).body.payment.status).toBe("posted");

    await platform.ledgerRunner.drained();
    expect((await auditor.get<{ balanced: boolean }>("/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
    expect((await auditor.get<{ status: string }>("/api/v1/ledger/reconciliation")).body.status).toBe("matched");
  });

  it("tokenizes a card into the vault (Luhn checked) and deposits from it; the card number is nowhere else", async () => {
    const pan = "4111 1111 1111 1111";
    const card = await trader1.post<{ token: string; lastFour: string; brand: string }>("/api/v1/payments/cards", { pan });
    expect(card.status).toBe(201);
    expect(card.body).toMatchObject({ lastFour: "1111", brand: "visa" });
    expect(JSON.stringify(card.body)).not.toContain("4111111111111111");
    const invalid = await trader1.post<{ error: { code: string } }>("/api/v1/payments/cards", { pan: "4111 1111 1111 1112" });
    expect(invalid.body.error.code).toBe("invalid_card");
    const deposit = await trader1.post<{ payment: { cardToken: string } }>("/api/v1/payments/deposits", { currency: "EUR", amount: "10.00", idempotencyKey: "card-dep-1", cardToken: card.body.token });
    expect(deposit.status).toBe(201);
    expect(deposit.body.payment.cardToken).toBe(card.body.token);
    const audit = await auditor.get("/api/v1/admin/audit?limit=200");
    expect(JSON.stringify(audit.body)).not.toContain("4111111111111111");
    expect(JSON.stringify(audit.body)).not.toContain(pan);
  });
});
