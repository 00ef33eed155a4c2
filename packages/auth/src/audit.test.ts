// The audit trail: every auth event is recorded, and no secret reaches it or the log.
import { testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import type { LoginResult } from "./service.ts";
import { signRequest } from "./signature.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";
import { generateTotp } from "./totp.ts";

const pglite = (await testBackends()).find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

let h: Harness;
beforeEach(async () => {
  h = await openHarness(await pglite.open());
});
afterEach(async () => {
  await h.close();
});

async function refused(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(AuthError);
}

function mfaTokenOf(result: LoginResult): string {
  if (result.status !== "mfa_required") throw new Error(`expected mfa_required, got ${result.status}`);
  return result.mfaToken;
}

describe("audit trail", () => {
  it("records every auth event and never a password, code, token or secret", async () => {
    const secrets: string[] = [];
    const keep = (value: string) => {
      secrets.push(value);
      return value;
    };
    // Six digits occur inside timestamps by chance, so one-time codes are searched for as whole JSON strings.
    const codes: string[] = [];
    const keepCode = (value: string) => {
      codes.push(`"${value}"`);
      return value;
    };
    const password = keep("Sup3r-Secret-Passphrase");
    const wrongPassword = keep("Wr0ng-Guess-Passphrase");
    const { userId } = await h.auth.createUser({ username: "trader1", password, groups: ["authorized-traders"], accountIds: [1001] }, "admin1");

    await refused(h.auth.login("trader1", wrongPassword, meta));
    await refused(h.auth.login(password, password, meta));
    const enrolment = await h.auth.beginTotpEnrolment(userId);
    keep(enrolment.secret);
    const enrolCode = keepCode(generateTotp(enrolment.secret, h.clock.nowMs));
    const { recoveryCodes } = await h.auth.confirmTotpEnrolment(userId, enrolCode);
    recoveryCodes.forEach(keep);

    h.clock.advance(30_000);
    const mfaToken = keep(mfaTokenOf(await h.auth.login("trader1", password, meta)));
    const code = keepCode(generateTotp(enrolment.secret, h.clock.nowMs));
    await refused(h.auth.verifyMfa(mfaToken, keepCode(code === "135791" ? "246802" : "135791"), meta));
    const signIn = await h.auth.verifyMfa(mfaToken, code, meta);
    keep(signIn.tokens.accessToken);
    keep(signIn.tokens.refreshToken);
    const second = await h.auth.verifyMfa(mfaTokenOf(await h.auth.login("trader1", password, meta)), keep(recoveryCodes[0] ?? ""), meta);
    keep(second.tokens.refreshToken);

    const rotated = await h.auth.refresh(signIn.tokens.refreshToken, meta);
    keep(rotated.refreshToken);
    keep(rotated.accessToken);
    await refused(h.auth.refresh(signIn.tokens.refreshToken, meta));
    const principal = await h.auth.authenticateAccessToken(second.tokens.accessToken);
    await h.auth.logout(principal.sessionId ?? "", meta);

    const key = await h.auth.createApiKey(userId, "bot", meta);
    keep(key.secret);
    const parts = { timestamp: String(h.clock.nowMs), nonce: "nonce-abcdef", method: "GET", path: "/v1/accounts", body: "" };
    await refused(h.auth.authenticateSignature({ ...parts, keyId: key.keyId, signature: signRequest(key.secret, { ...parts, body: "x" }) }, meta));
    await h.auth.revokeApiKey(userId, key.keyId, meta);
    await h.auth.updateUser(userId, { password: keep("Another-Long-Passphrase"), disabled: true }, "admin1");

    const entries = await h.auth.audit.list({ limit: 1000 });
    const actions = new Set(entries.map((e) => `${e.action}:${e.outcome}`));
    for (const expected of [
      "user_create:ok",
      "login:denied",
      "login:ok",
      "totp_enrolment_begin:ok",
      "totp_enrolment_confirm:ok",
      "mfa_verify:denied",
      "mfa_verify:ok",
      "token_refresh:ok",
      "refresh_reuse_detected:denied",
      "logout:ok",
      "api_key_create:ok",
      "api_key_signature_rejected:denied",
      "api_key_revoke:ok",
      "user_update:ok",
    ]) {
      expect(actions).toContain(expected);
    }
    const mfaOk = entries.find((e) => e.action === "mfa_verify" && e.outcome === "ok" && e.detail["factor"] === "recovery_code");
    expect(mfaOk?.detail).toMatchObject({ recoveryCodesLeft: 9, userAgent: "vitest" });
    expect(entries.find((e) => e.action === "login")).toMatchObject({ ip: meta.ip, requestId: meta.requestId });

    const rows = JSON.stringify(await h.sql.query("SELECT * FROM auth_audit"));
    const logs = h.logLines.join("\n");
    expect(h.logLines.length).toBeGreaterThan(10);
    for (const secret of [...secrets, ...codes]) {
      expect(secret.length).toBeGreaterThan(7);
      expect(rows).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });

  it("lists newest first, pages backwards, filters by action and bounds the page", async () => {
    for (let n = 0; n < 5; n += 1) {
      await h.auth.audit.record({ actor: "gateway", action: n % 2 === 0 ? "order_place" : "order_cancel", target: `order-${n}`, outcome: "ok", detail: { n } });
    }
    const page1 = await h.auth.audit.list({ limit: 2 });
    expect(page1.map((e) => e.target)).toEqual(["order-4", "order-3"]);
    const page2 = await h.auth.audit.list({ limit: 2, beforeId: page1[1]?.id });
    expect(page2.map((e) => e.target)).toEqual(["order-2", "order-1"]);
    expect((await h.auth.audit.list({ limit: 10, action: "order_place" })).map((e) => e.detail["n"])).toEqual([4, 2, 0]);
    expect(await h.auth.audit.list({ limit: 0 })).toHaveLength(1);
    expect(page1[0]).toMatchObject({ actor: "gateway", outcome: "ok", ip: null, requestId: null, atMs: h.clock.nowMs });
  });

  it("is append-only", async () => {
    await h.auth.audit.record({ actor: "gateway", action: "x", outcome: "ok" });
    await expect(h.sql.query("UPDATE auth_audit SET actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(h.sql.query("DELETE FROM auth_audit")).rejects.toThrow(/append-only/);
  });
});
