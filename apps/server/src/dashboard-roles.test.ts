/** The dashboard's copy of the permission table (its navigation) agrees with the gateway's, which decides. */
import { rolePermissions as gateway } from "@tradestream/gateway";
import { describe, expect, it } from "vitest";
import { rolePermissions as dashboard } from "../../dashboard/src/roles.ts";

describe("dashboard roles", () => {
  it("mirror the gateway's permission table exactly", () => {
    expect(dashboard).toEqual(gateway);
  });
});
