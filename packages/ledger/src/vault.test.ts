// The card vault: Luhn, AES-256-GCM sealing with key ids, rotation, and no PAN anywhere else.
import { randomBytes } from "node:crypto";
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openLedger } from "./ledger.ts";
import type { LedgerLogger } from "./logger.ts";
import { PaymentsService } from "./payments.ts";
import { SimulatedProvider } from "./provider.ts";
import { CardVault, type VaultKey, brandOf, luhnValid, normalizePan, parseVaultKeys } from "./vault.ts";

const backends = await testBackends();
const visa = "4111111111111111";
const amex = "378282246310005";
const mastercard = "5555 5555 5555 4444";

describe("card numbers", () => {
  it("validates with Luhn, 12 to 19 digits, spaces and dashes allowed", () => {
    expect(luhnValid(visa)).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(normalizePan("4111-1111-1111-1111")).toBe(visa);
    expect(normalizePan(mastercard)).toBe("5555555555554444");
    expect(normalizePan("4111 1111 1111 111x")).toBeNull();
    expect(normalizePan("")).toBeNull();
    // 12 digits (the minimum) and 19 (the maximum) pass when Luhn-valid; 11 and 20 do not.
    expect(normalizePan("000000000000")).toBe("000000000000");
    expect(normalizePan("0000000000000000000")).toBe("0000000000000000000");
    expect(normalizePan("00000000000")).toBeNull();
    expect(normalizePan("00000000000000000000")).toBeNull();
    expect([visa, amex, "5555555555554444", "6011111111111117", "3530111333300000"].map(brandOf)).toEqual(["visa", "amex", "mastercard", "discover", "other"]);
  });

  it("reads keys from configuration text and refuses bad ones", () => {
    const a = randomBytes(32).toString("base64");
    expect(parseVaultKeys(`k1:${a}, k2:${a}`).map((key) => key.id)).toEqual(["k1", "k2"]);
    expect(() => parseVaultKeys(`k1:${randomBytes(16).toString("base64")}`)).toThrow(/32 bytes/);
    expect(() => parseVaultKeys(`bad id:${a}`)).toThrow(/key id/);
  });
});

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`card vault on ${backend.name}`, () => {
    let sql: Sql;
    let logs: string[];
    let logger: LedgerLogger;
    const k1: VaultKey = { id: "k1", key: randomBytes(32) };
    const k2: VaultKey = { id: "k2", key: randomBytes(32) };
    beforeEach(async () => {
      sql = await backend.open();
      logs = [];
      const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
      logger = { info: record("info"), warn: record("warn"), error: record("error") };
    });
    afterEach(async () => {
      await sql.close();
    });

    it("tokenizes valid numbers, refuses invalid ones, and lets only token, last four and brand out", async () => {
      const vault = await CardVault.open(sql, { keys: [k1], activeKeyId: "k1", logger });
      const outcome = await vault.tokenize(mastercard);
      expect(outcome.status).toBe("ok");
      if (outcome.status !== "ok") return;
      expect(outcome.card).toEqual({ token: expect.stringMatching(/^card_[A-Za-z0-9_-]{32}$/) as unknown, lastFour: "4444", brand: "mastercard" });
      expect(Object.keys(outcome.card).sort()).toEqual(["brand", "lastFour", "token"]);
      expect(await vault.describe(outcome.card.token)).toEqual(outcome.card);
      expect(await vault.describe("card_unknown")).toBeNull();
      expect(await vault.tokenize("4111111111111112")).toEqual({ status: "invalid_pan" });
      expect(await vault.withPan(outcome.card.token, (pan) => Promise.resolve(pan.length))).toEqual({ status: "ok", value: 16 });
      expect(await vault.withPan(`card_${"A".repeat(32)}`, () => Promise.resolve(0))).toEqual({ status: "unknown_token" });
    });

    it("keeps the number out of every table but the vault's sealed column, and out of the logs", async () => {
      const ledger = await openLedger(sql, { logger });
      const vault = await CardVault.open(sql, { keys: [k1], activeKeyId: "k1", logger });
      const cards = [visa, amex, mastercard];
      const tokens: string[] = [];
      for (const pan of cards) {
        const outcome = await vault.tokenize(pan);
        if (outcome.status === "ok") tokens.push(outcome.card.token);
      }
      await vault.tokenize("4111111111111112");
      // A card deposit through payments: the provider sees only the token.
      const provider = new SimulatedProvider({ secret: "whsec_vault_test_secret", deliver: () => Promise.resolve() });
      const payments = new PaymentsService({ ledger, provider, funds: { reserve: () => Promise.resolve(true), credit: () => Promise.resolve() }, webhookSecrets: ["whsec_vault_test_secret"], vault, logger });
      const deposit = await payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 500n, idempotencyKey: "card-1", cardToken: tokens[0] ?? "" });
      expect(deposit.code).toBe("ok");
      await provider.flush();
      const unknown = await payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 500n, idempotencyKey: "card-2", cardToken: `card_${"B".repeat(32)}` });
      expect(unknown.code).toBe("unknown_card");

      const tables = await sql.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
      );
      expect(tables.map((t) => t.table_name)).toContain("ledger_card_vault");
      let dump = "";
      for (const { table_name } of tables) {
        const rows = await sql.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${table_name} t`);
        dump += rows.map((r) => r.row).join("\n");
      }
      expect(dump).toContain(tokens[0]);
      const text = `${dump}\n${logs.join("\n")}\n${JSON.stringify(provider.sent)}`;
      for (const pan of [...cards.map((c) => c.replace(/ /g, "")), "4111111111111112"]) {
        expect(text.includes(pan), `PAN ending ${pan.slice(-4)} leaked`).toBe(false);
        // Not even its middle digits (BIN + account part) in some other formatting.
        expect(text.replace(/[^0-9]/g, "").includes(pan.slice(0, 12)), `PAN digits ending ${pan.slice(-4)} leaked`).toBe(false);
      }
      expect(logs.some((line) => line.includes("card tokenized") && line.includes('"lastFour":"1111"'))).toBe(true);
    });

    it("rotates keys: old cards still open under the old key id, rotate() re-seals them under the new one", async () => {
      const before = await CardVault.open(sql, { keys: [k1], activeKeyId: "k1", logger });
      const first = await before.tokenize(visa);
      const second = await before.tokenize(amex);
      if (first.status !== "ok" || second.status !== "ok") throw new Error("tokenize failed");
      const after = await CardVault.open(sql, { keys: [k1, k2], activeKeyId: "k2", logger });
      const third = await after.tokenize(mastercard);
      if (third.status !== "ok") throw new Error("tokenize failed");
      expect(Object.fromEntries(await after.cardsPerKey())).toEqual({ k1: 2, k2: 1 });
      expect(await after.withPan(first.card.token, (pan) => Promise.resolve(pan))).toEqual({ status: "ok", value: visa });
      const [sealedBefore] = await sql.query<{ sealed: string }>("SELECT sealed FROM ledger_card_vault WHERE token = $1", [first.card.token]);
      expect(await after.rotate()).toEqual({ resealed: 2 });
      expect(Object.fromEntries(await after.cardsPerKey())).toEqual({ k2: 3 });
      const [sealedAfter] = await sql.query<{ sealed: string }>("SELECT sealed FROM ledger_card_vault WHERE token = $1", [first.card.token]);
      expect(sealedAfter?.sealed).not.toBe(sealedBefore?.sealed);
      // The old key can now be retired: a vault holding only k2 opens every card.
      const retired = await CardVault.open(sql, { keys: [k2], activeKeyId: "k2", logger });
      for (const [card, pan] of [
        [first.card, visa],
        [second.card, amex],
        [third.card, "5555555555554444"],
      ] as const) {
        expect(await retired.withPan(card.token, (opened) => Promise.resolve(opened))).toEqual({ status: "ok", value: pan });
      }
      // Without the key a card was sealed with, it cannot be opened.
      await sql.query("UPDATE ledger_card_vault SET key_id = 'k1' WHERE token = $1", [first.card.token]);
      await expect(retired.withPan(first.card.token, () => Promise.resolve(0))).rejects.toThrow(/Vault key k1 is not configured/);
      await expect(CardVault.open(sql, { keys: [k1], activeKeyId: "k2" })).rejects.toThrow(/not among the configured keys/);
    });

    it("binds each sealed number to its token: a sealed value copied into another row does not open", async () => {
      const vault = await CardVault.open(sql, { keys: [k1], activeKeyId: "k1", logger });
      const a = await vault.tokenize(visa);
      const b = await vault.tokenize(amex);
      if (a.status !== "ok" || b.status !== "ok") throw new Error("tokenize failed");
      await sql.query("UPDATE ledger_card_vault SET sealed = (SELECT sealed FROM ledger_card_vault WHERE token = $1) WHERE token = $2", [a.card.token, b.card.token]);
      await expect(vault.withPan(b.card.token, () => Promise.resolve(0))).rejects.toThrow(/authenticate/);
    });
  });
}
