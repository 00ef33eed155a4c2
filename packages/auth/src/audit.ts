/**
 * The audit trail: one append-only table (UPDATE and DELETE are refused by a
 * trigger) of who did what to whom, from where, and with what outcome. Callers
 * never put passwords, codes, tokens or secrets in an entry; `detail` holds
 * reasons and identifiers only.
 */
import type { Sql } from "@tradestream/store";

/** The actions this package records. The gateway records its own actions too. */
export const authAuditActions = [
  "login",
  "mfa_verify",
  "totp_enrolment_begin",
  "totp_enrolment_confirm",
  "token_refresh",
  "refresh_reuse_detected",
  "logout",
  "api_key_create",
  "api_key_revoke",
  "api_key_signature_rejected",
  "user_create",
  "user_update",
  "sso_login",
] as const;
export type AuthAuditAction = (typeof authAuditActions)[number];

export type AuditOutcome = "ok" | "denied" | "error";

export interface AuditEntryInput {
  actor: string;
  action: string;
  target?: string | undefined;
  outcome: AuditOutcome;
  ip?: string | undefined;
  requestId?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditEntry {
  id: number;
  atMs: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  requestId: string | null;
  detail: Record<string, unknown>;
}

export interface AuditQuery {
  limit: number;
  beforeId?: number | undefined;
  action?: string | undefined;
}

export const auditListLimitMax = 1_000;
/** Longest actor, action, target, ip or request id kept; longer values are cut. */
export const auditFieldCharsMax = 256;

export interface AuditLogger {
  info(msg: string, f?: Record<string, unknown>): void;
  warn(msg: string, f?: Record<string, unknown>): void;
}

interface AuditRow extends Record<string, unknown> {
  audit_id: string;
  at_ms: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  request_id: string | null;
  detail: Record<string, unknown> | null;
}

export class AuditLog {
  readonly #sql: Sql;
  readonly #now: () => number;
  readonly #logger: AuditLogger | undefined;

  constructor(sql: Sql, now: () => number, logger?: AuditLogger) {
    this.#sql = sql;
    this.#now = now;
    this.#logger = logger;
  }

  async record(entry: AuditEntryInput): Promise<void> {
    const row = {
      actor: cut(entry.actor),
      action: cut(entry.action),
      target: entry.target === undefined ? null : cut(entry.target),
      outcome: entry.outcome,
      ip: entry.ip === undefined ? null : cut(entry.ip),
      requestId: entry.requestId === undefined ? null : cut(entry.requestId),
    };
    await this.#sql.query(
      "INSERT INTO auth_audit (at_ms, actor, action, target, outcome, ip, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      [this.#now(), row.actor, row.action, row.target, row.outcome, row.ip, row.requestId, JSON.stringify(entry.detail ?? {})],
    );
    this.#logger?.info("audit", { ...row, ...(entry.detail === undefined ? {} : { detail: entry.detail }) });
  }

  /** Newest first; page backwards with `beforeId` set to the last id seen. */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), auditListLimitMax);
    const rows = await this.#sql.query<AuditRow>(
      `SELECT audit_id, at_ms, actor, action, target, outcome, ip, request_id, detail FROM auth_audit
       WHERE ($1::bigint IS NULL OR audit_id < $1::bigint) AND ($2::text IS NULL OR action = $2::text)
       ORDER BY audit_id DESC LIMIT $3`,
      [query.beforeId ?? null, query.action ?? null, limit],
    );
    return rows.map((row) => ({
      id: Number(row.audit_id),
      atMs: Number(row.at_ms),
      actor: row.actor,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      ip: row.ip,
      requestId: row.request_id,
      detail: row.detail ?? {},
    }));
  }
}

function cut(value: string): string {
  return value.length > auditFieldCharsMax ? value.slice(0, auditFieldCharsMax) : value;
}
