/**
 * The demo market simulator trading through the API: its orders are accepted, and
 * its client order ids are numbered per account, so the engine keeps the day's ids
 * as runs of counters (small, quick snapshots) rather than one string each.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig, until } from "./test-platform.ts";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform(testConfig({ seed: 31, simulator: true, simulatorTickMs: 20 }));
});

afterAll(async () => {
  await platform.close();
});

describe("market simulator", () => {
  it("trades through the API with client order ids numbered per account, which the engine keeps as runs", async () => {
    const simulator = platform.simulator;
    if (simulator === null) throw new Error("the simulator did not start");
    await until(() => simulator.stats.accepted >= 300, "300 simulator orders accepted", 30_000, 50);
    expect(simulator.stats.accepted).toBeGreaterThanOrEqual(300);
    let simulatorIds = 0;
    for (const account of platform.shard.engine.accounts.values()) {
      const row = account.clientOrderIds.toRow();
      if (row.prefix === null || !row.prefix.startsWith("sim-31-")) continue;
      // Every id of the day is in the run (a prefix and counters), none in the table of ids kept one by one.
      expect(row.table).toEqual([]);
      expect(row.prefix).toMatch(new RegExp(`^sim-31-[0-9a-z]+-${String(account.id)}-$`));
      simulatorIds += account.clientOrderIds.size;
    }
    expect(simulatorIds).toBeGreaterThanOrEqual(300);
  });
});
