/**
 * What each role may do, as the gateway decides it (packages/gateway/src/access.ts;
 * a test checks the two tables agree). The navigation shows a view only when the
 * signed-in user's roles hold the permission its API routes require, so nobody
 * sees a screen that would only answer 403.
 */
import type { Role } from "./types.ts";

export type Permission =
  | "trade"
  | "read_own"
  | "read_all_orders"
  | "read_all_accounts"
  | "read_audit"
  | "read_users"
  | "manage_users"
  | "manage_instruments"
  | "halt"
  | "kill_switch"
  | "manage_accounts"
  | "operator_mass_cancel"
  | "ops_status"
  | "read_ledger";

export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  trader: ["trade", "read_own"],
  compliance: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "halt", "kill_switch", "operator_mass_cancel", "read_ledger"],
  sre: ["read_own", "ops_status"],
  auditor: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "read_ledger"],
  support: ["read_own", "read_all_orders", "read_users"],
  admin: ["read_own", "read_all_orders", "read_all_accounts", "read_audit", "read_users", "manage_users", "manage_instruments", "halt", "kill_switch", "manage_accounts", "operator_mass_cancel", "ops_status", "read_ledger"],
};

export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((role) => rolePermissions[role].includes(permission));
}

export type View = "trade" | "orders" | "audit" | "ledger" | "ops" | "users" | "controls";

export interface NavItem {
  readonly view: View;
  readonly label: string;
  /** The permission the view's API routes check. */
  readonly needs: Permission | null;
}

export const navItems: readonly NavItem[] = [
  { view: "trade", label: "Trade", needs: null },
  { view: "orders", label: "All orders", needs: "read_all_orders" },
  { view: "audit", label: "Audit trail", needs: "read_audit" },
  { view: "ledger", label: "Ledger", needs: "read_ledger" },
  { view: "ops", label: "Operations", needs: "ops_status" },
  { view: "users", label: "Users", needs: "read_users" },
  { view: "controls", label: "Controls", needs: "halt" },
];

export function navFor(roles: readonly Role[]): NavItem[] {
  return navItems.filter((item) => item.needs === null || can(roles, item.needs));
}
