// Payments against the real engine (the reservation comes first) and the real projection, on PGlite and PostgreSQL.
import type { Command } from "@tradestream/contracts";
import { Engine, fixtures } from "@tradestream/engine";
import { type Sql, testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Ledger, openLedger } from "./ledger.ts";
import { idempotencyKeyCharsMax, paymentMinorMax, webhookBodyBytesMax } from "./limits.ts";
import type { LedgerLogger } from "./logger.ts";
import { type EngineFunds, type PaymentsOptions, PaymentsService } from "./payments.ts";
import { LedgerProjector } from "./projector.ts";
import { type ProviderRequest, type SimulatedDecision, SimulatedProvider } from "./provider.ts";
import { reconcile } from "./reconcile.ts";
import { trialBalance } from "./reports.ts";
import { engineCash, enginePositions } from "./test-stream.ts";
import { signWebhook } from "./webhook.ts";

const backends = await testBackends();
const quiet: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const secret = "whsec_payments_test_secret";
const dayMs = 86_400_000;

interface Switches {
  /** The provider refuses every request. */
  providerDown: boolean;
  /** The engine cannot be reached when reserving. */
  reserveFails: boolean;
  /** The engine cannot be reached when crediting. */
  creditFails: boolean;
  /** The engine applies the command, then the answer is lost (the process dies in between). */
  loseAnswers: boolean;
}

interface Harness {
  readonly sql: Sql;
  readonly ledger: Ledger;
  readonly engine: Engine;
  readonly provider: SimulatedProvider;
  readonly payments: PaymentsService;
  readonly clock: { nowMs: number };
  readonly credits: string[];
  /** Outcome the provider reports per direction; succeeded unless set. */
  readonly decisions: Map<ProviderRequest["direction"], SimulatedDecision>;
  readonly switches: Switches;
  available(accountId: number, currency?: string): number;
}

async function harness(sql: Sql, options: Partial<PaymentsOptions> = {}): Promise<Harness> {
  const ledger = await openLedger(sql, { logger: quiet });
  const engine = new Engine();
  const projector = await LedgerProjector.open(ledger);
  const clock = { nowMs: 1_767_225_600_000 };
  const switches: Switches = { providerDown: false, reserveFails: false, creditFails: false, loseAnswers: false };
  const run = async (command: Command) => {
    const events = engine.apply({ ...command, tsUs: clock.nowMs * 1_000 });
    await projector.apply(events);
    return events;
  };
  for (const command of [fixtures.instrument(), fixtures.account(1), fixtures.account(2)]) await run(command);
  const credits: string[] = [];
  const decisions = new Map<ProviderRequest["direction"], SimulatedDecision>();
  // The engine side as the platform wires it: DebitCash holds, CreditCash credits, each once per payment.
  // The switches make the engine unreachable, or apply a command and then lose the answer (a crash in between).
  const funds: EngineFunds = {
    async reserve(accountId, currency, amountMinor, paymentId) {
      if (switches.reserveFails) throw new Error("engine unreachable");
      const events = await run({ type: "DebitCash", tsUs: 0, accountId, currency, amountMinor: Number(amountMinor), paymentId });
      if (switches.loseAnswers) throw new Error("crashed after the engine applied");
      const rejected = events.find((event) => event.type === "CommandRejected");
      return rejected === undefined || rejected.reason === "duplicate_payment";
    },
    async credit(accountId, currency, amountMinor, paymentId) {
      if (switches.creditFails) throw new Error("engine unreachable");
      const events = await run({ type: "CreditCash", tsUs: 0, accountId, currency, amountMinor: Number(amountMinor), paymentId });
      const rejected = events.find((event) => event.type === "CommandRejected");
      if (rejected === undefined) credits.push(paymentId);
      if (switches.loseAnswers) throw new Error("crashed after the engine applied");
      if (rejected !== undefined && rejected.reason !== "duplicate_payment") throw new Error(`the engine refused a credit: ${rejected.reason}`);
    },
  };
  let payments: PaymentsService | null = null;
  const simulated = new SimulatedProvider({
    secret,
    clock: { nowMs: () => clock.nowMs },
    decide: (request) => decisions.get(request.direction) ?? { outcome: "succeeded" },
    deliver: async (body, signature) => {
      if (payments === null) throw new Error("payments not ready");
      return payments.handleWebhook(body, signature);
    },
  });
  const provider = {
    name: simulated.name,
    submit: (request: ProviderRequest) => (switches.providerDown ? Promise.reject(new Error("provider unreachable")) : simulated.submit(request)),
  };
  payments = new PaymentsService({ ledger, provider, funds, webhookSecrets: [secret], clock: { nowMs: () => clock.nowMs }, logger: quiet, ...options });
  return {
    sql,
    ledger,
    engine,
    provider: simulated,
    payments,
    clock,
    credits,
    decisions,
    switches,
    available(accountId, currency = "EUR") {
      const slot = engine.accounts.get(accountId)?.cash.get(currency);
      return slot === undefined ? 0 : slot.balance - slot.reserved;
    },
  };
}

async function expectBooksMatchEngine(h: Harness): Promise<void> {
  expect((await trialBalance(h.ledger)).balanced).toBe(true);
  const report = await reconcile(h.ledger, { cash: engineCash(h.engine), positions: enginePositions(h.engine), atSeq: h.engine.eventSeq }, { logger: quiet });
  expect(report.status).toBe("matched");
}

const eur = (kind: "bank" | "clearing") => ({ kind, currency: "EUR" }) as const;

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`payments on ${backend.name}`, () => {
    let sql: Sql;
    beforeEach(async () => {
      sql = await backend.open();
    });
    afterEach(async () => {
      await sql.close();
    });

    it("deposits: pending, then the provider's webhook posts bank → clearing and credits the engine; a retry returns the first result", async () => {
      const h = await harness(sql);
      const first = await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 1_000_000n, idempotencyKey: "dep-1" });
      expect(first).toMatchObject({ code: "ok", replayed: false, payment: { status: "pending", providerRef: "sim_1", direction: "deposit", amountMinor: 1_000_000n } });
      const retry = await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 1_000_000n, idempotencyKey: "dep-1" });
      expect(retry).toMatchObject({ code: "ok", replayed: true, payment: { paymentId: first.payment?.paymentId } });
      expect(await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 999n, idempotencyKey: "dep-1" })).toMatchObject({ code: "idempotency_conflict", payment: null });
      expect(await h.payments.withdraw({ accountId: 1, currency: "EUR", amountMinor: 1_000_000n, idempotencyKey: "dep-1" })).toMatchObject({ code: "idempotency_conflict" });
      // The same key on another account is another request.
      expect((await h.payments.deposit({ accountId: 2, currency: "EUR", amountMinor: 5n, idempotencyKey: "dep-1" })).payment?.paymentId).not.toBe(first.payment?.paymentId);
      expect(h.available(1)).toBe(0);

      expect(await h.provider.flush()).toBe(2);
      const settled = await h.payments.get(first.payment?.paymentId ?? "");
      expect(settled).toMatchObject({ status: "posted", reason: null });
      expect(h.credits).toEqual([first.payment?.paymentId, expect.any(String)]);
      expect(h.available(1)).toBe(1_000_000);
      expect(await h.ledger.balance(eur("bank"))).toBe(1_000_005n);
      expect(await h.ledger.balance(eur("clearing"))).toBe(0n);
      expect(await h.ledger.clientCash({ accountId: 1 })).toEqual([{ accountId: 1, currency: "EUR", balanceMinor: 1_000_000n }]);
      expect(await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 1_000_000n, idempotencyKey: "dep-1" })).toMatchObject({ replayed: true, payment: { status: "posted" } });

      // The provider delivers the same webhook again: ignored, nothing credited twice.
      const [sent] = h.provider.sent;
      if (sent === undefined) throw new Error("no webhook sent");
      expect((await h.payments.handleWebhook(sent.body, sent.signature)).status).toBe("duplicate");
      expect(h.credits).toHaveLength(2);
      await expectBooksMatchEngine(h);
    });

    it("withdrawals: the engine holds the funds first; limits per transaction and per day at and past the limit", async () => {
      const h = await harness(sql, { limits: { withdrawalPerTransactionMinor: 1_000n, withdrawalPerDayMinor: 2_500n } });
      await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 10_000n, idempotencyKey: "dep" });
      await h.provider.flush();
      const w = (key: string, amountMinor: bigint, accountId = 1) => h.payments.withdraw({ accountId, currency: "EUR", amountMinor, idempotencyKey: key });

      const atLimit = await w("w1", 1_000n);
      expect(atLimit).toMatchObject({ code: "ok", payment: { status: "pending", providerRef: expect.any(String) as unknown } });
      // Held on the engine at once, and in the books: client cash → clearing.
      expect(h.available(1)).toBe(9_000);
      expect(await h.ledger.balance(eur("clearing"))).toBe(-1_000n);
      const overTransaction = await w("w2", 1_001n);
      expect(overTransaction).toMatchObject({ code: "over_transaction_limit", payment: { status: "rejected", reason: "over_transaction_limit" } });
      expect(await w("w2", 1_001n)).toMatchObject({ code: "over_transaction_limit", replayed: true });
      expect((await w("w3", 1_000n)).code).toBe("ok");
      expect((await w("w4", 500n)).code).toBe("ok");
      expect(await w("w5", 1n)).toMatchObject({ code: "over_daily_limit", payment: { status: "rejected" } });
      expect(h.available(1)).toBe(7_500);
      h.clock.nowMs += dayMs;
      expect((await w("w6", 1n)).code).toBe("ok");

      // Beyond what is available: the engine refuses the hold; a rejection does not count towards the day.
      expect(await w("w7", 600n, 2)).toMatchObject({ code: "insufficient_funds", payment: { status: "rejected", reason: "insufficient_funds" } });
      await h.payments.deposit({ accountId: 2, currency: "EUR", amountMinor: 600n, idempotencyKey: "dep2" });
      await h.provider.flush();
      expect((await w("w8", 600n, 2)).code).toBe("ok");

      await h.provider.flush();
      const statuses = (await h.payments.list(1)).filter((p) => p.direction === "withdrawal").map((p) => [p.idempotencyKey, p.status]);
      expect(statuses.sort()).toEqual([
        ["w1", "posted"],
        ["w2", "rejected"],
        ["w3", "posted"],
        ["w4", "posted"],
        ["w5", "rejected"],
        ["w6", "posted"],
      ]);
      expect(await h.ledger.balance(eur("clearing"))).toBe(0n);
      expect(await h.ledger.balance(eur("bank"))).toBe(10_600n - 2_501n - 600n);
      await expectBooksMatchEngine(h);
    });

    it("a failed payout voids the withdrawal and returns the funds through the engine; failed deposits credit nothing", async () => {
      const h = await harness(sql);
      await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 5_000n, idempotencyKey: "dep" });
      await h.provider.flush();
      h.decisions.set("withdrawal", { outcome: "failed", reason: "account_closed" });
      h.decisions.set("deposit", { outcome: "failed", reason: "card_declined" });
      const withdrawal = await h.payments.withdraw({ accountId: 1, currency: "EUR", amountMinor: 2_000n, idempotencyKey: "w1" });
      const deposit = await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 7_000n, idempotencyKey: "d2" });
      expect(h.available(1)).toBe(3_000);
      await h.provider.flush();
      expect(await h.payments.get(withdrawal.payment?.paymentId ?? "")).toMatchObject({ status: "voided", reason: "account_closed" });
      expect(await h.payments.get(deposit.payment?.paymentId ?? "")).toMatchObject({ status: "failed", reason: "card_declined" });
      expect(h.available(1)).toBe(5_000);
      expect(await h.ledger.balance(eur("clearing"))).toBe(0n);
      expect(await h.ledger.balance(eur("bank"))).toBe(5_000n);

      // The provider cannot be reached at all: the deposit fails, the withdrawal is voided at once.
      h.switches.providerDown = true;
      expect(await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 1n, idempotencyKey: "d3" })).toMatchObject({ payment: { status: "failed", reason: "provider_unavailable" } });
      expect(await h.payments.withdraw({ accountId: 1, currency: "EUR", amountMinor: 10n, idempotencyKey: "w2" })).toMatchObject({ payment: { status: "voided", reason: "provider_unavailable" } });
      expect(h.available(1)).toBe(5_000);
      await expectBooksMatchEngine(h);
    });

    it("verifies webhooks: signature, timestamp window, body, payment; each event is applied once", async () => {
      const h = await harness(sql);
      const deposit = await h.payments.deposit({ accountId: 1, currency: "EUR", amountMinor: 300n, idempotencyKey: "dep" });
      const paymentId = deposit.payment?.paymentId ?? "";
      const body = JSON.stringify({ eventId: "evt_manual", paymentId, providerRef: "sim_1", outcome: "succeeded" });
      const nowS = Math.floor(h.clock.nowMs / 1_000);
      expect((await h.payments.handleWebhook(body, undefined)).status).toBe("missing_signature");
      expect((await h.payments.handleWebhook(body, signWebhook("whsec_wrong_secret_value", body, nowS))).status).toBe("invalid_signature");
      expect((await h.payments.handleWebhook(body.replace("succeeded", "failed"), signWebhook(secret, body, nowS))).status).toBe("invalid_signature");
      expect((await h.payments.handleWebhook(body, signWebhook(secret, body, nowS - 301))).status).toBe("stale_timestamp");
      expect((await h.payments.handleWebhook("not json", signWebhook(secret, "not json", nowS))).status).toBe("malformed");
      const ghost = JSON.stringify({ eventId: "evt_ghost", paymentId: "pay_nope", providerRef: "sim_9", outcome: "succeeded" });
      expect((await h.payments.handleWebhook(ghost, signWebhook(secret, ghost, nowS))).status).toBe("unknown_payment");
      expect(h.credits).toEqual([]);
      const wrongRef = JSON.stringify({ eventId: "evt_wrong_ref", paymentId, providerRef: "sim_7", outcome: "succeeded" });
      expect((await h.payments.handleWebhook(wrongRef, signWebhook(secret, wrongRef, nowS))).status).toBe("ignored");
      // The body size limit, at the limit (parsed) and one byte past it (refused unread).
      const padded = (bytes: number) => {
        const start = JSON.stringify({ eventId: "evt_pad", paymentId: "pay_pad", providerRef: "sim_pad", outcome: "failed", pad: "" });
        return start.replace('"pad":""', `"pad":"${"x".repeat(bytes - start.length)}"`);
      };
      const atLimit = padded(webhookBodyBytesMax);
      expect(atLimit.length).toBe(webhookBodyBytesMax);
      expect((await h.payments.handleWebhook(atLimit, signWebhook(secret, atLimit, nowS))).status).toBe("unknown_payment");
      const past = padded(webhookBodyBytesMax + 1);
      expect((await h.payments.handleWebhook(past, signWebhook(secret, past, nowS))).status).toBe("malformed");
      expect(await h.payments.handleWebhook(body, signWebhook(secret, body, nowS))).toMatchObject({ status: "applied", payment: { status: "posted" } });
      // A replay inside the window (even re-signed), and a second event for a settled payment.
      expect((await h.payments.handleWebhook(body, signWebhook(secret, body, nowS + 1))).status).toBe("duplicate");
      await h.provider.flush();
      expect(h.provider.sent).toHaveLength(1);
      expect(h.credits).toEqual([paymentId]);
      expect(await h.ledger.balance(eur("bank"))).toBe(300n);
      await expectBooksMatchEngine(h);
    });

    it("names invalid requests, keeps concurrent retries of one key to one payment, and lists payments stuck between database and engine", async () => {
      const h = await harness(sql);
      const base = { accountId: 1, currency: "EUR", amountMinor: 10n, idempotencyKey: "k" };
      const problems = await Promise.all([
        h.payments.deposit({ ...base, currency: "eur" }),
        h.payments.deposit({ ...base, amountMinor: 0n }),
        h.payments.deposit({ ...base, amountMinor: paymentMinorMax + 1n }),
        h.payments.deposit({ ...base, accountId: 0 }),
        h.payments.deposit({ ...base, idempotencyKey: "x".repeat(idempotencyKeyCharsMax + 1) }),
        h.payments.deposit({ ...base, idempotencyKey: "has space" }),
        h.payments.withdraw({ ...base, cardToken: "card_x" }),
        h.payments.deposit({ ...base, cardToken: "card_x" }),
      ]);
      expect(problems.map((p) => p.code)).toEqual([...Array.from({ length: 7 }, () => "invalid_request"), "unknown_card"]);
      expect((await h.payments.deposit({ ...base, idempotencyKey: "x".repeat(idempotencyKeyCharsMax) })).code).toBe("ok");
      expect((await h.payments.deposit({ ...base, amountMinor: 100_000_000n, idempotencyKey: "big-ok" })).code).toBe("ok");
      expect((await h.payments.deposit({ ...base, amountMinor: 100_000_001n, idempotencyKey: "big-no" })).code).toBe("over_transaction_limit");

      const same = await Promise.all(Array.from({ length: 6 }, () => h.payments.deposit({ ...base, idempotencyKey: "race" })));
      expect(new Set(same.map((r) => r.payment?.paymentId)).size).toBe(1);
      expect(same.filter((r) => !r.replayed)).toHaveLength(1);

      h.switches.reserveFails = true;
      await expect(h.payments.withdraw({ ...base, idempotencyKey: "lost" })).rejects.toThrow(/engine unreachable/);
      h.clock.nowMs += 60_000;
      expect((await h.payments.stuck(30_000)).map((p) => [p.idempotencyKey, p.status])).toEqual([["lost", "reserving"]]);
    });

    it("recovers every payment a crash left half-done; no step moves money twice", async () => {
      const h = await harness(sql);
      const pay = async (kind: "deposit" | "withdraw", key: string, amountMinor: bigint) => {
        const request = { accountId: 1, currency: "EUR", amountMinor, idempotencyKey: key };
        return kind === "deposit" ? h.payments.deposit(request) : h.payments.withdraw(request);
      };
      await pay("deposit", "seed", 10_000n);
      await h.provider.flush();
      expect(h.available(1)).toBe(10_000);

      // 1. The engine took the hold, the answer was lost: `reserving`, though the cash is gone.
      h.switches.loseAnswers = true;
      await expect(pay("withdraw", "w-held", 1_000n)).rejects.toThrow(/crashed/);
      h.switches.loseAnswers = false;
      // 2. The engine was never reached: `reserving`, cash untouched.
      h.switches.reserveFails = true;
      await expect(pay("withdraw", "w-unreached", 2_000n)).rejects.toThrow(/unreachable/);
      h.switches.reserveFails = false;
      // 3. A deposit settled by the webhook; the credit was applied but its answer lost: `crediting`.
      await pay("deposit", "d-credited", 500n);
      h.switches.loseAnswers = true;
      await expect(h.provider.flush()).rejects.toThrow(/crashed/);
      h.switches.loseAnswers = false;
      // 4. A deposit settled by the webhook while the engine was down: `crediting`, not credited.
      await pay("deposit", "d-uncredited", 300n);
      h.switches.creditFails = true;
      await expect(h.provider.flush()).rejects.toThrow(/unreachable/);
      h.switches.creditFails = false;
      // 5. A withdrawal whose payout failed, voided while the engine was down: `voiding`.
      h.decisions.set("withdrawal", { outcome: "failed", reason: "account_closed" });
      await pay("withdraw", "w-voided", 400n);
      h.switches.creditFails = true;
      await expect(h.provider.flush()).rejects.toThrow(/unreachable/);
      h.switches.creditFails = false;
      h.decisions.delete("withdrawal");

      const status = async (key: string) => (await h.payments.list(1)).find((p) => p.idempotencyKey === key)?.status;
      expect([await status("w-held"), await status("w-unreached"), await status("d-credited"), await status("d-uncredited"), await status("w-voided")]).toEqual([
        "reserving", "reserving", "crediting", "crediting", "voiding",
      ]);
      // Held 1,000 (w-held) and 400 (w-voided); credited 500 (d-credited).
      expect(h.available(1)).toBe(10_000 - 1_000 + 500 - 400);

      h.clock.nowMs += 1_000;
      const recovered = await h.payments.recover();
      expect(recovered).toHaveLength(5);
      // The withdrawals now pending go to the provider, which pays them out.
      await h.provider.flush();
      expect([await status("w-held"), await status("w-unreached"), await status("d-credited"), await status("d-uncredited"), await status("w-voided")]).toEqual([
        "posted", "posted", "posted", "posted", "voided",
      ]);
      // Each amount moved exactly once: −1,000 −2,000 +500 +300, the voided 400 returned.
      expect(h.available(1)).toBe(10_000 - 1_000 - 2_000 + 500 + 300);
      expect(h.credits.filter((id) => id === recovered.find((p) => p.idempotencyKey === "d-credited")?.paymentId)).toHaveLength(1);
      expect(await h.payments.stuck(0)).toEqual([]);
      expect(await h.payments.recover()).toEqual([]);
      expect(await h.ledger.balance(eur("clearing"))).toBe(0n);
      await expectBooksMatchEngine(h);
    });
  });
}
