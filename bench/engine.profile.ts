// Profiling harness: only the engine's timed throughput loop, nothing else, so a
// CPU profile shows the engine's hot path (the workload generation is in the
// profile too, but in separate functions that are easy to ignore).
//
//   node --cpu-prof --cpu-prof-dir=.tmp/prof --import tsx bench/engine.profile.ts [--book 1000] [--commands 1000000] [--runs 3]
//
// tsx emits each module on one line, so profiles taken through it have function
// granularity only. For line-level ticks bundle the harness unminified first:
//
//   node_modules/.bin/esbuild bench/engine.profile.ts --bundle --platform=node --format=esm --keep-names \
//     --outfile=.tmp/engine.profile.mjs --external:nodejs-order-book && node --cpu-prof .tmp/engine.profile.mjs

import { parseArgs } from "node:util";
import { engineThroughput, preparedEngine } from "./measure.ts";
import { generateWorkload } from "./workload.ts";

const { values } = parseArgs({
  options: {
    book: { type: "string", default: "1000" },
    commands: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
  },
});
const targetResting = Number(values.book);
const commands = Number(values.commands);
const warm = generateWorkload({ seed: 7, targetResting, commands: Math.min(commands, 300_000) });
const workload = generateWorkload({ seed: 42, targetResting, commands });
const warmEngine = preparedEngine(warm);
for (const command of warm.stream) warmEngine.apply(command);
// CPU time beside wall time: on a shared machine it is the steadier number for A/B comparisons.
for (let run = 0; run < Number(values.runs); run++) {
  const cpuBefore = process.cpuUsage();
  const result = engineThroughput(workload);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuOpsPerSec = Math.round((commands * 1e6) / (cpu.user + cpu.system));
  process.stdout.write(`book ${targetResting}: ${result.opsPerSec.toLocaleString("en-US")} ops/s wall, ~${cpuOpsPerSec.toLocaleString("en-US")} ops/s per CPU-second (incl. setup)\n`);
}
