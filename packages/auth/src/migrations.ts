/**
 * The auth component's tables. Times are milliseconds since the epoch from the
 * injected clock (bigint), not database time, so tests can move time. Secrets are
 * never stored: passwords as argon2id hashes, tokens and codes as SHA-256, and the
 * values that must be read back (TOTP secrets, API-key HMAC keys) sealed with
 * AES-256-GCM together with the id of the sealing key.
 */
import type { Migration } from "@tradestream/store";

export const authMigrations: readonly Migration[] = [
  {
    id: 1,
    name: "users, sessions, api keys, audit",
    sql: `
CREATE TABLE auth_users (
  user_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE,
  display_name text NOT NULL,
  password_hash text,
  groups jsonb NOT NULL DEFAULT '[]',
  account_ids jsonb NOT NULL DEFAULT '[]',
  totp_secret_sealed text,
  totp_pending_sealed text,
  totp_key_id text,
  totp_last_step bigint NOT NULL DEFAULT 0,
  disabled boolean NOT NULL DEFAULT false,
  sso_subject text UNIQUE,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);

CREATE TABLE auth_login_failures (
  username text PRIMARY KEY,
  failures integer NOT NULL CHECK (failures > 0),
  locked_until_ms bigint NOT NULL DEFAULT 0,
  last_failure_ms bigint NOT NULL
);
CREATE INDEX auth_login_failures_last ON auth_login_failures (last_failure_ms);

CREATE TABLE auth_mfa_challenges (
  token_hash text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES auth_users ON DELETE CASCADE,
  expires_at_ms bigint NOT NULL,
  used_at_ms bigint
);
CREATE INDEX auth_mfa_challenges_expiry ON auth_mfa_challenges (expires_at_ms);

CREATE TABLE auth_recovery_codes (
  user_id integer NOT NULL REFERENCES auth_users ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at_ms bigint,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE auth_sessions (
  session_id text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES auth_users ON DELETE CASCADE,
  method text NOT NULL CHECK (method IN ('password', 'sso')),
  created_at_ms bigint NOT NULL,
  revoked_at_ms bigint,
  revoked_reason text
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE auth_refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id text NOT NULL REFERENCES auth_sessions ON DELETE CASCADE,
  issued_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  rotated_at_ms bigint
);
CREATE INDEX auth_refresh_tokens_session ON auth_refresh_tokens (session_id);

CREATE TABLE auth_api_keys (
  key_id text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES auth_users ON DELETE CASCADE,
  label text NOT NULL,
  hmac_key_sealed text NOT NULL,
  sealing_key_id text NOT NULL,
  created_at_ms bigint NOT NULL,
  last_used_at_ms bigint,
  revoked_at_ms bigint
);
CREATE INDEX auth_api_keys_user ON auth_api_keys (user_id);

CREATE TABLE auth_sso_states (
  state_hash text PRIMARY KEY,
  code_verifier text NOT NULL,
  nonce text NOT NULL,
  expires_at_ms bigint NOT NULL
);
CREATE INDEX auth_sso_states_expiry ON auth_sso_states (expires_at_ms);

CREATE TABLE auth_audit (
  audit_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
  ip text,
  request_id text,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX auth_audit_action ON auth_audit (action, audit_id);

CREATE FUNCTION auth_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;
CREATE TRIGGER auth_audit_append_only BEFORE UPDATE OR DELETE ON auth_audit
  FOR EACH ROW EXECUTE FUNCTION auth_audit_append_only();
`,
  },
];
