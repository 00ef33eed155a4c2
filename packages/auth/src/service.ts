/**
 * Sign-in and access: users and their groups, password + TOTP sign-in with
 * lockout, access tokens (short-lived JWT) with rotating refresh tokens, API keys
 * for signed requests, OIDC single sign-on, and the audit trail of all of it.
 *
 * Invariants:
 * - No secret is stored or logged in a form that can be used: passwords are
 *   argon2id hashes, tokens and codes SHA-256, readable secrets sealed (crypto.ts).
 * - Every outcome a caller can cause is an AuthError with a catalogue code, and is
 *   audited. A denial is recorded outside the transaction that found it, so a
 *   rollback never erases the record of a refused attempt.
 * - A revoked session or a disabled user stops working in this process at once
 *   and in other processes within `statusCacheTtlMs`.
 */
import { randomBytes } from "node:crypto";
import { FifoMap, Listeners } from "@tradestream/kernel";
import { type Algorithm, hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import { migrate, type Sql } from "@tradestream/store";
import { type JWTPayload, SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { AuditLog, type AuditEntryInput, type AuditLogger, type AuthAuditAction } from "./audit.ts";
import { TtlCache } from "./cache.ts";
import { type ServerKeys, constantTimeEqual, deriveServerKeys, randomToken, seal, sha256Hex, unseal } from "./crypto.ts";
import { AuthError } from "./errors.ts";
import { type Group, type Role, isGroup, rolesOf } from "./groups.ts";
import { authMigrations } from "./migrations.ts";
import { OidcClient, type OidcConfig, type OidcIdentity } from "./oidc.ts";
import { NonceCache, apiKeyHmacKey, apiKeyIdPattern, noncePattern, signWithKey, signaturePattern, timestampPattern } from "./signature.ts";
import {
  isBase32Secret,
  isTotpCode,
  matchTotp,
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  otpauthUri,
  qrSvg,
  recoveryCodeHash,
} from "./totp.ts";

export interface Principal {
  readonly userId: number;
  readonly username: string;
  readonly groups: readonly Group[];
  readonly roles: readonly Role[];
  /** Trading accounts the user may act on. */
  readonly accountIds: readonly number[];
  readonly method: "password" | "sso" | "api_key";
  /** Refresh-token family id; null for API keys. */
  readonly sessionId: string | null;
  readonly apiKeyId: string | null;
}

/**
 * Credentials that stopped working, for holders of long-lived connections (the
 * gateway's WebSockets): a session family ended (logout, refresh-token reuse), an API
 * key revoked, or a user changed (disabled, new password, other groups or accounts).
 */
export type Revocation =
  | { readonly kind: "session"; readonly sessionId: string; readonly reason: string }
  | { readonly kind: "api_key"; readonly keyId: string; readonly reason: string }
  | { readonly kind: "user"; readonly userId: number; readonly reason: string };

/** Whether a revocation ends what `principal` may do. */
export function revokes(revocation: Revocation, principal: Principal): boolean {
  switch (revocation.kind) {
    case "session":
      return principal.sessionId === revocation.sessionId;
    case "api_key":
      return principal.apiKeyId === revocation.keyId;
    case "user":
      return principal.userId === revocation.userId;
  }
}

export interface UserView {
  readonly userId: number;
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly Group[];
  readonly accountIds: readonly number[];
  readonly mfaEnrolled: boolean;
  readonly disabled: boolean;
  readonly sso: boolean;
  readonly createdAtMs: number;
}

export interface Tokens {
  readonly tokenType: "Bearer";
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

export type LoginResult =
  | { readonly status: "ok"; readonly tokens: Tokens; readonly user: UserView }
  | { readonly status: "mfa_required"; readonly mfaToken: string; readonly expiresIn: number };

export interface RequestMeta {
  readonly ip: string;
  readonly userAgent?: string | undefined;
  readonly requestId?: string | undefined;
}

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly baseLockS: number;
  readonly maxLockS: number;
}

export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface AuthOptions {
  readonly sql: Sql;
  /** At least 32 bytes; the JWT key and the sealing keys are derived from it with HKDF. */
  readonly secret: Uint8Array;
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  readonly accessTokenTtlS?: number;
  readonly refreshTokenTtlS?: number;
  /** After maxFailures consecutive failures: locked baseLockS, doubling per further failure, at most maxLockS. */
  readonly lockout?: LockoutPolicy;
  readonly signatureToleranceS?: number;
  readonly oidc?: OidcConfig | undefined;
  readonly argon2?: Argon2Cost;
  readonly logger?: AuditLogger;
}

export interface ApiKeyCreated {
  keyId: string;
  secret: string;
  label: string;
  createdAtMs: number;
}

export interface ApiKeyView {
  keyId: string;
  label: string;
  createdAtMs: number;
  lastUsedAtMs: number | null;
  revoked: boolean;
}

export interface SignedRequest {
  keyId: string;
  timestamp: string;
  nonce: string;
  signature: string;
  method: string;
  /** Path plus query, exactly as sent. */
  path: string;
  body: string;
}

export interface CreateUserInput {
  username: string;
  password?: string | undefined;
  displayName?: string | undefined;
  groups: readonly Group[];
  accountIds: readonly number[];
  /** Base32 TOTP secret of a pre-enrolled user (demo users). */
  totpSecret?: string | undefined;
}

export interface UserChange {
  groups?: readonly Group[];
  accountIds?: readonly number[];
  disabled?: boolean;
  password?: string;
}

export const accessTokenTtlSDefault = 900;
export const refreshTokenTtlSDefault = 7 * 24 * 3600;
export const lockoutDefault: LockoutPolicy = { maxFailures: 5, baseLockS: 30, maxLockS: 3600 };
export const signatureToleranceSDefault = 30;
/** OWASP's argon2id recommendation: 19 MiB, two passes, one lane. */
export const argon2Default: Argon2Cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const usernamePattern = /^[a-z0-9][a-z0-9._-]{1,63}$/;
export const passwordCharsMin = 12;
/** Longer passwords are refused rather than hashed: a bound on the work one request can cause. */
export const passwordCharsMax = 1_024;
export const displayNameCharsMax = 128;
export const accountIdsPerUserMax = 1_000;
export const mfaChallengeTtlS = 300;
export const apiKeyLabelCharsMax = 64;
export const apiKeysPerUserMax = 25;
/** Failures older than this are forgotten, so a row per mistyped name does not live forever. */
export const failureMemoryMs = 24 * 3600 * 1000;
export const statusCacheTtlMs = 5_000;
export const statusCacheEntriesMax = 10_000;
/** last_used_at of an API key is written at most this often per key. */
export const apiKeyLastUsedWriteIntervalMs = 60_000;
export const ssoStateTtlMs = 10 * 60 * 1000;
export const ssoPendingStatesMax = 10_000;
/** Expired challenges, states and refresh tokens are deleted at most this often. */
export const sweepIntervalMs = 3600 * 1000;

export const accessTokenIssuer = "tradestream";
export const accessTokenAudience = "tradestream-api";

const argon2id: Algorithm.Argon2id = 2;
const opaqueTokenPattern = /^[A-Za-z0-9_-]{43}$/;
const sessionIdPattern = /^[A-Za-z0-9_-]{24}$/;
const recoveryCodePattern = /^[a-z2-9]{16}$/;
const unknownActor = "(unknown)";

interface UserRow extends Record<string, unknown> {
  user_id: number;
  username: string;
  display_name: string;
  password_hash: string | null;
  groups: unknown;
  account_ids: unknown;
  totp_secret_sealed: string | null;
  totp_pending_sealed: string | null;
  totp_key_id: string | null;
  totp_last_step: string;
  disabled: boolean;
  sso_subject: string | null;
  created_at_ms: string;
}

type SessionMethod = "password" | "sso";

interface Issued {
  readonly tokens: Tokens;
  readonly sessionId: string;
}

interface SessionStatus {
  readonly revoked: boolean;
  readonly userId: number;
}

interface Settings {
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly lockout: LockoutPolicy;
  readonly signatureToleranceS: number;
  readonly argon2: Argon2Cost;
}

const noopLogger: AuditLogger = { info: () => undefined, warn: () => undefined };

/** Verified access tokens remembered per process (see #verifyAccessToken). */
const verifiedTokensMax = 10_000;

export class AuthService {
  readonly audit: AuditLog;
  readonly #sql: Sql;
  readonly #keys: ServerKeys;
  readonly #now: () => number;
  readonly #settings: Settings;
  readonly #logger: AuditLogger;
  readonly #oidc: OidcClient | null;
  readonly #dummyHash: string;
  readonly #sessions = new TtlCache<string, SessionStatus>(statusCacheTtlMs, statusCacheEntriesMax);
  readonly #revocations = new Listeners<Revocation>((error) => this.#logger.warn("a revocation listener failed", { error: error instanceof Error ? error.message : String(error) }));
  readonly #users = new TtlCache<number, UserRow>(statusCacheTtlMs, statusCacheEntriesMax);
  readonly #nonces = new NonceCache();
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  private constructor(options: AuthOptions, keys: ServerKeys, settings: Settings, dummyHash: string) {
    this.#sql = options.sql;
    this.#keys = keys;
    this.#now = options.now ?? Date.now;
    this.#settings = settings;
    this.#logger = options.logger ?? noopLogger;
    this.#oidc = options.oidc === undefined ? null : new OidcClient(options.oidc);
    this.#dummyHash = dummyHash;
    this.audit = new AuditLog(options.sql, this.#now, this.#logger);
  }

  /** Runs the auth migrations and prepares the keys. The caller keeps ownership of `sql`. */
  static async open(options: AuthOptions): Promise<AuthService> {
    const keys = deriveServerKeys(options.secret);
    const settings: Settings = {
      accessTokenTtlS: positive("accessTokenTtlS", options.accessTokenTtlS ?? accessTokenTtlSDefault),
      refreshTokenTtlS: positive("refreshTokenTtlS", options.refreshTokenTtlS ?? refreshTokenTtlSDefault),
      lockout: checkLockout(options.lockout ?? lockoutDefault),
      signatureToleranceS: positive("signatureToleranceS", options.signatureToleranceS ?? signatureToleranceSDefault),
      argon2: options.argon2 ?? argon2Default,
    };
    await migrate(options.sql, "auth", authMigrations);
    // Verifying against this when the user does not exist makes both cases cost the same.
    const dummyHash = await hashPassword(randomToken(), settings.argon2);
    return new AuthService(options, keys, settings, dummyHash);
  }

  get ssoEnabled(): boolean {
    return this.#oidc !== null;
  }

  // ---------------------------------------------------------------- users

  /**
   * Calls `listener` when credentials stop working in this process (see `Revocation`);
   * returns the function that stops it. Requests are checked anyway; this is for
   * connections that authenticated once and stay open.
   */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    return this.#revocations.add(listener);
  }

  async createUser(input: CreateUserInput, actor = "system"): Promise<UserView> {
    const username = checkUsername(input.username);
    const displayName = checkDisplayName(input.displayName, username);
    const memberOf = checkGroups(input.groups);
    const accountIds = checkAccountIds(input.accountIds);
    const passwordHash = input.password === undefined ? null : await hashPassword(checkPassword(input.password), this.#settings.argon2);
    const now = this.#now();
    const totpSecret = input.totpSecret === undefined ? null : checkTotpSecret(input.totpSecret);
    const rows = await this.#sql.transaction(async (tx) => {
      const inserted = await tx.query<UserRow>(
        `INSERT INTO auth_users (username, display_name, password_hash, groups, account_ids, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (username) DO NOTHING RETURNING *`,
        [username, displayName, passwordHash, JSON.stringify(memberOf), JSON.stringify(accountIds), now],
      );
      const user = inserted[0];
      if (user === undefined || totpSecret === null) return inserted;
      return tx.query<UserRow>("UPDATE auth_users SET totp_secret_sealed = $2, totp_key_id = $3 WHERE user_id = $1 RETURNING *", [
        user.user_id,
        this.#sealTotp(user.user_id, totpSecret, "active"),
        this.#keys.totpSealing.id,
      ]);
    });
    const user = rows[0];
    if (user === undefined) {
      await this.#record({ actor, action: "user_create", target: username, outcome: "denied", detail: { reason: "user_exists" } });
      throw new AuthError("user_exists");
    }
    await this.#record({
      actor,
      action: "user_create",
      target: username,
      outcome: "ok",
      detail: { userId: user.user_id, groups: memberOf, accountIds, password: passwordHash !== null, mfa: totpSecret !== null },
    });
    return toView(user);
  }

  async getUser(userId: number): Promise<UserView> {
    return toView(await this.#requireUser(this.#sql, userId));
  }

  async findUser(username: string): Promise<UserView | null> {
    const normalized = normalizeUsername(username);
    if (normalized === null) return null;
    const user = await this.#userByName(this.#sql, normalized);
    return user === null ? null : toView(user);
  }

  async listUsers(): Promise<UserView[]> {
    const rows = await this.#sql.query<UserRow>("SELECT * FROM auth_users ORDER BY user_id");
    return rows.map(toView);
  }

  /** Disabling or a new password ends every session of the user; a disabled user's API keys stop working. */
  async updateUser(userId: number, change: UserChange, actor: string): Promise<UserView> {
    const memberOf = change.groups === undefined ? undefined : checkGroups(change.groups);
    const accountIds = change.accountIds === undefined ? undefined : checkAccountIds(change.accountIds);
    const passwordHash = change.password === undefined ? undefined : await hashPassword(checkPassword(change.password), this.#settings.argon2);
    const now = this.#now();
    const { before, after } = await this.#sql.transaction(async (tx) => {
      const [current] = await tx.query<UserRow>("SELECT * FROM auth_users WHERE user_id = $1 FOR UPDATE", [userId]);
      if (current === undefined) return { before: undefined, after: undefined };
      const [updated] = await tx.query<UserRow>(
        `UPDATE auth_users SET groups = COALESCE($2::jsonb, groups), account_ids = COALESCE($3::jsonb, account_ids),
           disabled = COALESCE($4::boolean, disabled), password_hash = COALESCE($5::text, password_hash), updated_at_ms = $6
         WHERE user_id = $1 RETURNING *`,
        [
          userId,
          memberOf === undefined ? null : JSON.stringify(memberOf),
          accountIds === undefined ? null : JSON.stringify(accountIds),
          change.disabled ?? null,
          passwordHash ?? null,
          now,
        ],
      );
      const disabling = change.disabled === true && !current.disabled;
      if (disabling || passwordHash !== undefined) {
        await this.#revokeAllSessions(tx, userId, disabling ? "user_disabled" : "password_changed");
      }
      if (passwordHash !== undefined) await this.#clearFailures(tx, current.username);
      return { before: current, after: updated };
    });
    if (before === undefined || after === undefined) throw new AuthError("unknown_user");
    this.#users.delete(userId);
    this.#sessions.deleteWhere((status) => status.userId === userId);
    const reason = change.disabled === true ? "user_disabled" : passwordHash !== undefined ? "password_changed" : memberOf !== undefined || accountIds !== undefined ? "access_changed" : null;
    if (reason !== null) this.#revocations.emitAll([{ kind: "user", userId, reason }]);
    await this.#record({
      actor,
      action: "user_update",
      target: after.username,
      outcome: "ok",
      detail: {
        userId,
        ...(memberOf === undefined ? {} : { groups: memberOf, previousGroups: groupsOf(before) }),
        ...(accountIds === undefined ? {} : { accountIds, previousAccountIds: accountIdsOf(before) }),
        ...(change.disabled === undefined ? {} : { disabled: change.disabled }),
        ...(passwordHash === undefined ? {} : { passwordChanged: true }),
      },
    });
    return toView(after);
  }

  // ---------------------------------------------------------------- sign-in

  async login(username: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    this.#sweepIfDue();
    const name = normalizeUsername(username);
    if (name === null || password.length > passwordCharsMax) {
      await this.#verifyPassword(null, password.slice(0, passwordCharsMax));
      await this.#record({ actor: unknownActor, action: "login", outcome: "denied", detail: { reason: "invalid_credentials" } }, meta);
      throw new AuthError("invalid_credentials");
    }
    const lockedForS = await this.#lockedForS(name);
    if (lockedForS !== null) {
      await this.#record({ actor: name, action: "login", outcome: "denied", detail: { reason: "account_locked", retryAfterS: lockedForS } }, meta);
      throw new AuthError("account_locked", undefined, lockedForS);
    }
    const user = await this.#userByName(this.#sql, name);
    const passwordOk = await this.#verifyPassword(user?.password_hash ?? null, password);
    if (user === null || !passwordOk) throw await this.#failedAttempt(name, "login", "invalid_credentials", meta);
    if (user.disabled) {
      await this.#record({ actor: name, action: "login", outcome: "denied", detail: { reason: "user_disabled" } }, meta);
      throw new AuthError("user_disabled");
    }
    if (user.totp_secret_sealed !== null) {
      const mfaToken = randomToken();
      await this.#sql.query("INSERT INTO auth_mfa_challenges (token_hash, user_id, expires_at_ms) VALUES ($1, $2, $3)", [
        sha256Hex(mfaToken),
        user.user_id,
        this.#now() + mfaChallengeTtlS * 1000,
      ]);
      await this.#record({ actor: name, action: "login", outcome: "ok", detail: { stage: "password", next: "mfa" } }, meta);
      return { status: "mfa_required", mfaToken, expiresIn: mfaChallengeTtlS };
    }
    const issued = await this.#sql.transaction(async (tx) => {
      await this.#clearFailures(tx, name);
      return this.#issue(tx, user.user_id, "password", null);
    });
    await this.#record({ actor: name, action: "login", outcome: "ok", detail: { sessionId: issued.sessionId } }, meta);
    return { status: "ok", tokens: issued.tokens, user: toView(user) };
  }

  /** Finishes a sign-in with a TOTP code (±1 step, each code once) or an unused recovery code. */
  async verifyMfa(mfaToken: string, code: string, meta: RequestMeta): Promise<{ tokens: Tokens; user: UserView }> {
    const tokenHash = opaqueTokenPattern.test(mfaToken) ? sha256Hex(mfaToken) : null;
    const [challenge] =
      tokenHash === null
        ? []
        : await this.#sql.query<{ user_id: number; expires_at_ms: string; used_at_ms: string | null }>(
            "SELECT user_id, expires_at_ms, used_at_ms FROM auth_mfa_challenges WHERE token_hash = $1",
            [tokenHash],
          );
    if (tokenHash === null || challenge === undefined || challenge.used_at_ms !== null) {
      await this.#record({ actor: unknownActor, action: "mfa_verify", outcome: "denied", detail: { reason: "token_invalid" } }, meta);
      throw new AuthError("token_invalid", "This sign-in step is not valid or was already completed; sign in again.");
    }
    const user = await this.#requireUser(this.#sql, challenge.user_id);
    if (Number(challenge.expires_at_ms) <= this.#now()) {
      await this.#record({ actor: user.username, action: "mfa_verify", outcome: "denied", detail: { reason: "token_expired" } }, meta);
      throw new AuthError("token_expired", "The sign-in step has expired; sign in again.");
    }
    if (user.disabled) {
      await this.#record({ actor: user.username, action: "mfa_verify", outcome: "denied", detail: { reason: "user_disabled" } }, meta);
      throw new AuthError("user_disabled");
    }
    const lockedForS = await this.#lockedForS(user.username);
    if (lockedForS !== null) {
      await this.#record({ actor: user.username, action: "mfa_verify", outcome: "denied", detail: { reason: "account_locked", retryAfterS: lockedForS } }, meta);
      throw new AuthError("account_locked", undefined, lockedForS);
    }
    const outcome = await this.#sql.transaction(async (tx) => {
      // The row lock makes concurrent attempts with one challenge take turns.
      const [fresh] = await tx.query<{ used_at_ms: string | null }>("SELECT used_at_ms FROM auth_mfa_challenges WHERE token_hash = $1 FOR UPDATE", [tokenHash]);
      if (fresh === undefined || fresh.used_at_ms !== null) return { status: "used" } as const;
      const factor = await this.#consumeSecondFactor(tx, user, code);
      if (factor === null) return { status: "bad_code" } as const;
      await tx.query("UPDATE auth_mfa_challenges SET used_at_ms = $2 WHERE token_hash = $1", [tokenHash, this.#now()]);
      await this.#clearFailures(tx, user.username);
      return { status: "ok", factor, issued: await this.#issue(tx, user.user_id, "password", null) } as const;
    });
    switch (outcome.status) {
      case "used":
        await this.#record({ actor: user.username, action: "mfa_verify", outcome: "denied", detail: { reason: "token_invalid" } }, meta);
        throw new AuthError("token_invalid", "This sign-in step was already completed; sign in again.");
      case "bad_code":
        throw await this.#failedAttempt(user.username, "mfa_verify", "invalid_mfa_code", meta);
      case "ok":
        await this.#record({ actor: user.username, action: "mfa_verify", outcome: "ok", detail: { ...outcome.factor, sessionId: outcome.issued.sessionId } }, meta);
        return { tokens: outcome.issued.tokens, user: toView(user) };
    }
  }

  async beginTotpEnrolment(userId: number): Promise<{ secret: string; otpauthUri: string; qrSvg: string }> {
    const user = await this.#requireUser(this.#sql, userId);
    if (user.totp_secret_sealed !== null) throw new AuthError("mfa_already_enrolled");
    const secret = newTotpSecret();
    await this.#sql.query("UPDATE auth_users SET totp_pending_sealed = $2, totp_key_id = $3, updated_at_ms = $4 WHERE user_id = $1", [
      userId,
      this.#sealTotp(userId, secret, "pending"),
      this.#keys.totpSealing.id,
      this.#now(),
    ]);
    await this.#record({ actor: user.username, action: "totp_enrolment_begin", target: user.username, outcome: "ok" });
    const uri = otpauthUri(secret, user.username);
    return { secret, otpauthUri: uri, qrSvg: await qrSvg(uri) };
  }

  /** Activates the pending secret once the user proves they hold it; returns ten recovery codes, shown once. */
  async confirmTotpEnrolment(userId: number, code: string): Promise<{ recoveryCodes: string[] }> {
    const user = await this.#requireUser(this.#sql, userId);
    if (user.totp_secret_sealed !== null) throw new AuthError("mfa_already_enrolled");
    if (user.totp_pending_sealed === null || user.totp_key_id === null) throw new AuthError("mfa_not_enrolled");
    const secret = this.#openTotp(user.user_id, user.totp_key_id, user.totp_pending_sealed, "pending");
    const step = matchTotp(secret, code.trim(), this.#now(), 0);
    if (step === null) {
      await this.#record({ actor: user.username, action: "totp_enrolment_confirm", target: user.username, outcome: "denied", detail: { reason: "invalid_mfa_code" } });
      throw new AuthError("invalid_mfa_code");
    }
    const recoveryCodes = newRecoveryCodes();
    const activated = await this.#sql.transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE auth_users SET totp_secret_sealed = $2, totp_pending_sealed = NULL, totp_key_id = $3, totp_last_step = $4, updated_at_ms = $5
         WHERE user_id = $1 AND totp_secret_sealed IS NULL RETURNING user_id`,
        [userId, this.#sealTotp(userId, secret, "active"), this.#keys.totpSealing.id, step, this.#now()],
      );
      if (rows.length === 0) return false;
      await tx.query("DELETE FROM auth_recovery_codes WHERE user_id = $1", [userId]);
      await tx.query("INSERT INTO auth_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])", [userId, recoveryCodes.map(recoveryCodeHash)]);
      return true;
    });
    if (!activated) throw new AuthError("mfa_already_enrolled");
    this.#users.delete(userId);
    await this.#record({ actor: user.username, action: "totp_enrolment_confirm", target: user.username, outcome: "ok", detail: { recoveryCodes: recoveryCodes.length } });
    return { recoveryCodes };
  }

  // ---------------------------------------------------------------- sessions

  /** Rotates the refresh token. Presenting a rotated one revokes its whole family (refresh_token_reused). */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<Tokens> {
    if (!opaqueTokenPattern.test(refreshToken)) {
      await this.#record({ actor: unknownActor, action: "token_refresh", outcome: "denied", detail: { reason: "token_invalid" } }, meta);
      throw new AuthError("token_invalid");
    }
    const tokenHash = sha256Hex(refreshToken);
    const now = this.#now();
    const outcome = await this.#sql.transaction(async (tx) => {
      const [row] = await tx.query<{
        session_id: string;
        expires_at_ms: string;
        rotated_at_ms: string | null;
        revoked_at_ms: string | null;
        user_id: number;
        method: SessionMethod;
        username: string;
        disabled: boolean;
      }>(
        `SELECT r.session_id, r.expires_at_ms, r.rotated_at_ms, s.revoked_at_ms, s.user_id, s.method, u.username, u.disabled
         FROM auth_refresh_tokens r JOIN auth_sessions s ON s.session_id = r.session_id JOIN auth_users u ON u.user_id = s.user_id
         WHERE r.token_hash = $1 FOR UPDATE OF r, s`,
        [tokenHash],
      );
      if (row === undefined) return { status: "unknown" } as const;
      if (row.revoked_at_ms !== null) return { status: "revoked", row } as const;
      if (row.rotated_at_ms !== null) {
        await tx.query("UPDATE auth_sessions SET revoked_at_ms = $2, revoked_reason = 'refresh_token_reused' WHERE session_id = $1", [row.session_id, now]);
        return { status: "reused", row } as const;
      }
      if (Number(row.expires_at_ms) <= now) return { status: "expired", row } as const;
      if (row.disabled) return { status: "disabled", row } as const;
      await tx.query("UPDATE auth_refresh_tokens SET rotated_at_ms = $2 WHERE token_hash = $1", [tokenHash, now]);
      return { status: "ok", row, issued: await this.#issue(tx, row.user_id, row.method, row.session_id) } as const;
    });
    switch (outcome.status) {
      case "unknown":
        await this.#record({ actor: unknownActor, action: "token_refresh", outcome: "denied", detail: { reason: "token_invalid" } }, meta);
        throw new AuthError("token_invalid");
      case "revoked":
        await this.#record({ actor: outcome.row.username, action: "token_refresh", outcome: "denied", detail: { reason: "session_revoked", sessionId: outcome.row.session_id } }, meta);
        throw new AuthError("token_invalid", "This session has ended; sign in again.");
      case "reused":
        this.#sessions.set(outcome.row.session_id, { revoked: true, userId: outcome.row.user_id }, now);
        this.#revocations.emitAll([{ kind: "session", sessionId: outcome.row.session_id, reason: "refresh_token_reused" }]);
        await this.#record({ actor: outcome.row.username, action: "refresh_reuse_detected", outcome: "denied", detail: { sessionId: outcome.row.session_id } }, meta);
        this.#logger.warn("refresh token reuse detected; session family revoked", { username: outcome.row.username, sessionId: outcome.row.session_id });
        throw new AuthError("refresh_token_reused");
      case "expired":
        await this.#record({ actor: outcome.row.username, action: "token_refresh", outcome: "denied", detail: { reason: "token_expired", sessionId: outcome.row.session_id } }, meta);
        throw new AuthError("token_expired", "The session has expired; sign in again.");
      case "disabled":
        await this.#record({ actor: outcome.row.username, action: "token_refresh", outcome: "denied", detail: { reason: "user_disabled" } }, meta);
        throw new AuthError("user_disabled");
      case "ok":
        await this.#record({ actor: outcome.row.username, action: "token_refresh", outcome: "ok", detail: { sessionId: outcome.row.session_id } }, meta);
        return outcome.issued.tokens;
    }
  }

  /** Ends a session family: its refresh tokens and its access tokens stop working at once. */
  async logout(sessionId: string, meta: RequestMeta): Promise<void> {
    const now = this.#now();
    const rows = sessionIdPattern.test(sessionId)
      ? await this.#sql.query<{ user_id: number; username: string }>(
          `UPDATE auth_sessions s SET revoked_at_ms = $2, revoked_reason = 'logout' FROM auth_users u
           WHERE s.session_id = $1 AND s.revoked_at_ms IS NULL AND u.user_id = s.user_id RETURNING s.user_id, u.username`,
          [sessionId, now],
        )
      : [];
    const ended = rows[0];
    if (ended !== undefined) {
      this.#sessions.set(sessionId, { revoked: true, userId: ended.user_id }, now);
      this.#revocations.emitAll([{ kind: "session", sessionId, reason: "logout" }]);
    }
    await this.#record({ actor: ended?.username ?? unknownActor, action: "logout", outcome: "ok", detail: { sessionId, ended: ended !== undefined } }, meta);
  }

  async authenticateAccessToken(token: string): Promise<Principal> {
    const claims = await this.#verifyAccessToken(token);
    // The user first: a disabled user learns why, rather than that the session ended.
    const user = await this.#cachedUser(claims.userId);
    if (user === null) throw new AuthError("token_invalid");
    if (user.disabled) throw new AuthError("user_disabled");
    const now = this.#now();
    const sessionId = claims.sessionId;
    const session = await this.#sessions.getOrLoad(
      sessionId,
      now,
      async () => {
        const [row] = await this.#sql.query<{ user_id: number; revoked_at_ms: string | null }>("SELECT user_id, revoked_at_ms FROM auth_sessions WHERE session_id = $1", [sessionId]);
        return row === undefined ? undefined : { revoked: row.revoked_at_ms !== null, userId: row.user_id };
      },
      (error) => this.#logger.warn("session status refresh failed", { error: error instanceof Error ? error.message : String(error) }),
    );
    if (session === undefined) throw new AuthError("token_invalid");
    if (session.revoked || session.userId !== claims.userId) throw new AuthError("token_invalid", "This session has ended; sign in again.");
    return principalOf(user, { method: claims.method, sessionId: claims.sessionId, apiKeyId: null });
  }

  // ---------------------------------------------------------------- API keys

  async createApiKey(userId: number, label: string, meta: RequestMeta): Promise<ApiKeyCreated> {
    const user = await this.#requireUser(this.#sql, userId);
    if (user.disabled) throw new AuthError("user_disabled");
    const name = label.trim();
    if (name.length === 0 || name.length > apiKeyLabelCharsMax) {
      throw new AuthError("validation_failed", `An API key label must be 1 to ${apiKeyLabelCharsMax} characters.`);
    }
    const keyId = `ak_${randomBytes(12).toString("hex")}`;
    const secret = `tsk_${randomToken()}`;
    const now = this.#now();
    const created = await this.#sql.transaction(async (tx) => {
      await tx.query("SELECT user_id FROM auth_users WHERE user_id = $1 FOR UPDATE", [userId]);
      const [active] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM auth_api_keys WHERE user_id = $1 AND revoked_at_ms IS NULL", [userId]);
      if ((active?.n ?? 0) >= apiKeysPerUserMax) return false;
      await tx.query(
        "INSERT INTO auth_api_keys (key_id, user_id, label, hmac_key_sealed, sealing_key_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        [keyId, userId, name, seal(this.#keys.apiKeySealing, apiKeyHmacKey(secret), `api-key:${keyId}`), this.#keys.apiKeySealing.id, now],
      );
      return true;
    });
    if (!created) {
      throw new AuthError("validation_failed", `A user may hold at most ${apiKeysPerUserMax} active API keys; revoke one first.`);
    }
    await this.#record({ actor: user.username, action: "api_key_create", target: keyId, outcome: "ok", detail: { label: name } }, meta);
    return { keyId, secret, label: name, createdAtMs: now };
  }

  async listApiKeys(userId: number): Promise<ApiKeyView[]> {
    await this.#requireUser(this.#sql, userId);
    const rows = await this.#sql.query<{ key_id: string; label: string; created_at_ms: string; last_used_at_ms: string | null; revoked_at_ms: string | null }>(
      "SELECT key_id, label, created_at_ms, last_used_at_ms, revoked_at_ms FROM auth_api_keys WHERE user_id = $1 ORDER BY created_at_ms, key_id",
      [userId],
    );
    return rows.map((row) => ({
      keyId: row.key_id,
      label: row.label,
      createdAtMs: Number(row.created_at_ms),
      lastUsedAtMs: row.last_used_at_ms === null ? null : Number(row.last_used_at_ms),
      revoked: row.revoked_at_ms !== null,
    }));
  }

  /** Revoking is idempotent; a key of another user is unknown_api_key. */
  async revokeApiKey(userId: number, keyId: string, meta: RequestMeta): Promise<void> {
    const user = await this.#requireUser(this.#sql, userId);
    const [row] = await this.#sql.query<{ revoked_at_ms: string | null }>("SELECT revoked_at_ms FROM auth_api_keys WHERE key_id = $1 AND user_id = $2", [keyId, userId]);
    if (row === undefined) throw new AuthError("unknown_api_key");
    if (row.revoked_at_ms === null) {
      await this.#sql.query("UPDATE auth_api_keys SET revoked_at_ms = $3 WHERE key_id = $1 AND user_id = $2 AND revoked_at_ms IS NULL", [keyId, userId, this.#now()]);
      this.#revocations.emitAll([{ kind: "api_key", keyId, reason: "api_key_revoked" }]);
    }
    await this.#record({ actor: user.username, action: "api_key_revoke", target: keyId, outcome: "ok", detail: { alreadyRevoked: row.revoked_at_ms !== null } }, meta);
  }

  /** Verifies a signed request (see signature.ts for the scheme) and returns whose key signed it. */
  async authenticateSignature(request: SignedRequest, meta: RequestMeta): Promise<Principal> {
    const reject = async (error: AuthError, reason: string, actor = unknownActor): Promise<never> => {
      await this.#record({ actor, action: "api_key_signature_rejected", target: cutId(request.keyId), outcome: "denied", detail: { reason } }, meta);
      throw error;
    };
    if (!apiKeyIdPattern.test(request.keyId) || !signaturePattern.test(request.signature)) {
      return reject(new AuthError("signature_invalid"), "malformed");
    }
    if (!timestampPattern.test(request.timestamp)) {
      return reject(new AuthError("validation_failed", "The timestamp must be milliseconds since the epoch as a decimal number."), "malformed_timestamp");
    }
    if (!noncePattern.test(request.nonce)) {
      return reject(new AuthError("validation_failed", "The nonce must be 8 to 64 characters of A-Z, a-z, 0-9, _ or -."), "malformed_nonce");
    }
    const now = this.#now();
    const toleranceMs = this.#settings.signatureToleranceS * 1000;
    const timestampMs = Number(request.timestamp);
    if (Math.abs(now - timestampMs) > toleranceMs) return reject(new AuthError("signature_stale"), "stale");
    const [key] = await this.#sql.query<{ user_id: number; hmac_key_sealed: string; sealing_key_id: string; last_used_at_ms: string | null; revoked_at_ms: string | null }>(
      "SELECT user_id, hmac_key_sealed, sealing_key_id, last_used_at_ms, revoked_at_ms FROM auth_api_keys WHERE key_id = $1",
      [request.keyId],
    );
    if (key === undefined) return reject(new AuthError("signature_invalid"), "unknown_key");
    const user = await this.#cachedUser(key.user_id);
    if (user === null) return reject(new AuthError("signature_invalid"), "unknown_key");
    if (key.revoked_at_ms !== null) return reject(new AuthError("signature_invalid", "This API key has been revoked."), "revoked", user.username);
    if (user.disabled) return reject(new AuthError("user_disabled"), "user_disabled", user.username);
    const hmacKey = unseal(this.#keys.apiKeySealing, key.sealing_key_id, key.hmac_key_sealed, `api-key:${request.keyId}`);
    const expected = signWithKey(hmacKey, request);
    if (!constantTimeEqual(expected, request.signature)) return reject(new AuthError("signature_invalid"), "mismatch", user.username);
    // Only after the signature holds, so unauthenticated traffic cannot fill the nonce memory.
    switch (this.#nonces.remember(request.keyId, request.nonce, timestampMs + toleranceMs, now)) {
      case "replayed":
        return reject(new AuthError("nonce_replayed"), "nonce_replayed", user.username);
      case "full":
        return reject(new AuthError("rate_limited", "Too many signed requests in the replay window; retry shortly.", 1), "nonce_cache_full", user.username);
      case "fresh":
        break;
    }
    if (key.last_used_at_ms === null || now - Number(key.last_used_at_ms) >= apiKeyLastUsedWriteIntervalMs) {
      await this.#sql.query("UPDATE auth_api_keys SET last_used_at_ms = $2 WHERE key_id = $1", [request.keyId, now]);
    }
    return principalOf(user, { method: "api_key", sessionId: null, apiKeyId: request.keyId });
  }

  // ---------------------------------------------------------------- single sign-on

  async ssoStart(): Promise<{ authorizationUrl: string; state: string }> {
    const oidc = this.#requireOidc();
    const now = this.#now();
    await this.#sql.query("DELETE FROM auth_sso_states WHERE expires_at_ms <= $1", [now]);
    const [pending] = await this.#sql.query<{ n: number }>("SELECT count(*)::int AS n FROM auth_sso_states");
    if ((pending?.n ?? 0) >= ssoPendingStatesMax) {
      throw new AuthError("rate_limited", "Too many single sign-ons are in progress; retry shortly.", 60);
    }
    const checks = OidcClient.newChecks();
    let url: URL;
    try {
      url = await oidc.authorizationUrl(checks);
    } catch (error) {
      this.#logger.warn("sso: the identity provider could not be reached", describeError(error));
      throw new AuthError("sso_failed", "The identity provider could not be reached; try again later.");
    }
    // The verifier is useless without the code the provider sends to the browser; it lives 10 minutes at most.
    await this.#sql.query("INSERT INTO auth_sso_states (state_hash, code_verifier, nonce, expires_at_ms) VALUES ($1, $2, $3, $4)", [
      sha256Hex(checks.state),
      checks.codeVerifier,
      checks.nonce,
      now + ssoStateTtlMs,
    ]);
    return { authorizationUrl: url.href, state: checks.state };
  }

  /**
   * Completes a sign-on. The first sign-in of a subject (issuer + sub) provisions a
   * user; every sign-in replaces the user's groups with the provider's. Trading
   * accounts are never taken from the provider: an administrator assigns them.
   */
  async ssoCallback(callbackUrl: URL, meta: RequestMeta): Promise<{ tokens: Tokens; user: UserView }> {
    const oidc = this.#requireOidc();
    const state = callbackUrl.searchParams.get("state");
    const [pending] =
      state === null || state.length > 512
        ? []
        : await this.#sql.query<{ code_verifier: string; nonce: string; expires_at_ms: string }>(
            "DELETE FROM auth_sso_states WHERE state_hash = $1 RETURNING code_verifier, nonce, expires_at_ms",
            [sha256Hex(state)],
          );
    if (state === null || pending === undefined || Number(pending.expires_at_ms) <= this.#now()) {
      await this.#record({ actor: unknownActor, action: "sso_login", outcome: "denied", detail: { reason: "unknown_or_expired_state" } }, meta);
      throw new AuthError("sso_failed");
    }
    let identity: OidcIdentity;
    try {
      identity = await oidc.complete(callbackUrl, { state, nonce: pending.nonce, codeVerifier: pending.code_verifier });
    } catch (error) {
      this.#logger.warn("sso: the authorization response was refused", describeError(error));
      await this.#record({ actor: unknownActor, action: "sso_login", outcome: "denied", detail: { reason: "provider_response_refused", ...describeError(error) } }, meta);
      throw new AuthError("sso_failed");
    }
    const subject = `${identity.issuer}|${identity.subject}`;
    const { known, ignored } = groupsFromClaim(identity.claims[oidc.groupsClaim]);
    if (ignored.length > 0) this.#logger.warn("sso: groups unknown to the platform were ignored", { subject, ignored });
    const outcome = await this.#sql.transaction(async (tx) => {
      const [existing] = await tx.query<UserRow>("SELECT * FROM auth_users WHERE sso_subject = $1 FOR UPDATE", [subject]);
      if (existing?.disabled === true) return { status: "disabled", user: existing } as const;
      const now = this.#now();
      const user =
        existing === undefined
          ? await this.#provision(tx, subject, identity.claims, known)
          : await tx.query<UserRow>("UPDATE auth_users SET groups = $2, updated_at_ms = $3 WHERE user_id = $1 RETURNING *", [existing.user_id, JSON.stringify(known), now]).then((rows) => rows[0]);
      if (user === undefined) throw new Error("The signed-in user vanished inside its transaction.");
      return { status: "ok", user, created: existing === undefined, issued: await this.#issue(tx, user.user_id, "sso", null) } as const;
    });
    if (outcome.status === "disabled") {
      await this.#record({ actor: outcome.user.username, action: "sso_login", outcome: "denied", detail: { reason: "user_disabled", subject } }, meta);
      throw new AuthError("user_disabled");
    }
    const { user, created, issued } = outcome;
    this.#users.delete(user.user_id);
    if (created) {
      await this.#record({ actor: "sso", action: "user_create", target: user.username, outcome: "ok", detail: { userId: user.user_id, subject, groups: known } }, meta);
    }
    await this.#record(
      { actor: user.username, action: "sso_login", outcome: "ok", detail: { subject, groups: known, ignoredGroups: ignored, sessionId: issued.sessionId } },
      meta,
    );
    return { tokens: issued.tokens, user: toView(user) };
  }

  /** Forgets in-memory state. The store belongs to the caller and stays open. */
  close(): Promise<void> {
    this.#sessions.clear();
    this.#users.clear();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- internals

  async #record(entry: AuditEntryInput & { action: AuthAuditAction }, meta?: RequestMeta): Promise<void> {
    const detail = meta?.userAgent === undefined ? entry.detail : { ...entry.detail, userAgent: meta.userAgent.slice(0, 256) };
    await this.audit.record({ ...entry, ip: meta?.ip, requestId: meta?.requestId, detail });
  }

  async #failedAttempt(username: string, action: "login" | "mfa_verify", code: "invalid_credentials" | "invalid_mfa_code", meta: RequestMeta): Promise<AuthError> {
    const lockedForS = await this.#registerFailure(username);
    await this.#record({ actor: username, action, outcome: "denied", detail: { reason: code, ...(lockedForS === null ? {} : { lockedForS }) } }, meta);
    return lockedForS === null ? new AuthError(code) : new AuthError("account_locked", undefined, lockedForS);
  }

  async #lockedForS(username: string): Promise<number | null> {
    const [row] = await this.#sql.query<{ locked_until_ms: string }>("SELECT locked_until_ms FROM auth_login_failures WHERE username = $1", [username]);
    if (row === undefined) return null;
    const remainingMs = Number(row.locked_until_ms) - this.#now();
    return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : null;
  }

  /** Counts a failure; returns the lock in seconds when this failure locks the name, else null. */
  async #registerFailure(username: string): Promise<number | null> {
    const now = this.#now();
    const policy = this.#settings.lockout;
    return this.#sql.transaction(async (tx) => {
      await tx.query("DELETE FROM auth_login_failures WHERE last_failure_ms < $1 AND locked_until_ms < $2", [now - failureMemoryMs, now]);
      const [row] = await tx.query<{ failures: number }>(
        `INSERT INTO auth_login_failures (username, failures, last_failure_ms) VALUES ($1, 1, $2)
         ON CONFLICT (username) DO UPDATE SET failures = auth_login_failures.failures + 1, last_failure_ms = EXCLUDED.last_failure_ms
         RETURNING failures`,
        [username, now],
      );
      const lockMs = lockDurationMs(policy, row?.failures ?? 1);
      if (lockMs === 0) return null;
      await tx.query("UPDATE auth_login_failures SET locked_until_ms = $2 WHERE username = $1", [username, now + lockMs]);
      return Math.ceil(lockMs / 1000);
    });
  }

  async #clearFailures(sql: Sql, username: string): Promise<void> {
    await sql.query("DELETE FROM auth_login_failures WHERE username = $1", [username]);
  }

  async #verifyPassword(hash: string | null, password: string): Promise<boolean> {
    if (hash === null) {
      await argon2Verify(this.#dummyHash, password);
      return false;
    }
    return argon2Verify(hash, password);
  }

  async #consumeSecondFactor(tx: Sql, user: UserRow, code: string): Promise<Record<string, unknown> | null> {
    const trimmed = code.trim();
    if (isTotpCode(trimmed)) {
      if (user.totp_secret_sealed === null || user.totp_key_id === null) return null;
      const secret = this.#openTotp(user.user_id, user.totp_key_id, user.totp_secret_sealed, "active");
      // Re-read under a row lock so that two requests cannot both spend one code.
      const [row] = await tx.query<{ totp_last_step: string }>("SELECT totp_last_step FROM auth_users WHERE user_id = $1 FOR UPDATE", [user.user_id]);
      const step = matchTotp(secret, trimmed, this.#now(), Number(row?.totp_last_step ?? 0));
      if (step === null) return null;
      await tx.query("UPDATE auth_users SET totp_last_step = $2 WHERE user_id = $1", [user.user_id, step]);
      return { factor: "totp" };
    }
    const normalized = normalizeRecoveryCode(trimmed);
    if (!recoveryCodePattern.test(normalized)) return null;
    const spent = await tx.query("UPDATE auth_recovery_codes SET used_at_ms = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at_ms IS NULL RETURNING user_id", [
      user.user_id,
      recoveryCodeHash(normalized),
      this.#now(),
    ]);
    if (spent.length === 0) return null;
    const [left] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM auth_recovery_codes WHERE user_id = $1 AND used_at_ms IS NULL", [user.user_id]);
    return { factor: "recovery_code", recoveryCodesLeft: left?.n ?? 0 };
  }

  async #issue(tx: Sql, userId: number, method: SessionMethod, sessionId: string | null): Promise<Issued> {
    const now = this.#now();
    const sid = sessionId ?? randomToken(18);
    if (sessionId === null) {
      await tx.query("INSERT INTO auth_sessions (session_id, user_id, method, created_at_ms) VALUES ($1, $2, $3, $4)", [sid, userId, method, now]);
    }
    const refreshToken = randomToken();
    const { accessTokenTtlS, refreshTokenTtlS } = this.#settings;
    await tx.query("INSERT INTO auth_refresh_tokens (token_hash, session_id, issued_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4)", [
      sha256Hex(refreshToken),
      sid,
      now,
      now + refreshTokenTtlS * 1000,
    ]);
    const nowS = Math.floor(now / 1000);
    const accessToken = await new SignJWT({ sid, mth: method })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(accessTokenIssuer)
      .setAudience(accessTokenAudience)
      .setSubject(String(userId))
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + accessTokenTtlS)
      .setJti(randomToken(12))
      .sign(this.#keys.jwt);
    return { sessionId: sid, tokens: { tokenType: "Bearer", accessToken, expiresIn: accessTokenTtlS, refreshToken, refreshExpiresIn: refreshTokenTtlS } };
  }

  /**
   * Tokens already verified, with their expiry: a signature check (WebCrypto HMAC
   * through jose) costs far more than the request it guards, and a client sends
   * the same token many times. Only the signature and claims are cached — the
   * session and user are checked on every request. Bounded; oldest dropped first.
   */
  readonly #verifiedTokens = new FifoMap<string, { readonly userId: number; readonly sessionId: string; readonly method: SessionMethod; readonly expiresAtMs: number }>();

  async #verifyAccessToken(token: string): Promise<{ userId: number; sessionId: string; method: SessionMethod }> {
    if (token.length === 0 || token.length > 4096) throw new AuthError("token_invalid");
    const known = this.#verifiedTokens.get(token);
    if (known !== undefined) {
      if (this.#now() >= known.expiresAtMs) {
        this.#verifiedTokens.delete(token);
        throw new AuthError("token_expired");
      }
      return known;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys.jwt, {
        issuer: accessTokenIssuer,
        audience: accessTokenAudience,
        algorithms: ["HS256"],
        currentDate: new Date(this.#now()),
        requiredClaims: ["exp", "iat", "sub"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthError("token_expired");
      throw new AuthError("token_invalid");
    }
    const userId = Number(payload.sub);
    const { sid, mth } = payload;
    if (!Number.isSafeInteger(userId) || typeof sid !== "string" || !sessionIdPattern.test(sid) || (mth !== "password" && mth !== "sso")) {
      throw new AuthError("token_invalid");
    }
    const verified: { userId: number; sessionId: string; method: SessionMethod; expiresAtMs: number } = { userId, sessionId: sid, method: mth, expiresAtMs: (payload.exp ?? 0) * 1000 };
    if (this.#verifiedTokens.size >= verifiedTokensMax) {
      this.#verifiedTokens.shift();
    }
    this.#verifiedTokens.set(token, verified);
    return verified;
  }

  async #cachedUser(userId: number): Promise<UserRow | null> {
    const user = await this.#users.getOrLoad(
      userId,
      this.#now(),
      async () => (await this.#sql.query<UserRow>("SELECT * FROM auth_users WHERE user_id = $1", [userId]))[0],
      (error) => this.#logger.warn("user status refresh failed", { error: error instanceof Error ? error.message : String(error) }),
    );
    return user ?? null;
  }

  async #requireUser(sql: Sql, userId: number): Promise<UserRow> {
    if (!Number.isSafeInteger(userId)) throw new AuthError("unknown_user");
    const [row] = await sql.query<UserRow>("SELECT * FROM auth_users WHERE user_id = $1", [userId]);
    if (row === undefined) throw new AuthError("unknown_user");
    return row;
  }

  async #userByName(sql: Sql, username: string): Promise<UserRow | null> {
    const [row] = await sql.query<UserRow>("SELECT * FROM auth_users WHERE username = $1", [username]);
    return row ?? null;
  }

  async #revokeAllSessions(tx: Sql, userId: number, reason: string): Promise<void> {
    await tx.query("UPDATE auth_sessions SET revoked_at_ms = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at_ms IS NULL", [userId, this.#now(), reason]);
  }

  async #provision(tx: Sql, subject: string, claims: Readonly<Record<string, unknown>>, memberOf: readonly Group[]): Promise<UserRow | undefined> {
    const base = usernameFromClaims(claims);
    let username: string | null = null;
    for (let attempt = 1; attempt <= 100 && username === null; attempt += 1) {
      const candidate = attempt === 1 ? base : `${base.slice(0, 58)}-${attempt}`;
      if ((await this.#userByName(tx, candidate)) === null) username = candidate;
    }
    if (username === null) throw new AuthError("sso_failed", "No free username could be derived for this identity.");
    const displayName = typeof claims["name"] === "string" && claims["name"].trim() !== "" ? claims["name"].trim().slice(0, displayNameCharsMax) : username;
    const now = this.#now();
    const [row] = await tx.query<UserRow>(
      `INSERT INTO auth_users (username, display_name, groups, account_ids, sso_subject, created_at_ms, updated_at_ms)
       VALUES ($1, $2, $3, '[]', $4, $5, $5) RETURNING *`,
      [username, displayName, JSON.stringify(memberOf), subject, now],
    );
    return row;
  }

  #requireOidc(): OidcClient {
    if (this.#oidc === null) throw new AuthError("sso_not_configured");
    return this.#oidc;
  }

  #sealTotp(userId: number, secret: string, state: "pending" | "active"): string {
    return seal(this.#keys.totpSealing, Buffer.from(secret), `totp-${state}:${userId}`);
  }

  #openTotp(userId: number, keyId: string, sealed: string, state: "pending" | "active"): string {
    return unseal(this.#keys.totpSealing, keyId, sealed, `totp-${state}:${userId}`).toString();
  }

  /** Deletes expired one-time rows now and then; nothing depends on it happening promptly. */
  #sweepIfDue(): void {
    const now = this.#now();
    if (now - this.#lastSweepMs < sweepIntervalMs) return;
    this.#lastSweepMs = now;
    const sweep = this.#sql.transaction(async (tx) => {
      await tx.query("DELETE FROM auth_mfa_challenges WHERE expires_at_ms < $1", [now]);
      await tx.query("DELETE FROM auth_sso_states WHERE expires_at_ms < $1", [now]);
      await tx.query("DELETE FROM auth_refresh_tokens WHERE expires_at_ms < $1", [now]);
    });
    void sweep.catch((error: unknown) => this.#logger.warn("auth: sweeping expired rows failed", describeError(error)));
  }
}

function principalOf(user: UserRow, via: { method: Principal["method"]; sessionId: string | null; apiKeyId: string | null }): Principal {
  const memberOf = groupsOf(user);
  return {
    userId: user.user_id,
    username: user.username,
    groups: memberOf,
    roles: rolesOf(memberOf),
    accountIds: accountIdsOf(user),
    method: via.method,
    sessionId: via.sessionId,
    apiKeyId: via.apiKeyId,
  };
}

function toView(user: UserRow): UserView {
  return {
    userId: user.user_id,
    username: user.username,
    displayName: user.display_name,
    groups: groupsOf(user),
    accountIds: accountIdsOf(user),
    mfaEnrolled: user.totp_secret_sealed !== null,
    disabled: user.disabled,
    sso: user.sso_subject !== null,
    createdAtMs: Number(user.created_at_ms),
  };
}

function groupsOf(user: UserRow): Group[] {
  return Array.isArray(user.groups) ? user.groups.filter((g): g is Group => typeof g === "string" && isGroup(g)) : [];
}

function accountIdsOf(user: UserRow): number[] {
  return Array.isArray(user.account_ids) ? user.account_ids.filter((id): id is number => Number.isSafeInteger(id)) : [];
}

function normalizeUsername(username: string): string | null {
  const name = username.trim().toLowerCase();
  return usernamePattern.test(name) ? name : null;
}

function checkUsername(username: string): string {
  const name = normalizeUsername(username);
  if (name === null) {
    throw new AuthError("validation_failed", "A username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.");
  }
  return name;
}

function checkPassword(password: string): string {
  if (password.length < passwordCharsMin) throw new AuthError("validation_failed", `A password must be at least ${passwordCharsMin} characters long.`);
  if (password.length > passwordCharsMax) throw new AuthError("validation_failed", `A password must be at most ${passwordCharsMax} characters long.`);
  return password;
}

function checkDisplayName(displayName: string | undefined, username: string): string {
  const name = displayName?.trim() ?? "";
  if (name.length > displayNameCharsMax) throw new AuthError("validation_failed", `A display name must be at most ${displayNameCharsMax} characters.`);
  return name === "" ? username : name;
}

function checkGroups(memberOf: readonly string[]): Group[] {
  const unique = [...new Set(memberOf)];
  const unknown = unique.filter((g) => !isGroup(g));
  if (unknown.length > 0) throw new AuthError("validation_failed", `Unknown group(s): ${unknown.join(", ")}.`);
  return unique.filter(isGroup);
}

function checkAccountIds(accountIds: readonly number[]): number[] {
  const unique = [...new Set(accountIds)];
  if (unique.some((id) => !Number.isSafeInteger(id) || id <= 0)) throw new AuthError("validation_failed", "Account ids must be positive whole numbers.");
  if (unique.length > accountIdsPerUserMax) throw new AuthError("validation_failed", `A user may be assigned at most ${accountIdsPerUserMax} accounts.`);
  return unique.sort((a, b) => a - b);
}

function checkTotpSecret(secret: string): string {
  const normalized = secret.replace(/\s/g, "").toUpperCase();
  if (!isBase32Secret(normalized)) throw new AuthError("validation_failed", "A TOTP secret must be base32 and at least 16 characters (80 bits).");
  return normalized;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number.`);
  return value;
}

function checkLockout(policy: LockoutPolicy): LockoutPolicy {
  positive("lockout.maxFailures", policy.maxFailures);
  positive("lockout.baseLockS", policy.baseLockS);
  positive("lockout.maxLockS", policy.maxLockS);
  if (policy.maxLockS < policy.baseLockS) throw new Error("lockout.maxLockS must not be below lockout.baseLockS.");
  return policy;
}

/** baseLockS at maxFailures, doubling per further failure, capped at maxLockS; 0 below maxFailures. */
export function lockDurationMs(policy: LockoutPolicy, failures: number): number {
  if (failures < policy.maxFailures) return 0;
  const doublings = Math.min(failures - policy.maxFailures, 32);
  return Math.min(policy.baseLockS * 2 ** doublings, policy.maxLockS) * 1000;
}

async function hashPassword(password: string, cost: Argon2Cost): Promise<string> {
  return argon2Hash(password, { algorithm: argon2id, memoryCost: cost.memoryCost, timeCost: cost.timeCost, parallelism: cost.parallelism });
}

function groupsFromClaim(value: unknown): { known: Group[]; ignored: string[] } {
  const names = typeof value === "string" ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  const unique = [...new Set(names)];
  return { known: unique.filter(isGroup), ignored: unique.filter((name) => !isGroup(name)).map((name) => name.slice(0, 128)) };
}

function usernameFromClaims(claims: Readonly<Record<string, unknown>>): string {
  const preferred = claims["preferred_username"];
  const email = claims["email"];
  const source = typeof preferred === "string" && preferred.trim() !== "" ? preferred : typeof email === "string" ? (email.split("@")[0] ?? "") : "";
  const cleaned = source
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 64);
  return usernamePattern.test(cleaned) ? cleaned : "sso-user";
}

function cutId(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error).slice(0, 200) };
  const code = "code" in error && typeof error.code === "string" ? { code: error.code } : {};
  return { error: error.name, message: error.message.slice(0, 300), ...code };
}
