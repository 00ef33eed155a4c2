import { it } from "vitest";
import { Engine } from "./engine.ts";
import { generateStream } from "./generators.ts";
import { invariantViolations } from "./invariants.ts";
it("stats", () => {
  for (const seed of [1, 2, 3]) {
    const t0 = performance.now();
    const s = generateStream(seed, 3000);
    const t1 = performance.now();
    const e = new Engine();
    const counts = new Map<string, number>();
    let depth = 0; let viol = 0; let firstViol = "";
    for (const c of s.commands) {
      let ev;
      try { ev = e.apply(c); } catch (err) { counts.set("THROW " + String(err), (counts.get("THROW " + String(err)) ?? 0) + 1); continue; }
      for (const x of ev) {
        const k = x.type === "CommandRejected" ? `rej:${x.command}:${x.reason}` : x.type === "OrderCancelled" ? `cxl:${x.reason}` : x.type === "TradingStateChanged" ? `state:${x.state}:${x.reason}`: x.type;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      depth += (e.instruments.get(1)?.book.size ?? 0) + (e.instruments.get(2)?.book.size ?? 0);
      const v = invariantViolations(e); if (v.length) { viol++; if (!firstViol) firstViol = v.join(";"); }
    }
    const t2 = performance.now();
    console.log(seed, "gen", (t1 - t0).toFixed(0), "run", (t2 - t1).toFixed(0), "avgDepth", (depth / s.commands.length).toFixed(1), "viol", viol, firstViol);
    console.log([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join("  "));
  }
});
