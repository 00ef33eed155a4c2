import { describe, expect, it } from "vitest";
import { groupRole, groups, isGroup, rolesOf } from "./groups.ts";

describe("groups and roles", () => {
  it("map each directory group to its platform role", () => {
    expect(groupRole).toEqual({
      "authorized-traders": "trader",
      "compliance-officers": "compliance",
      "sre-leads": "sre",
      auditors: "auditor",
      "l1-support": "support",
      "fin-compliance-leads": "admin",
    });
    expect(groups.map((g) => groupRole[g])).toEqual(["trader", "compliance", "sre", "auditor", "support", "admin"]);
  });

  it("recognise only the known groups", () => {
    for (const group of groups) expect(isGroup(group)).toBe(true);
    for (const other of ["", "admins", "Authorized-Traders", "authorized-traders ", "toString", "__proto__"]) expect(isGroup(other)).toBe(false);
  });

  it("derive each role once, in a stable order", () => {
    expect(rolesOf([])).toEqual([]);
    expect(rolesOf(["fin-compliance-leads", "authorized-traders", "authorized-traders"])).toEqual(["trader", "admin"]);
  });
});
