/**
 * Every route, attacked. (1) Ownership: a trader aims every route of the OpenAPI
 * document at another trader's orders, account, keys and user — nothing of the
 * other account is returned and nothing of it changes. (2) Fuzz: generated bad
 * input at every route — never a 5xx, the process stays up, and a refused
 * request changes no state.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

let platform: Platform;
let trader1: ApiClient;
let trader2: ApiClient;
let admin: ApiClient;
let routes: Array<{ method: string; path: string }> = [];
let victimOrderId = 0;
let victimKeyId = "";
let victimUserId = 0;

/** Everything that belongs to account 1001 / user trader1, as one string. */
async function victimState(): Promise<string> {
  const orders = platform.orders.listOrders({ accounts: [1001], limit: 500 }).items;
  const fills = platform.orders.fills({ accounts: [1001], limit: 500 }).items;
  const user = await platform.auth.getUser(victimUserId);
  const keys = await platform.auth.listApiKeys(victimUserId);
  return JSON.stringify({ orders, fills, balances: platform.orders.balances(1001), positions: platform.orders.positions(1001), account: platform.orders.account(1001), user, keys });
}

/** Business state of the whole platform (what a refused request must not change). */
async function platformState(): Promise<string> {
  const accounts = platform.orders.accounts().map((account) => ({ account, balances: platform.orders.balances(account.accountId), positions: platform.orders.positions(account.accountId) }));
  const open = platform.orders.listOrders({ accounts: "all", status: "open", limit: 500 }).items;
  const users = await platform.auth.listUsers();
  return JSON.stringify({ accounts, open, instruments: platform.market.instruments(), users });
}

beforeAll(async () => {
  platform = await startPlatform(testConfig({
    seed: 2,
    // The fuzzer sends many requests quickly; limits are tested elsewhere.
    gateway: { rateLimits: { ip: { ratePerS: 1e6, burst: 1e6 }, user: { ratePerS: 1e6, burst: 1e6 }, auth: { ratePerS: 1e6, burst: 1e6 } } },
  }));
  trader1 = await ApiClient.signIn(platform.url, "trader1");
  trader2 = await ApiClient.signIn(platform.url, "trader2");
  admin = await ApiClient.signIn(platform.url, "admin1");
  const placed = await trader1.post<{ order: { orderId: number } }>("/api/v1/orders", { symbol: "SAP", side: "buy", type: "limit", price: "229.00", quantity: "4", clientOrderId: "victim-1" });
  victimOrderId = placed.body.order.orderId;
  await trader2.post("/api/v1/orders", { symbol: "SAP", side: "sell", type: "limit", price: "229.00", quantity: "1", clientOrderId: "hit-victim" });
  victimKeyId = (await trader1.post<{ keyId: string }>("/api/v1/api-keys", { label: "victim" })).body.keyId;
  victimUserId = (await trader1.get<{ userId: number }>("/api/v1/auth/me")).body.userId;
  const doc = await trader1.get<{ paths: Record<string, Record<string, unknown>> }>("/openapi.json");
  routes = Object.entries(doc.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
});

afterAll(async () => {
  await platform.close();
});

const fill = (path: string, values: Record<string, string>): string => path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? "1");

describe("ownership on every route", () => {
  it("covers every documented route", () => {
    expect(routes.length).toBeGreaterThan(30);
  });

  it("a trader aiming any route at another trader's resources gets nothing of theirs and changes nothing", async () => {
    const before = await victimState();
    const values = { orderId: String(victimOrderId), accountId: "1001", symbol: "SAP", keyId: victimKeyId, userId: String(victimUserId) };
    const bodies: Array<Record<string, unknown>> = [
      { accountId: 1001 },
      { accountId: 1001, symbol: "SAP", side: "sell", type: "limit", price: "229.00", quantity: "1", clientOrderId: "steal-1" },
      { orders: [{ accountId: 1001, symbol: "SAP", side: "sell", type: "limit", price: "229.00", quantity: "1", clientOrderId: "steal-2" }] },
      { orderIds: [victimOrderId] },
      { price: "228.00" },
      { scope: "account", id: 1001, active: true },
      { currency: "EUR", amount: "1.00" },
      { groups: ["fin-compliance-leads"], accountIds: [1001] },
    ];
    for (const route of routes) {
      if (route.path.startsWith("/api/v1/auth/")) continue; // about the caller only; covered in api.test.ts
      const base = fill(route.path, values);
      const queries = route.method === "GET" ? ["", "?accountId=1001", `?orderId=${String(victimOrderId)}`, `?accountId=1001&orderId=${String(victimOrderId)}`] : [""];
      const attempts = route.method === "GET" || route.method === "DELETE" ? [undefined] : bodies;
      for (const query of queries) {
        for (const body of attempts) {
          const path = `${base}${query}`;
          const response = await trader2.request(route.method, path, body);
          expect(response.status, `${route.method} ${path}`).toBeLessThan(500);
          const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
          expect(text, `${route.method} ${path} leaked account 1001`).not.toMatch(/"accountId":1001\b|"accountIds":\[1001\]/);
        }
      }
    }
    expect(await victimState()).toBe(before);
  });
});

const junk = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom("-1", "0", "1e309", "NaN", "../../etc/passwd", "%00", "9007199254740993", "' OR 1=1 --", "<script>", "\u0000", "🙂", "1.0000000000000000000001", " 1"),
  fc.integer().map(String),
);
const jsonJunk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    symbol: fc.oneof(fc.constant("SAP"), fc.string()),
    side: fc.oneof(fc.constantFrom("buy", "sell"), fc.string()),
    type: fc.oneof(fc.constantFrom("limit", "market", "stop", "stop_limit"), fc.string()),
    price: fc.oneof(fc.constantFrom("229.00", "-1", "0", "1e3", "229.001", "99999999999999999999"), fc.string(), fc.double(), fc.constant(null)),
    quantity: fc.oneof(fc.constantFrom("1", "0", "-5", "1.5", "9007199254740993"), fc.string(), fc.integer()),
    clientOrderId: fc.oneof(fc.string({ maxLength: 60 }), fc.constant("")),
    accountId: fc.oneof(fc.integer(), fc.string(), fc.constant(1002)),
    timeInForce: fc.oneof(fc.constantFrom("GTC", "IOC", "FOK", "DAY"), fc.string()),
  }, { requiredKeys: [] }),
);

describe("fuzz: bad input at every route", () => {
  it("never answers 5xx, stays up, and refused requests change no state", async () => {
    const clients = [trader2, admin, new ApiClient(platform.url)];
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 10_000 }),
        fc.nat({ max: 2 }),
        fc.dictionary(fc.constantFrom("orderId", "accountId", "symbol", "keyId", "userId"), junk),
        fc.dictionary(fc.constantFrom("limit", "cursor", "depth", "interval", "status", "accountId", "symbol", "from", "to", "beforeId", "orderId"), junk, { maxKeys: 3 }),
        fc.oneof(jsonJunk, fc.string({ maxLength: 200 }).map((text) => ({ raw: text }))),
        async (routeIndex, clientIndex, params, query, body) => {
          const route = routes[routeIndex % routes.length];
          const client = clients[clientIndex];
          if (route === undefined || client === undefined) return;
          if (route.path === "/api/v1/auth/logout") return; // would end the fuzzing client's own session
          const search = new URLSearchParams(query).toString();
          const path = `${fill(route.path, Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeURIComponent(v)])))}${search === "" ? "" : `?${search}`}`;
          const payload = route.method === "GET" || route.method === "DELETE" ? undefined : typeof body === "object" && body !== null && "raw" in body ? String((body as { raw: unknown }).raw) : body;
          const before = await platformState();
          const response = await client.request(route.method, path, payload);
          expect(response.status, `${route.method} ${path} ${JSON.stringify(payload)}`).toBeLessThan(500);
          if (response.status >= 400) {
            expect(response.body, `${route.method} ${path}`).toMatchObject({ error: { code: expect.any(String) as string, message: expect.any(String) as string } });
            expect(await platformState(), `${route.method} ${path} changed state while refusing`).toBe(before);
          }
        },
      ),
      { numRuns: 400, seed: 20261122 },
    );
    expect((await new ApiClient(platform.url).get("/health")).status).toBe(200);
  });
});
