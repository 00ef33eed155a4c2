import { it } from "vitest";
import { Engine } from "./engine.ts";
import { generateStream } from "./generators.ts";
import { invariantViolations } from "./invariants.ts";
it("whales", () => {
  for (let seed = 0; seed < 40; seed++) {
    const s = generateStream(seed, 3000);
    const e = new Engine();
    let whale = -1;
    s.commands.forEach((c, i) => {
      const ev = e.apply(c);
      if (c.type === "DepositCash" && c.amountMinor > 1e15 && ev[0]?.type !== "CommandRejected") { console.log(seed, i, JSON.stringify(c), JSON.stringify(ev)); whale = i; }
      if (whale >= 0) { const v = invariantViolations(e); if (v.length) { console.log("viol", i, v[0]); whale = -2; } }
    });
  }
});
