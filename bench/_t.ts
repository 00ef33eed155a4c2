import { generateWorkload } from "./workload.ts";
for (const target of [1000, 20000]) {
  const t0 = performance.now();
  const w = generateWorkload({ seed: 42, targetResting: target, commands: 1_000_000 });
  console.log(target, (performance.now() - t0).toFixed(0), "ms", w.prefill.length, w.stats);
}
