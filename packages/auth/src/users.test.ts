// Users, lockout and refresh-token rotation: run on PGlite and on PostgreSQL.
import { testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import { type LoginResult, type Tokens, accountIdsPerUserMax, passwordCharsMax } from "./service.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";

const backends = await testBackends();
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

function tokensOf(result: LoginResult): Tokens {
  if (result.status !== "ok") throw new Error(`expected a finished sign-in, got ${result.status}`);
  return result.tokens;
}

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`auth on ${backend.name}`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await openHarness(await backend.open(), { lockout: { maxFailures: 3, baseLockS: 10, maxLockS: 25 } });
    });
    afterEach(async () => {
      await h.close();
    });

    describe("users", () => {
      it("creates, finds, lists and updates users", async () => {
        const created = await h.auth.createUser({ username: "Alice", password, displayName: " Alice A. ", groups: ["authorized-traders", "authorized-traders"], accountIds: [1002, 1001] }, "admin1");
        expect(created).toMatchObject({ username: "alice", displayName: "Alice A.", groups: ["authorized-traders"], accountIds: [1001, 1002], mfaEnrolled: false, disabled: false, sso: false });
        expect(created.createdAtMs).toBe(h.clock.nowMs);
        expect(await h.auth.getUser(created.userId)).toEqual(created);
        expect(await h.auth.findUser("ALICE")).toEqual(created);
        expect(await h.auth.findUser("nobody")).toBeNull();
        await h.auth.createUser({ username: "bob", groups: ["auditors"], accountIds: [] });
        expect((await h.auth.listUsers()).map((u) => u.username)).toEqual(["alice", "bob"]);
        const updated = await h.auth.updateUser(created.userId, { groups: ["auditors", "sre-leads"], accountIds: [7] }, "admin1");
        expect(updated).toMatchObject({ groups: ["auditors", "sre-leads"], accountIds: [7] });
        const [hash] = await h.sql.query<{ password_hash: string }>("SELECT password_hash FROM auth_users WHERE username = 'alice'");
        expect(hash?.password_hash).toMatch(/^\$argon2id\$/);
      });

      it("validates usernames, passwords, groups and accounts", async () => {
        const base = { groups: [], accountIds: [] } as const;
        expect((await failure(h.auth.createUser({ ...base, username: "a" }))).code).toBe("validation_failed");
        expect((await failure(h.auth.createUser({ ...base, username: "-alice" }))).code).toBe("validation_failed");
        expect((await failure(h.auth.createUser({ ...base, username: "al ice" }))).code).toBe("validation_failed");
        expect((await failure(h.auth.createUser({ ...base, username: "a".repeat(65) }))).code).toBe("validation_failed");
        await h.auth.createUser({ ...base, username: "a".repeat(64) });
        const short = await failure(h.auth.createUser({ ...base, username: "carol", password: "x".repeat(11) }));
        expect(short.code).toBe("validation_failed");
        expect(short.message).toMatch(/at least 12 characters/);
        await h.auth.createUser({ ...base, username: "carol", password: "x".repeat(12) });
        await h.auth.createUser({ ...base, username: "carol2", password: "x".repeat(passwordCharsMax) });
        expect((await failure(h.auth.createUser({ ...base, username: "carol3", password: "x".repeat(passwordCharsMax + 1) }))).code).toBe("validation_failed");
        const manyAccounts = Array.from({ length: accountIdsPerUserMax }, (_, i) => i + 1);
        await h.auth.createUser({ ...base, username: "erin", accountIds: manyAccounts });
        expect((await failure(h.auth.createUser({ ...base, username: "erin2", accountIds: [...manyAccounts, accountIdsPerUserMax + 1] }))).code).toBe("validation_failed");
        const bogusGroup = ["wizards"] as unknown as readonly ["auditors"];
        expect((await failure(h.auth.createUser({ ...base, username: "dave", groups: bogusGroup }))).message).toMatch(/wizards/);
        expect((await failure(h.auth.createUser({ ...base, username: "dave", accountIds: [0] }))).code).toBe("validation_failed");
        expect((await failure(h.auth.createUser({ ...base, username: "dave", totpSecret: "not base32!" }))).code).toBe("validation_failed");
      });

      it("refuses a duplicate username and reports unknown users", async () => {
        await h.auth.createUser({ username: "alice", password, groups: [], accountIds: [] });
        expect((await failure(h.auth.createUser({ username: "alice", groups: [], accountIds: [] }))).code).toBe("user_exists");
        expect((await failure(h.auth.getUser(9999))).code).toBe("unknown_user");
        expect((await failure(h.auth.updateUser(9999, { disabled: true }, "admin1"))).code).toBe("unknown_user");
      });
    });

    describe("lockout", () => {
      beforeEach(async () => {
        await h.auth.createUser({ username: "alice", password, groups: ["authorized-traders"], accountIds: [1001] });
      });

      it("locks after maxFailures, doubles per further failure up to maxLockS, and resets on success", async () => {
        for (let attempt = 1; attempt < 3; attempt += 1) {
          expect((await failure(h.auth.login("alice", "wrong password!", meta))).code).toBe("invalid_credentials");
        }
        const locked = await failure(h.auth.login("alice", "wrong password!", meta));
        expect([locked.code, locked.retryAfterS]).toEqual(["account_locked", 10]);

        // The right password does not open a locked account, and attempts while locked do not extend it.
        h.clock.advance(4_000);
        const stillLocked = await failure(h.auth.login("alice", password, meta));
        expect([stillLocked.code, stillLocked.retryAfterS]).toEqual(["account_locked", 6]);

        h.clock.advance(6_000);
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).retryAfterS).toBe(20);
        h.clock.advance(20_000);
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).retryAfterS).toBe(25);
        h.clock.advance(25_000);
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).retryAfterS).toBe(25);
        h.clock.advance(24_999);
        expect((await failure(h.auth.login("alice", password, meta))).code).toBe("account_locked");
        h.clock.advance(1);

        expect((await h.auth.login("alice", password, meta)).status).toBe("ok");
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).code).toBe("invalid_credentials");
      });

      it("treats unknown usernames exactly like known ones", async () => {
        const unknown = await failure(h.auth.login("mallory", password, meta));
        const known = await failure(h.auth.login("alice", "wrong password!", meta));
        expect([unknown.code, unknown.message]).toEqual([known.code, known.message]);
        await failure(h.auth.login("mallory", password, meta));
        expect((await failure(h.auth.login("mallory", password, meta))).code).toBe("account_locked");
      });

      it("keeps the lock in the database, visible to every process", async () => {
        for (let attempt = 0; attempt < 3; attempt += 1) await failure(h.auth.login("alice", "wrong password!", meta));
        const peer = await h.openPeer();
        expect((await failure(peer.login("alice", password, meta))).code).toBe("account_locked");
      });

      it("forgets old failures after a day", async () => {
        await failure(h.auth.login("alice", "wrong password!", meta));
        await failure(h.auth.login("alice", "wrong password!", meta));
        h.clock.advance(24 * 3600 * 1000 + 1);
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).code).toBe("invalid_credentials");
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).code).toBe("invalid_credentials");
        expect((await failure(h.auth.login("alice", "wrong password!", meta))).code).toBe("account_locked");
      });
    });

    describe("refresh tokens", () => {
      let first: Tokens;
      beforeEach(async () => {
        await h.auth.createUser({ username: "alice", password, groups: ["authorized-traders"], accountIds: [1001] });
        first = tokensOf(await h.auth.login("alice", password, meta));
      });

      it("rotates: each refresh returns a new pair that works", async () => {
        h.clock.advance(60_000);
        const second = await h.auth.refresh(first.refreshToken, meta);
        expect(second.refreshToken).not.toBe(first.refreshToken);
        expect(second.accessToken).not.toBe(first.accessToken);
        expect(second).toMatchObject({ tokenType: "Bearer", expiresIn: 900, refreshExpiresIn: 7 * 24 * 3600 });
        const principal = await h.auth.authenticateAccessToken(second.accessToken);
        expect(principal).toMatchObject({ username: "alice", method: "password", roles: ["trader"], accountIds: [1001] });
        expect((await h.auth.authenticateAccessToken(first.accessToken)).sessionId).toBe(principal.sessionId);
        const third = await h.auth.refresh(second.refreshToken, meta);
        expect((await h.auth.authenticateAccessToken(third.accessToken)).sessionId).toBe(principal.sessionId);
      });

      it("revokes the whole family when a rotated token is presented again", async () => {
        const second = await h.auth.refresh(first.refreshToken, meta);
        expect((await failure(h.auth.refresh(first.refreshToken, meta))).code).toBe("refresh_token_reused");
        expect((await failure(h.auth.refresh(second.refreshToken, meta))).code).toBe("token_invalid");
        expect((await failure(h.auth.authenticateAccessToken(second.accessToken))).code).toBe("token_invalid");
        expect((await failure(h.auth.authenticateAccessToken(first.accessToken))).code).toBe("token_invalid");
        const reuse = await h.auth.audit.list({ limit: 10, action: "refresh_reuse_detected" });
        expect(reuse).toHaveLength(1);
        expect(reuse[0]).toMatchObject({ actor: "alice", outcome: "denied", ip: meta.ip });
        // Other sessions of the same user are not affected.
        const other = tokensOf(await h.auth.login("alice", password, meta));
        expect((await h.auth.authenticateAccessToken(other.accessToken)).username).toBe("alice");
      });

      it("expires refresh tokens after their lifetime", async () => {
        h.clock.advance(7 * 24 * 3600 * 1000);
        expect((await failure(h.auth.refresh(first.refreshToken, meta))).code).toBe("token_expired");
      });

      it("refuses garbage", async () => {
        expect((await failure(h.auth.refresh("not-a-token", meta))).code).toBe("token_invalid");
        expect((await failure(h.auth.refresh("A".repeat(43), meta))).code).toBe("token_invalid");
      });
    });
  });
}
