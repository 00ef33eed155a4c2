/**
 * Who may do what, in one place: directory groups map to platform roles
 * (ARCHITECTURE §3). A user's roles are derived from their groups on every
 * request; nothing stores a role.
 */
export const groups = ["authorized-traders", "compliance-officers", "sre-leads", "auditors", "l1-support", "fin-compliance-leads"] as const;
export type Group = (typeof groups)[number];

export const roles = ["trader", "compliance", "sre", "auditor", "support", "admin"] as const;
export type Role = (typeof roles)[number];

export const groupRole: Readonly<Record<Group, Role>> = {
  "authorized-traders": "trader",
  "compliance-officers": "compliance",
  "sre-leads": "sre",
  auditors: "auditor",
  "l1-support": "support",
  "fin-compliance-leads": "admin",
};

const groupSet: ReadonlySet<string> = new Set(groups);

export function isGroup(value: string): value is Group {
  return groupSet.has(value);
}

/** The roles granted by `memberOf`, each once, in the order of `roles`. */
export function rolesOf(memberOf: readonly Group[]): Role[] {
  const granted = new Set(memberOf.map((group) => groupRole[group]));
  return roles.filter((role) => granted.has(role));
}
