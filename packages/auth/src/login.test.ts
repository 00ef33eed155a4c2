// Sign-in with a second factor, enrolment, access tokens, logout and disabling.
import { testBackends } from "@tradestream/store";
import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import { type LoginResult, type Revocation, revokes, type Tokens } from "./service.ts";
import { signRequest } from "./signature.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";
import { generateTotp, newTotpSecret } from "./totp.ts";

const pglite = (await testBackends()).find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

const password = "correct horse battery";

async function failure(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error("expected an AuthError, but the call succeeded");
}

function mfaTokenOf(result: LoginResult): string {
  if (result.status !== "mfa_required") throw new Error(`expected mfa_required, got ${result.status}`);
  return result.mfaToken;
}

function tokensOf(result: LoginResult): Tokens {
  if (result.status !== "ok") throw new Error(`expected a finished sign-in, got ${result.status}`);
  return result.tokens;
}

let h: Harness;
beforeEach(async () => {
  h = await openHarness(await pglite.open());
});
afterEach(async () => {
  await h.close();
});

describe("password + TOTP", () => {
  const secret = newTotpSecret();
  let userId: number;
  beforeEach(async () => {
    userId = (await h.auth.createUser({ username: "trader1", password, groups: ["authorized-traders"], accountIds: [1001], totpSecret: secret })).userId;
  });

  it("asks for the second factor, then signs in with a TOTP code", async () => {
    const first = await h.auth.login("trader1", password, meta);
    expect(first).toMatchObject({ status: "mfa_required", expiresIn: 300 });
    const done = await h.auth.verifyMfa(mfaTokenOf(first), generateTotp(secret, h.clock.nowMs), meta);
    expect(done.user).toMatchObject({ userId, username: "trader1", mfaEnrolled: true });
    const principal = await h.auth.authenticateAccessToken(done.tokens.accessToken);
    expect(principal).toMatchObject({ userId, groups: ["authorized-traders"], roles: ["trader"], accountIds: [1001], method: "password", apiKeyId: null });
    expect(principal.sessionId).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it("accepts a code once, and one step either side of now but not two", async () => {
    const code = generateTotp(secret, h.clock.nowMs);
    await h.auth.verifyMfa(mfaTokenOf(await h.auth.login("trader1", password, meta)), code, meta);
    const replay = await failure(h.auth.verifyMfa(mfaTokenOf(await h.auth.login("trader1", password, meta)), code, meta));
    expect(replay.code).toBe("invalid_mfa_code");

    h.clock.advance(5 * 30_000);
    const challenge = mfaTokenOf(await h.auth.login("trader1", password, meta));
    expect((await failure(h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs - 60_000), meta))).code).toBe("invalid_mfa_code");
    expect((await failure(h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs + 60_000), meta))).code).toBe("invalid_mfa_code");
    // A wrong code leaves the challenge usable.
    await h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs - 30_000), meta);
    await h.auth.verifyMfa(mfaTokenOf(await h.auth.login("trader1", password, meta)), generateTotp(secret, h.clock.nowMs + 30_000), meta);
    // Steps only move forward: the current step is now behind the last one used.
    const behind = await failure(h.auth.verifyMfa(mfaTokenOf(await h.auth.login("trader1", password, meta)), generateTotp(secret, h.clock.nowMs), meta));
    expect(behind.code).toBe("invalid_mfa_code");
  });

  it("uses each sign-in challenge once and only for five minutes", async () => {
    const challenge = mfaTokenOf(await h.auth.login("trader1", password, meta));
    await h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs), meta);
    h.clock.advance(30_000);
    expect((await failure(h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs), meta))).code).toBe("token_invalid");

    const late = mfaTokenOf(await h.auth.login("trader1", password, meta));
    h.clock.advance(300_000);
    expect((await failure(h.auth.verifyMfa(late, generateTotp(secret, h.clock.nowMs), meta))).code).toBe("token_expired");
    expect((await failure(h.auth.verifyMfa("made-up", "123456", meta))).code).toBe("token_invalid");
  });

  it("counts wrong codes towards the lockout", async () => {
    const challenge = mfaTokenOf(await h.auth.login("trader1", password, meta));
    for (let attempt = 1; attempt < 5; attempt += 1) {
      expect((await failure(h.auth.verifyMfa(challenge, "000000", meta))).code).toBe("invalid_mfa_code");
    }
    const locked = await failure(h.auth.verifyMfa(challenge, "000000", meta));
    expect([locked.code, locked.retryAfterS]).toEqual(["account_locked", 30]);
    expect((await failure(h.auth.verifyMfa(challenge, generateTotp(secret, h.clock.nowMs), meta))).code).toBe("account_locked");
    expect((await failure(h.auth.login("trader1", password, meta))).code).toBe("account_locked");
  });

  it("does not let a correct password reset the failures counted against the second factor", async () => {
    for (let round = 0; round < 2; round += 1) {
      const challenge = mfaTokenOf(await h.auth.login("trader1", password, meta));
      await failure(h.auth.verifyMfa(challenge, "000000", meta));
      await failure(h.auth.verifyMfa(challenge, "000000", meta));
    }
    const challenge = mfaTokenOf(await h.auth.login("trader1", password, meta));
    expect((await failure(h.auth.verifyMfa(challenge, "000000", meta))).code).toBe("account_locked");
  });
});

describe("TOTP enrolment and recovery codes", () => {
  let userId: number;
  beforeEach(async () => {
    userId = (await h.auth.createUser({ username: "sre1", password, groups: ["sre-leads"], accountIds: [] })).userId;
  });

  it("enrols with a QR code, then requires the second factor; recovery codes work once each", async () => {
    expect((await failure(h.auth.confirmTotpEnrolment(userId, "123456"))).code).toBe("mfa_not_enrolled");
    const enrolment = await h.auth.beginTotpEnrolment(userId);
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.otpauthUri).toMatch(/^otpauth:\/\/totp\/TradeStream:sre1\?/);
    expect(enrolment.otpauthUri).toContain("issuer=TradeStream");
    expect(enrolment.qrSvg).toContain("<svg");
    expect((await failure(h.auth.confirmTotpEnrolment(userId, "000000"))).code).toBe("invalid_mfa_code");
    const { recoveryCodes } = await h.auth.confirmTotpEnrolment(userId, generateTotp(enrolment.secret, h.clock.nowMs));
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(recoveryCodes[0]).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect((await failure(h.auth.beginTotpEnrolment(userId))).code).toBe("mfa_already_enrolled");
    expect((await h.auth.getUser(userId)).mfaEnrolled).toBe(true);

    const [stored] = await h.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM auth_recovery_codes WHERE user_id = $1", [userId]);
    expect(stored?.n).toBe(10);
    const dump = JSON.stringify(await h.sql.query("SELECT * FROM auth_recovery_codes"));
    for (const code of recoveryCodes) expect(dump).not.toContain(code.replace(/-/g, ""));

    const recovery = recoveryCodes[3] ?? "";
    const typed = recovery.toUpperCase().replace(/-/g, " ");
    const done = await h.auth.verifyMfa(mfaTokenOf(await h.auth.login("sre1", password, meta)), typed, meta);
    expect(done.user.username).toBe("sre1");
    expect((await failure(h.auth.verifyMfa(mfaTokenOf(await h.auth.login("sre1", password, meta)), recovery, meta))).code).toBe("invalid_mfa_code");
    await h.auth.verifyMfa(mfaTokenOf(await h.auth.login("sre1", password, meta)), recoveryCodes[4] ?? "", meta);
  });

  it("the code confirming enrolment cannot be replayed to sign in", async () => {
    const enrolment = await h.auth.beginTotpEnrolment(userId);
    const code = generateTotp(enrolment.secret, h.clock.nowMs);
    await h.auth.confirmTotpEnrolment(userId, code);
    const challenge = mfaTokenOf(await h.auth.login("sre1", password, meta));
    expect((await failure(h.auth.verifyMfa(challenge, code, meta))).code).toBe("invalid_mfa_code");
  });
});

describe("access tokens", () => {
  let tokens: Tokens;
  beforeEach(async () => {
    await h.auth.createUser({ username: "auditor1", password, groups: ["auditors", "l1-support"], accountIds: [] });
    tokens = tokensOf(await h.auth.login("auditor1", password, meta));
  });

  it("maps groups to roles on the principal", async () => {
    expect((await h.auth.authenticateAccessToken(tokens.accessToken)).roles).toEqual(["auditor", "support"]);
  });

  it("expire after their lifetime", async () => {
    h.clock.advance(899_000);
    await h.auth.authenticateAccessToken(tokens.accessToken);
    h.clock.advance(1_000);
    expect((await failure(h.auth.authenticateAccessToken(tokens.accessToken))).code).toBe("token_expired");
  });

  it("refuses tampered tokens and tokens of another server", async () => {
    const [header, payload, signature] = tokens.accessToken.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "999" })).toString("base64url");
    expect((await failure(h.auth.authenticateAccessToken(`${header}.${forged}.${signature}`))).code).toBe("token_invalid");
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32).fill(7));
    expect((await failure(h.auth.authenticateAccessToken(foreign))).code).toBe("token_invalid");
    expect((await failure(h.auth.authenticateAccessToken("garbage"))).code).toBe("token_invalid");
  });

  it("stop working at once after logout in this process, and within seconds in another", async () => {
    const peer = await h.openPeer();
    const principal = await peer.authenticateAccessToken(tokens.accessToken);
    await h.auth.authenticateAccessToken(tokens.accessToken);
    await h.auth.logout(principal.sessionId ?? "", meta);
    expect((await failure(h.auth.authenticateAccessToken(tokens.accessToken))).code).toBe("token_invalid");
    expect((await failure(h.auth.refresh(tokens.refreshToken, meta))).code).toBe("token_invalid");
    // The other process trusts its cache for up to five seconds.
    await peer.authenticateAccessToken(tokens.accessToken);
    h.clock.advance(5_000);
    expect((await failure(peer.authenticateAccessToken(tokens.accessToken))).code).toBe("token_invalid");
    const [logout] = await h.auth.audit.list({ limit: 1, action: "logout" });
    expect(logout).toMatchObject({ actor: "auditor1", outcome: "ok", detail: { ended: true } });
  });
});

describe("disabled users", () => {
  it("cannot sign in, refresh, use tokens or API keys; re-enabling restores keys but not sessions", async () => {
    const { userId } = await h.auth.createUser({ username: "trader2", password, groups: ["authorized-traders"], accountIds: [1002] });
    const tokens = tokensOf(await h.auth.login("trader2", password, meta));
    await h.auth.authenticateAccessToken(tokens.accessToken);
    const key = await h.auth.createApiKey(userId, "bot", meta);
    const signed = (nonce: string) => {
      const parts = { timestamp: String(h.clock.nowMs), nonce, method: "GET", path: "/v1/orders", body: "" };
      return { ...parts, keyId: key.keyId, signature: signRequest(key.secret, parts) };
    };

    await h.auth.updateUser(userId, { disabled: true }, "admin1");
    expect((await failure(h.auth.login("trader2", password, meta))).code).toBe("user_disabled");
    expect((await failure(h.auth.authenticateAccessToken(tokens.accessToken))).code).toBe("user_disabled");
    expect((await failure(h.auth.refresh(tokens.refreshToken, meta))).code).toBe("token_invalid");
    expect((await failure(h.auth.authenticateSignature(signed("nonce-0001"), meta))).code).toBe("user_disabled");
    expect((await failure(h.auth.createApiKey(userId, "another", meta))).code).toBe("user_disabled");

    await h.auth.updateUser(userId, { disabled: false }, "admin1");
    expect((await h.auth.authenticateSignature(signed("nonce-0002"), meta)).username).toBe("trader2");
    expect((await failure(h.auth.authenticateAccessToken(tokens.accessToken))).code).toBe("token_invalid");
    expect((await h.auth.login("trader2", password, meta)).status).toBe("ok");
  });

  it("a new password ends every session", async () => {
    const { userId } = await h.auth.createUser({ username: "trader3", password, groups: ["authorized-traders"], accountIds: [] });
    const tokens = tokensOf(await h.auth.login("trader3", password, meta));
    await h.auth.updateUser(userId, { password: "an entirely new passphrase" }, "admin1");
    expect((await failure(h.auth.authenticateAccessToken(tokens.accessToken))).code).toBe("token_invalid");
    expect((await failure(h.auth.login("trader3", password, meta))).code).toBe("invalid_credentials");
    expect((await h.auth.login("trader3", "an entirely new passphrase", meta)).status).toBe("ok");
  });

  it("role changes apply to the next request in this process", async () => {
    const { userId } = await h.auth.createUser({ username: "carol", password, groups: ["l1-support"], accountIds: [] });
    const tokens = tokensOf(await h.auth.login("carol", password, meta));
    expect((await h.auth.authenticateAccessToken(tokens.accessToken)).roles).toEqual(["support"]);
    await h.auth.updateUser(userId, { groups: ["fin-compliance-leads"], accountIds: [5] }, "admin1");
    expect(await h.auth.authenticateAccessToken(tokens.accessToken)).toMatchObject({ roles: ["admin"], accountIds: [5] });
  });
});

describe("revocation signal (for open WebSockets)", () => {
  it("names the session, key or user whose credentials stopped working; revokes() picks the principals it ends", async () => {
    const seen: Revocation[] = [];
    const stop = h.auth.onRevoked((revocation) => seen.push(revocation));
    const { userId } = await h.auth.createUser({ username: "trader3", password, groups: ["authorized-traders"], accountIds: [1003] });
    const first = tokensOf(await h.auth.login("trader3", password, meta));
    const second = tokensOf(await h.auth.login("trader3", password, meta));
    const a = await h.auth.authenticateAccessToken(first.accessToken);
    const b = await h.auth.authenticateAccessToken(second.accessToken);
    const key = await h.auth.createApiKey(userId, "bot", meta);

    await h.auth.logout(a.sessionId ?? "", meta);
    await h.auth.logout(a.sessionId ?? "", meta); // already ended: no second signal
    expect(seen).toEqual([{ kind: "session", sessionId: a.sessionId, reason: "logout" }]);
    expect([revokes(seen[0] as Revocation, a), revokes(seen[0] as Revocation, b)]).toEqual([true, false]);

    await h.auth.revokeApiKey(userId, key.keyId, meta);
    expect(seen.at(-1)).toEqual({ kind: "api_key", keyId: key.keyId, reason: "api_key_revoked" });

    await h.auth.updateUser(userId, { accountIds: [1003, 1004] }, "admin1");
    expect(seen.at(-1)).toEqual({ kind: "user", userId, reason: "access_changed" });
    await h.auth.updateUser(userId, { disabled: true }, "admin1");
    expect(seen.at(-1)).toEqual({ kind: "user", userId, reason: "user_disabled" });
    expect(revokes(seen.at(-1) as Revocation, b)).toBe(true);

    stop();
    await h.auth.updateUser(userId, { accountIds: [1003] }, "admin1");
    expect(seen).toHaveLength(4);
  });
});
