/**
 * The platform through its public API, as clients see it: sign-in with TOTP,
 * order entry with idempotency and grid checks, fills, roles, ownership on every
 * route, API-key signatures, token rotation, WebSocket channels, edge errors.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { generateTotp } from "@tradestream/auth";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { rawText } from "@tradestream/gateway";
import { limitOrder, testConfig, roomyRateLimits } from "./test-platform.ts";
import { openTestSocket } from "./test-socket.ts";


let platform: Platform;
let trader1: ApiClient;
let trader2: ApiClient;
let auditor: ApiClient;
let compliance: ApiClient;
let admin: ApiClient;
let sre: ApiClient;
let support: ApiClient;
let anonymous: ApiClient;

interface OrderBody {
  order: { orderId: number; status: string; filledQuantity: string; leavesQuantity: string; price: string | null; accountId: number };
  fills: Array<{ price: string; quantity: string; liquidity: string }>;
}


beforeAll(async () => {
  platform = await startPlatform(testConfig({
    seed: 1,
    // Many sign-ins from one address in a few seconds; the limits themselves are tested below.
    gateway: { rateLimits: roomyRateLimits },
  }));
  const signIn = (name: string): Promise<ApiClient> => ApiClient.signIn(platform.url, name);
  trader1 = await signIn("trader1");
  trader2 = await signIn("trader2");
  auditor = await signIn("auditor1");
  compliance = await signIn("compliance1");
  admin = await signIn("admin1");
  sre = await signIn("sre1");
  support = await signIn("support1");
  anonymous = new ApiClient(platform.url);
});

afterAll(async () => {
  await platform.close();
});

describe("sign-in", () => {
  it("asks for the second factor, then issues tokens that identify the user and roles", async () => {
    const me = await trader1.get<{ username: string; roles: string[]; accountIds: number[] }>("/api/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.username).toBe("trader1");
    expect(me.body.roles).toEqual(["trader"]);
    expect(me.body.accountIds).toEqual([1001]);
    const wrong = await anonymous.post("/api/v1/auth/login", { username: "trader3", password: "not-the-password" });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: "invalid_credentials", message: expect.any(String) as string } });
    const step = await anonymous.post<{ mfaRequired: boolean; mfaToken: string }>("/api/v1/auth/login", { username: "trader3", password: "tradestream-demo" });
    expect(step.body.mfaRequired).toBe(true);
    const badCode = await anonymous.post("/api/v1/auth/mfa", { mfaToken: step.body.mfaToken, code: "000000" });
    expect(badCode.status).toBe(401);
  });

  it("rotates refresh tokens, detects reuse and revokes the family; logout revokes the access token", async () => {
    const client = await ApiClient.signIn(platform.url, "trader3");
    const first = client.refreshToken;
    expect(first).not.toBeNull();
    const rotated = await anonymous.post<{ accessToken: string; refreshToken: string }>("/api/v1/auth/refresh", { refreshToken: first });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first);
    client.token = rotated.body.accessToken;
    expect((await client.get("/api/v1/auth/me")).status).toBe(200);
    // Presenting the already-rotated token again: reuse → the family is revoked, the new tokens die too.
    const reused = await anonymous.post<{ error: { code: string } }>("/api/v1/auth/refresh", { refreshToken: first });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe("refresh_token_reused");
    expect((await anonymous.post("/api/v1/auth/refresh", { refreshToken: rotated.body.refreshToken })).status).toBe(401);
    expect((await client.get("/api/v1/auth/me")).status).toBe(401);
    // Logout revokes at once.
    await platform.auth.createUser({ username: "logout-user", password: "logout-user-password", groups: ["auditors"], accountIds: [] });
    const other = new ApiClient(platform.url);
    const login = await other.post<{ accessToken: string; refreshToken: string }>("/api/v1/auth/login", { username: "logout-user", password: "logout-user-password" });
    other.token = login.body.accessToken;
    expect((await other.get("/api/v1/auth/me")).status).toBe(200);
    expect((await other.post("/api/v1/auth/logout")).status).toBe(200);
    expect((await other.get("/api/v1/auth/me")).status).toBe(401);
    expect((await anonymous.post("/api/v1/auth/refresh", { refreshToken: login.body.refreshToken })).status).toBe(401);
  });

  it("enrols a second factor over the API: otpauth URI and QR, confirm, recovery codes that work once", async () => {
    await platform.auth.createUser({ username: "enrol-user", password: "enrol-user-password", groups: ["auditors"], accountIds: [] });
    const client = new ApiClient(platform.url);
    const login = await client.post<{ mfaRequired: boolean; accessToken: string }>("/api/v1/auth/login", { username: "enrol-user", password: "enrol-user-password" });
    expect(login.body.mfaRequired).toBe(false);
    client.token = login.body.accessToken;
    const enrol = await client.post<{ secret: string; otpauthUri: string; qrSvg: string }>("/api/v1/auth/totp/enrol");
    expect(enrol.status).toBe(200);
    expect(enrol.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/TradeStream/);
    expect(enrol.body.qrSvg).toContain("<svg");
    const wrong = await client.post<{ error: { code: string } }>("/api/v1/auth/totp/confirm", { code: "000000" });
    expect(wrong.body.error.code).toBe("invalid_mfa_code");
    const confirmed = await client.post<{ recoveryCodes: string[] }>("/api/v1/auth/totp/confirm", { code: generateTotp(enrol.body.secret, Date.now()) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    const [recovery = ""] = confirmed.body.recoveryCodes;
    // From now on a password alone is not enough; a recovery code finishes sign-in, once.
    const step = await anonymous.post<{ mfaRequired: boolean; mfaToken: string }>("/api/v1/auth/login", { username: "enrol-user", password: "enrol-user-password" });
    expect(step.body.mfaRequired).toBe(true);
    const withRecovery = await anonymous.post<{ accessToken: string }>("/api/v1/auth/mfa", { mfaToken: step.body.mfaToken, code: recovery });
    expect(withRecovery.status).toBe(200);
    const again = await anonymous.post<{ mfaToken: string }>("/api/v1/auth/login", { username: "enrol-user", password: "enrol-user-password" });
    const reused = await anonymous.post<{ error: { code: string } }>("/api/v1/auth/mfa", { mfaToken: again.body.mfaToken, code: recovery });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe("invalid_mfa_code");
  });

  it("refuses requests without credentials and with a malformed bearer token", async () => {
    const none = await anonymous.get<{ error: { code: string } }>("/api/v1/orders");
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("unauthenticated");
    const bad = await new ApiClient(platform.url, "not-a-jwt").get<{ error: { code: string } }>("/api/v1/orders");
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toMatch(/token_invalid|unauthenticated/);
  });
});

describe("orders", () => {
  it("places a limit order durably, and a retry with the same clientOrderId returns the first answer", async () => {
    const first = await trader1.post<OrderBody>("/api/v1/orders", limitOrder("t1-bid-1", "buy", "229.50", "10"));
    expect(first.status).toBe(201);
    expect(first.body.order).toMatchObject({ status: "new", price: "229.50", leavesQuantity: "10", accountId: 1001 });
    const retry = await trader1.post<OrderBody>("/api/v1/orders", limitOrder("t1-bid-1", "buy", "229.50", "10"));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replay")).toBe("true");
    expect(retry.body.order.orderId).toBe(first.body.order.orderId);
    const got = await trader1.get<{ order: { orderId: number } }>(`/api/v1/orders/${String(first.body.order.orderId)}`);
    expect(got.body.order.orderId).toBe(first.body.order.orderId);
  });

  it("rejects prices off the tick grid and quantities off the lot grid with the engine's codes", async () => {
    const tick = await trader1.post<{ error: { code: string; message: string } }>("/api/v1/orders", limitOrder("t1-off-tick", "buy", "229.505", "10"));
    expect(tick.status).toBe(400);
    expect(tick.body.error.code).toBe("price_off_tick");
    const lot = await trader1.post<{ error: { code: string } }>("/api/v1/orders", limitOrder("t1-off-lot", "buy", "229.50", "1.5"));
    expect(lot.status).toBe(400);
    expect(lot.body.error.code).toBe("quantity_off_lot");
    const notNumber = await trader1.post<{ error: { code: string } }>("/api/v1/orders", limitOrder("t1-nan", "buy", "abc", "1"));
    expect(notNumber.status).toBe(400);
    expect(notNumber.body.error.code).toBe("validation_failed");
    const collar = await trader1.post<{ error: { code: string } }>("/api/v1/orders", limitOrder("t1-collar", "buy", "400.00", "1"));
    expect(collar.status).toBe(422);
    expect(collar.body.error.code).toBe("price_outside_collar");
  });

  it("crosses two traders: the taker gets its fills in the answer, both see them in /fills", async () => {
    const bid = await trader1.post<OrderBody>("/api/v1/orders", limitOrder("t1-bid-2", "buy", "229.80", "5"));
    expect(bid.status).toBe(201);
    const ask = await trader2.post<OrderBody>("/api/v1/orders", limitOrder("t2-ask-1", "sell", "229.80", "3"));
    expect(ask.status).toBe(201);
    expect(ask.body.order.status).toBe("filled");
    expect(ask.body.fills).toEqual([expect.objectContaining({ price: "229.80", quantity: "3", liquidity: "taker" })]);
    const makerFills = await trader1.get<{ items: Array<{ orderId: number; quantity: string; liquidity: string }> }>(`/api/v1/fills?orderId=${String(bid.body.order.orderId)}`);
    expect(makerFills.body.items).toEqual([expect.objectContaining({ quantity: "3", liquidity: "maker" })]);
    const order = await trader1.get<{ order: { status: string; filledQuantity: string } }>(`/api/v1/orders/${String(bid.body.order.orderId)}`);
    expect(order.body.order).toMatchObject({ status: "partially_filled", filledQuantity: "3" });
    const positions = await trader1.get<{ items: Array<{ symbol: string; position: string }> }>("/api/v1/accounts/1001/positions");
    expect(positions.body.items.find((p) => p.symbol === "SAP")?.position).toBe("5003");
  });

  it("replaces and cancels its own orders", async () => {
    const placed = await trader1.post<OrderBody>("/api/v1/orders", limitOrder("t1-amend", "buy", "228.00", "10"));
    const id = placed.body.order.orderId;
    const amended = await trader1.request<OrderBody>("PATCH", `/api/v1/orders/${String(id)}`, { price: "228.10", quantity: "8" });
    expect(amended.status).toBe(200);
    expect(amended.body.order).toMatchObject({ price: "228.10", leavesQuantity: "8" });
    const cancelled = await trader1.request<OrderBody>("DELETE", `/api/v1/orders/${String(id)}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.order.status).toBe("cancelled");
    const again = await trader1.request<{ error: { code: string } }>("DELETE", `/api/v1/orders/${String(id)}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("unknown_order");
  });

  it("lists orders newest first with cursor pagination that visits each order once", async () => {
    for (let i = 0; i < 7; i += 1) await trader1.post("/api/v1/orders", limitOrder(`t1-page-${String(i)}`, "buy", "227.00", "1"));
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ orderId: number }>; nextCursor: string | null } } = await trader1.get(`/api/v1/orders?limit=3${cursor === null ? "" : `&cursor=${cursor}`}`);
      seen.push(...page.body.items.map((o) => o.orderId));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(seen.length).toBeGreaterThanOrEqual(10);
  });
});

describe("roles and ownership", () => {
  it("never shows or lets a trader touch another trader's orders or accounts", async () => {
    const mine = await trader1.post<OrderBody>("/api/v1/orders", limitOrder("t1-private", "buy", "226.00", "2"));
    const id = String(mine.body.order.orderId);
    expect((await trader2.get(`/api/v1/orders/${id}`)).status).toBe(404);
    expect((await trader2.request("DELETE", `/api/v1/orders/${id}`)).status).toBe(404);
    expect((await trader2.request("PATCH", `/api/v1/orders/${id}`, { price: "226.10" })).status).toBe(404);
    expect((await trader2.get("/api/v1/orders?accountId=1001")).status).toBe(403);
    expect((await trader2.get("/api/v1/fills?accountId=1001")).status).toBe(403);
    expect((await trader2.get(`/api/v1/fills?orderId=${id}`)).status).toBe(404);
    expect((await trader2.get("/api/v1/accounts/1001")).status).toBe(404);
    expect((await trader2.get("/api/v1/accounts/1001/balances")).status).toBe(404);
    expect((await trader2.get("/api/v1/accounts/1001/positions")).status).toBe(404);
    expect((await trader2.post("/api/v1/orders/mass-cancel", { accountId: 1001 })).status).toBe(403);
    expect((await trader2.post("/api/v1/orders", { ...limitOrder("t2-as-t1", "buy", "226.00", "1"), accountId: 1001 })).status).toBe(403);
    const list = await trader2.get<{ items: Array<{ accountId: number }> }>("/api/v1/orders?limit=500");
    expect(list.body.items.every((o) => o.accountId === 1002)).toBe(true);
    const accounts = await trader2.get<{ items: Array<{ accountId: number }> }>("/api/v1/accounts");
    expect(accounts.body.items.map((a) => a.accountId)).toEqual([1002]);
    // The order is untouched.
    const still = await trader1.get<{ order: { status: string; price: string } }>(`/api/v1/orders/${id}`);
    expect(still.body.order).toMatchObject({ status: "new", price: "226.00" });
  });

  it("lets staff read by role and nothing more", async () => {
    const all = await auditor.get<{ items: Array<{ accountId: number }> }>("/api/v1/orders?limit=500");
    expect(all.status).toBe(200);
    expect(new Set(all.body.items.map((o) => o.accountId))).toEqual(new Set([1001, 1002]));
    expect((await auditor.post("/api/v1/orders", limitOrder("aud-1", "buy", "229.00", "1"))).status).toBe(403);
    expect((await auditor.post("/api/v1/admin/instruments/SAP/halt")).status).toBe(403);
    expect((await auditor.get("/api/v1/admin/audit")).status).toBe(200);
    expect((await support.get("/api/v1/orders")).status).toBe(200);
    expect((await support.get("/api/v1/admin/audit")).status).toBe(403);
    expect((await support.get("/api/v1/accounts/1001")).status).toBe(404);
    expect((await sre.get("/api/v1/ops/status")).status).toBe(200);
    expect((await sre.get<{ items: unknown[] }>("/api/v1/orders")).body.items).toEqual([]);
    expect((await trader1.get("/api/v1/ops/status")).status).toBe(403);
    expect((await trader1.get("/api/v1/admin/users")).status).toBe(403);
    expect((await compliance.post("/api/v1/admin/instruments", {})).status).toBe(400);
  });

  it("halts and resumes an instrument (compliance); orders in a halted instrument are refused; actions are audited", async () => {
    const halt = await compliance.post<{ state: string }>("/api/v1/admin/instruments/SIE/halt");
    expect(halt.status).toBe(200);
    expect(halt.body.state).toBe("halted");
    const refused = await trader1.post<{ error: { code: string } }>("/api/v1/orders", { ...limitOrder("t1-halted", "buy", "180.00", "1"), symbol: "SIE" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("instrument_halted");
    const resume = await compliance.post<{ state: string }>("/api/v1/admin/instruments/SIE/resume");
    expect(resume.body.state).toBe("open");
    const audit = await auditor.get<{ items: Array<{ action: string; actor: string; outcome: string }> }>("/api/v1/admin/audit?limit=50");
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: "instrument.halt", actor: "compliance1", outcome: "ok" })]));
    const denied = await trader1.post("/api/v1/admin/instruments/SIE/halt");
    expect(denied.status).toBe(403);
    const afterDenied = await auditor.get<{ items: Array<{ action: string; actor: string; outcome: string }> }>("/api/v1/admin/audit?limit=50");
    expect(afterDenied.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: "instrument.halt", actor: "trader1", outcome: "denied" })]));
  });

  it("lets an admin create an instrument, an account and a user with group membership", async () => {
    const created = await admin.post<{ symbol: string; instrumentId: number }>("/api/v1/admin/instruments", {
      symbol: "AIR",
      isin: "NL0000235190",
      mic: "XPAR",
      currency: "EUR",
      tickSize: "0.02",
      lotSize: "1",
      referencePrice: "150.00",
      priceBandBps: 1000,
      circuitBandBps: 500,
      maxOrderQuantity: "10000",
      maxOrderNotional: "1000000.00",
      makerFeeBps: 1,
      takerFeeBps: 3,
    });
    expect(created.status).toBe(201);
    expect(created.body.symbol).toBe("AIR");
    const account = await admin.post("/api/v1/admin/accounts", { accountId: 1010, firmId: 1 });
    expect(account.status).toBe(201);
    const deposit = await admin.post("/api/v1/admin/accounts/1010/deposits", { currency: "EUR", amount: "5000.00" });
    expect(deposit.status).toBe(200);
    const user = await admin.post<{ userId: number; groups: string[] }>("/api/v1/admin/users", { username: "trader10", password: "a-long-password-10", groups: ["authorized-traders"], accountIds: [1010] });
    expect(user.status).toBe(201);
    const trader10 = new ApiClient(platform.url);
    const login = await trader10.post<{ accessToken: string; mfaRequired: boolean }>("/api/v1/auth/login", { username: "trader10", password: "a-long-password-10" });
    expect(login.body.mfaRequired).toBe(false);
    trader10.token = login.body.accessToken;
    const order = await trader10.post<OrderBody>("/api/v1/orders", { symbol: "AIR", side: "buy", type: "limit", price: "149.98", quantity: "10", clientOrderId: "t10-1" });
    expect(order.status).toBe(201);
    const offTick = await trader10.post<{ error: { code: string } }>("/api/v1/orders", { symbol: "AIR", side: "buy", type: "limit", price: "149.99", quantity: "10", clientOrderId: "t10-2" });
    expect(offTick.body.error.code).toBe("price_off_tick");
    const balance = await trader10.get<{ items: Array<{ currency: string; available: string; reserved: string }> }>("/api/v1/accounts/1010/balances");
    expect(balance.body.items).toEqual([expect.objectContaining({ currency: "EUR", reserved: "1500.24", available: "3499.76" })]);
  });
});

describe("API keys", () => {
  it("signs requests with HMAC; stale timestamps and replayed nonces are refused", async () => {
    const created = await trader2.post<{ keyId: string; secret: string }>("/api/v1/api-keys", { label: "bot" });
    expect(created.status).toBe(201);
    const bot = new ApiClient(platform.url, null, { keyId: created.body.keyId, secret: created.body.secret });
    const placed = await bot.post<OrderBody>("/api/v1/orders", limitOrder("t2-bot-1", "sell", "231.00", "1"));
    expect(placed.status).toBe(201);
    const listed = await trader2.get<{ items: Array<{ keyId: string }> }>("/api/v1/api-keys");
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    // Replay the exact same signed request.
    const { signRequest } = await import("@tradestream/auth");
    const timestamp = String(Date.now());
    const body = JSON.stringify(limitOrder("t2-bot-2", "sell", "231.00", "1"));
    const headers = { "content-type": "application/json", "x-ts-key": created.body.keyId, "x-ts-timestamp": timestamp, "x-ts-nonce": "nonce-replay-1", "x-ts-signature": signRequest(created.body.secret, { timestamp, nonce: "nonce-replay-1", method: "POST", path: "/api/v1/orders", body }) };
    const once = await fetch(`${platform.url}/api/v1/orders`, { method: "POST", headers, body });
    expect(once.status).toBe(201);
    const twice = await fetch(`${platform.url}/api/v1/orders`, { method: "POST", headers, body });
    expect(twice.status).toBe(401);
    expect(((await twice.json()) as { error: { code: string } }).error.code).toBe("nonce_replayed");
    const old = String(Date.now() - 120_000);
    const stale = await fetch(`${platform.url}/api/v1/orders`, {
      method: "POST",
      headers: { ...headers, "x-ts-timestamp": old, "x-ts-nonce": "nonce-stale-1", "x-ts-signature": signRequest(created.body.secret, { timestamp: old, nonce: "nonce-stale-1", method: "POST", path: "/api/v1/orders", body }) },
      body,
    });
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("signature_stale");
    const tampered = await fetch(`${platform.url}/api/v1/orders`, { method: "POST", headers: { ...headers, "x-ts-nonce": "nonce-tamper-1" }, body });
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe("signature_invalid");
    expect((await bot.post("/api/v1/api-keys", { label: "child" })).status).toBe(403);
  });
});

describe("WebSocket", () => {
  it("sends a book snapshot then sequenced deltas, private order updates, and takes orders", async () => {
    const { next, send, close } = await openTestSocket(platform.url);
    send({ op: "auth", token: trader2.token });
    await next((m) => m.type === "authenticated");
    send({ op: "subscribe", channel: "book", symbol: "TTE", depth: 5 });
    send({ op: "subscribe", channel: "orders" });
    const snapshot = await next((m) => m.type === "snapshot");
    await next((m) => m.type === "subscribed" && m.channel === "orders");
    send({ op: "place", id: 7, order: { symbol: "TTE", side: "buy", type: "limit", price: "54.90", quantity: "12", clientOrderId: "t2-ws-1" } });
    const ack = await next((m) => m.type === "ack" && m.id === 7);
    expect(ack.status).toBe(201);
    const delta = await next((m) => m.type === "delta");
    expect(delta.seq).toBe((snapshot.seq as number) + 1);
    expect(delta.changes).toEqual([["buy", "54.90", "12", 1]]);
    const update = await next((m) => m.type === "order");
    expect(update.order).toMatchObject({ clientOrderId: "t2-ws-1", status: "new" });
    send({ op: "subscribe", channel: "orders", accountId: 1001 });
    const refused = await next((m) => m.type === "error" && (m.error as { code: string }).code === "not_owner");
    expect(refused).toBeDefined();
    send("not json");
    await next((m) => m.type === "error" && (m.error as { code: string }).code === "invalid_json");
    close();
  });
});

describe("WebSocket and revoked credentials", () => {
  it("closes a connection (4401) as soon as its session is logged out or its user is disabled", async () => {
    const { userId } = await platform.auth.createUser({ username: "ws-revoke", password: "ws-revoke-password", groups: ["auditors"], accountIds: [] });
    const connect = async (): Promise<{ socket: WebSocket; closed: Promise<number>; client: ApiClient }> => {
      const client = new ApiClient(platform.url);
      const login = await client.post<{ accessToken: string }>("/api/v1/auth/login", { username: "ws-revoke", password: "ws-revoke-password" });
      client.token = login.body.accessToken;
      const socket = new WebSocket(`${platform.url.replace("http", "ws")}/ws`);
      const closed = new Promise<number>((resolve) => socket.once("close", (code: number) => resolve(code)));
      const authenticated = new Promise<void>((resolve) => {
        socket.on("message", (data: WebSocket.RawData) => {
          if ((JSON.parse(rawText(data)) as { type: string }).type === "authenticated") resolve();
        });
      });
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ op: "auth", token: client.token }));
      await authenticated;
      return { socket, closed, client };
    };
    const first = await connect();
    const second = await connect();
    expect((await first.client.post("/api/v1/auth/logout")).status).toBe(200);
    expect(await first.closed).toBe(4401);
    // The other session of the same user is untouched by that logout…
    second.socket.send(JSON.stringify({ op: "ping", id: 1 }));
    await new Promise<void>((resolve) => second.socket.once("message", () => resolve()));
    expect(second.socket.readyState).toBe(WebSocket.OPEN);
    // …and ends when an administrator disables the user.
    expect((await admin.request("PATCH", `/api/v1/admin/users/${String(userId)}`, { disabled: true })).status).toBe(200);
    expect(await second.closed).toBe(4401);
  });
});

describe("edges", () => {
  it("answers unknown routes, bad JSON, oversized bodies and wrong media types with the one error shape", async () => {
    const missing = await anonymous.get<{ error: { code: string } }>("/api/v1/nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    const badJson = await trader1.request<{ error: { code: string } }>("POST", "/api/v1/orders", "{not json");
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe("invalid_json");
    const huge = await trader1.request<{ error: { code: string } }>("POST", "/api/v1/orders", JSON.stringify({ clientOrderId: "x".repeat(100_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("body_too_large");
    const media = await trader1.request<{ error: { code: string } }>("POST", "/api/v1/orders", "a=b", { "content-type": "application/x-www-form-urlencoded" });
    expect(media.status).toBe(415);
    const extra = await trader1.post<{ error: { code: string; message: string } }>("/api/v1/orders", { ...limitOrder("t1-extra", "buy", "229.00", "1"), colour: "red" });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain("colour");
    const proto = await trader1.request<{ error: { code: string } }>("POST", "/api/v1/orders", '{"__proto__":{"admin":true},"symbol":"SAP"}');
    expect(proto.status).toBe(400);
  });

  it("rate-limits sign-in per IP, requests per user and per IP, with 429 and Retry-After", async () => {
    const limited = await startPlatform(testConfig({
      seed: 3,
      gateway: { rateLimits: { ip: { ratePerS: 0.01, burst: 10 }, user: { ratePerS: 0.01, burst: 3 }, auth: { ratePerS: 0.01, burst: 2 } } },
    }));
    try {
      const client = new ApiClient(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await client.post("/api/v1/auth/login", { username: "nobody", password: "wrong-password-x" })).status);
      expect(statuses).toEqual([401, 401, 429, 429]);
      // Per user: sign in through the service (the sign-in route's bucket is spent) and spend the user's 3 tokens.
      await limited.auth.createUser({ username: "limited-user", password: "limited-user-password", groups: ["auditors"], accountIds: [] });
      const login = await limited.auth.login("limited-user", "limited-user-password", { ip: "127.0.0.1" });
      if (login.status !== "ok") throw new Error("expected a token without a second factor");
      const user = new ApiClient(limited.url, login.tokens.accessToken);
      const mine: number[] = [];
      for (let i = 0; i < 4; i += 1) mine.push((await user.get("/api/v1/auth/me")).status);
      expect(mine).toEqual([200, 200, 200, 429]);
      // Per IP: 10 tokens, 4 spent above.
      const markets: Array<{ status: number; retryAfter: string | null }> = [];
      for (let i = 0; i < 7; i += 1) {
        const response = await client.get("/api/v1/markets");
        markets.push({ status: response.status, retryAfter: response.headers.get("retry-after") });
      }
      expect(markets.filter((m) => m.status === 200).length).toBe(6);
      expect(markets.at(-1)?.status).toBe(429);
      expect(Number(markets.at(-1)?.retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await client.get("/health")).status).toBe(200); // probes are never limited
    } finally {
      await limited.close();
    }
  });

  it("serves health, readiness, metrics, security headers and the OpenAPI document", async () => {
    expect((await anonymous.get("/health")).status).toBe(200);
    const ready = await anonymous.get<{ status: string }>("/ready");
    expect(ready.body.status).toBe("ready");
    const metrics = await anonymous.get<string>("/metrics");
    expect(metrics.body).toContain("tradestream_http_requests_total");
    expect(metrics.body).toContain("tradestream_orders_total");
    expect(metrics.body).toContain("tradestream_engine_queue_depth");
    // The sequence gauges are read at the scrape: they name the engine's own counters.
    expect(/^tradestream_journal_seq (\d+)$/m.exec(metrics.body)?.[1]).toBe(String(platform.shard.seq));
    expect(/^tradestream_engine_event_seq (\d+)$/m.exec(metrics.body)?.[1]).toBe(String(platform.shard.engine.eventSeq));
    // Per-thread CPU is read from /proc (Linux): the event loop's always, the store's when the embedded database runs on a worker thread.
    if (existsSync("/proc/thread-self/stat")) {
      const eventLoop = /^tradestream_thread_cpu_seconds_total\{thread="event_loop"\} ([0-9.e-]+)$/m.exec(metrics.body);
      // Start-up alone (migrations, seeding, replay) kept the event loop busy for well over a tick.
      expect(Number(eventLoop?.[1])).toBeGreaterThan(0);
      expect(/^tradestream_thread_cpu_seconds_total\{thread="store"\} [0-9.e-]+$/m.test(metrics.body)).toBe(platform.sql.threadId != null);
    }
    const markets = await anonymous.get("/api/v1/markets");
    expect(markets.headers.get("x-content-type-options")).toBe("nosniff");
    expect(markets.headers.get("x-request-id")).toMatch(/.+/);
    const doc = await anonymous.get<{ openapi: string; paths: Record<string, unknown> }>("/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/v1/orders", "/api/v1/markets/{symbol}/book"]));
    const ui = await fetch(`${platform.url}/docs`, { redirect: "follow" });
    expect(ui.status).toBe(200);
  });

  it("serves public market data: book, trades, candles, ticker", async () => {
    const book = await anonymous.get<{ bids: Array<[string, string, number]>; seq: number }>("/api/v1/markets/SAP/book?depth=5");
    expect(book.status).toBe(200);
    expect(book.body.bids[0]?.[0]).toBe("229.80");
    const trades = await anonymous.get<{ items: Array<{ price: string; quantity: string }> }>("/api/v1/markets/SAP/trades");
    expect(trades.body.items[0]).toMatchObject({ price: "229.80", quantity: "3" });
    const candles = await anonymous.get<{ items: Array<{ open: string; volume: string }> }>("/api/v1/markets/SAP/candles?interval=1m");
    expect(candles.body.items.at(-1)).toMatchObject({ open: "229.80" });
    const ticker = await anonymous.get<{ last: string }>("/api/v1/markets/sap/ticker");
    expect(ticker.body.last).toBe("229.80");
    const unknown = await anonymous.get<{ error: { code: string } }>("/api/v1/markets/NOPE/book");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_instrument");
    const badDepth = await anonymous.get<{ error: { code: string } }>("/api/v1/markets/SAP/book?depth=0");
    expect(badDepth.status).toBe(400);
  });
});
