/**
 * Who may do what. One table of permissions by role, and one rule for account
 * ownership: a trader acts on and reads only the trading accounts assigned to
 * them; staff roles with a read permission see every account, read-only.
 * Routes name a permission; nothing else decides access.
 */
import type { Principal, Role } from "@tradestream/auth";
import { ApiError } from "./api-error.ts";

export type Permission =
  | "trade" // place, cancel, replace, mass-cancel on own accounts
  | "read_own" // own orders, fills, balances, positions
  | "read_all_orders" // every account's orders and fills (read-only)
  | "read_all_accounts" // every account's balances and positions (read-only)
  | "read_audit"
  | "read_users"
  | "manage_users"
  | "manage_instruments" // create, update bands and limits
  | "halt" // halt / resume / close instruments, end the trading day
  | "kill_switch"
  | "manage_accounts" // create accounts, deposits and withdrawals
  | "operator_mass_cancel" // mass cancel across accounts
  | "ops_status"
  | "read_ledger"; // trial balance, any account's statements, reconciliation

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  trader: ["trade", "read_own"],
  compliance: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "halt", "kill_switch", "operator_mass_cancel", "read_ledger"],
  sre: ["read_own", "ops_status"],
  auditor: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "read_ledger"],
  support: ["read_own", "read_all_orders", "read_users"],
  admin: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "manage_users", "manage_instruments", "halt", "kill_switch", "manage_accounts", "operator_mass_cancel", "ops_status", "read_ledger"],
};

export function can(principal: Principal, permission: Permission): boolean {
  return principal.roles.some((role) => rolePermissions[role].includes(permission));
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!can(principal, permission)) throw new ApiError("forbidden", `Your role does not allow this action (needs ${permission.replaceAll("_", " ")}).`);
}

/** The trading account a trader acts on: the one named (must be theirs), or their only one. */
export function tradingAccount(principal: Principal, requested: number | undefined): number {
  requirePermission(principal, "trade");
  if (requested === undefined) {
    const [only, ...more] = principal.accountIds;
    if (only === undefined) throw new ApiError("not_owner", "No trading account is assigned to you.");
    if (more.length > 0) throw new ApiError("validation_failed", "You have several trading accounts: name one with accountId.");
    return only;
  }
  if (!principal.accountIds.includes(requested)) throw new ApiError("not_owner");
  return requested;
}

/** Accounts whose orders/fills the principal may read: "all" for staff, else their own. */
export function orderScope(principal: Principal, requested: number | undefined): readonly number[] | "all" {
  if (can(principal, "read_all_orders")) return requested === undefined ? "all" : [requested];
  if (requested === undefined) return principal.accountIds;
  if (!principal.accountIds.includes(requested)) throw new ApiError("not_owner");
  return [requested];
}

export function mayReadOrdersOf(principal: Principal, accountId: number): boolean {
  return can(principal, "read_all_orders") || principal.accountIds.includes(accountId);
}

export function mayReadAccount(principal: Principal, accountId: number): boolean {
  return can(principal, "read_all_accounts") || principal.accountIds.includes(accountId);
}
