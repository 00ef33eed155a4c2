// What a full orders read model costs the garbage collector: the projection is fed the
// seeded workload (by default 1.5 million commands: half a million finished orders and a
// million fills, its limits), everything else is let go, and the heap and a few forced
// full collections are measured, and the time to restore the projection from its snapshot.
//
//   node --expose-gc --import tsx bench/readmodels-gc.profile.ts [--commands 1500000] [--runs 5] [--tree <dir>]
//
// `--tree` loads the orders package from another checkout (e.g. a git worktree of an
// earlier commit) for a before/after on the same machine. Prints one JSON object.

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "@tradestream/contracts";
import { Engine } from "../packages/engine/src/index.ts";
import { parseBenchArgs } from "./cli.ts";
import { median } from "./stats.ts";
import { generateWorkload } from "./workload.ts";

const values = parseBenchArgs({
  script: "bench/readmodels-gc.profile.ts",
  summary: `The collector's cost of a full orders read model: the heap it holds, forced full collections with
nothing else collectable, and a restore from its snapshot (run with node --expose-gc). Prints one JSON object.`,
  options: {
    commands: { type: "string", value: "N", default: "1500000", description: "commands of the seeded workload fed to the projection" },
    runs: { type: "string", value: "N", default: "5", description: "forced full collections timed, and restores" },
    tree: { type: "string", value: "DIR", defaultText: "this checkout", description: "checkout whose packages/orders is measured" },
  },
});

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const tree = resolve(values.tree ?? ".");
const { OrdersProjection } = (await import(pathToFileURL(join(tree, "packages/orders/src/index.ts")).href)) as typeof import("../packages/orders/src/index.ts");

function build(): InstanceType<typeof OrdersProjection> {
  const workload = generateWorkload({ seed: 1, targetResting: 1_000, commands: Number(values.commands) });
  let tsUs = Date.UTC(2026, 0, 1) * 1_000;
  const engine = new Engine();
  const projection = new OrdersProjection();
  for (const command of [...workload.setup, ...workload.prefill, ...workload.stream] as Command[]) projection.apply(engine.apply({ ...command, tsUs: (tsUs += 1_000) }));
  return projection;
}

const projection = build();
const ms = (t: number): number => Math.round(t * 10) / 10;
const timed = (work: () => void): number => {
  const started = performance.now();
  work();
  return performance.now() - started;
};
gc();
gc();
const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
const externalMb = Math.round(process.memoryUsage().arrayBuffers / 1e6);
const collections: number[] = [];
for (let run = 0; run < Number(values.runs); run += 1) collections.push(timed(gc));
const bytes = projection.snapshot();
const restores: number[] = [];
for (let run = 0; run < Number(values.runs); run += 1) {
  gc();
  let restored: InstanceType<typeof OrdersProjection> | null = null;
  restores.push(
    timed(() => {
      restored = OrdersProjection.restore(bytes);
    }),
  );
  if (restored === null || !Buffer.from((restored as InstanceType<typeof OrdersProjection>).snapshot()).equals(Buffer.from(bytes))) throw new Error("the restored projection's snapshot differs");
}
process.stdout.write(
  `${JSON.stringify({
    tree: values.tree === undefined ? "current" : tree,
    commands: Number(values.commands),
    snapshotBytes: bytes.length,
    heapMb,
    externalMb,
    fullGcMsMedian: ms(median(collections)),
    fullGcMs: collections.map(ms),
    restoreMsMedian: ms(median(restores)),
    restoreMs: restores.map(ms),
  })}\n`,
);
