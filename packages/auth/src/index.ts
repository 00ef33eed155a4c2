/**
 * Authentication and access for TradeStream: users and their directory groups
 * (mapped to roles), password + TOTP and OIDC single sign-on, access and refresh
 * tokens, API keys with signed requests, and the audit trail. The gateway turns a
 * request into a Principal here and decides what that principal may do.
 */
export { groups, roles, groupRole, isGroup, rolesOf, type Group, type Role } from "./groups.ts";
export { AuthError } from "./errors.ts";
export {
  AuditLog,
  authAuditActions,
  auditListLimitMax,
  type AuditEntry,
  type AuditEntryInput,
  type AuditLogger,
  type AuditOutcome,
  type AuditQuery,
  type AuthAuditAction,
} from "./audit.ts";
export { type OidcConfig, oidcGroupsClaimDefault, oidcScopeDefault } from "./oidc.ts";
export { signRequest, signatureHeaders, canonicalRequest, nonceCacheEntriesMax, type SignedParts } from "./signature.ts";
export { generateTotp, recoveryCodeCount, totpIssuer } from "./totp.ts";
export { serverSecretBytesMin } from "./crypto.ts";
export {
  AuthService,
  lockDurationMs,
  accessTokenTtlSDefault,
  refreshTokenTtlSDefault,
  lockoutDefault,
  signatureToleranceSDefault,
  argon2Default,
  passwordCharsMin,
  passwordCharsMax,
  accountIdsPerUserMax,
  usernamePattern,
  mfaChallengeTtlS,
  apiKeysPerUserMax,
  statusCacheTtlMs,
  ssoStateTtlMs,
  type ApiKeyCreated,
  type ApiKeyView,
  type Argon2Cost,
  type AuthOptions,
  type CreateUserInput,
  type LockoutPolicy,
  type LoginResult,
  type Principal,
  type RequestMeta,
  type Revocation,
  revokes,
  type SignedRequest,
  type Tokens,
  type UserChange,
  type UserView,
} from "./service.ts";
