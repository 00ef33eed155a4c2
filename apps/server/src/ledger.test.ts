/**
 * The books of record behind the API: trades settle into the ledger as they
 * happen, the trial balance balances, the engine reconciles with the ledger, and
 * statements are served to their owners (JSON and CSV) and to staff only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";

let platform: Platform;
let trader1: ApiClient;
let trader2: ApiClient;
let auditor: ApiClient;

beforeAll(async () => {
  platform = await startPlatform({ dataDir: null, port: 0, host: "127.0.0.1", demo: true, simulator: false, seed: 7, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
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
});
