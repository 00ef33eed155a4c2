// How long a shard snapshot holds the sequencer's thread: a shard on a file journal
// and snapshot store is fed the seeded workload with client order ids in one style,
// then snapshots are taken on demand while a ticker on the event loop records the
// longest time between two of its turns (what every command arriving then waits).
//
//   npx tsx bench/shard-snapshot.profile.ts --ids uuid [--commands 400000] [--runs 5] [--tree <dir>]
//
// `--tree` loads the shard and journal packages from another checkout (e.g. a git
// worktree of an earlier commit) for a before/after on the same machine; the workload
// comes from this one. Prints one JSON object.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseBenchArgs } from "./cli.ts";
import { median } from "./stats.ts";
import { clientOrderIdStyle, generateWorkload, withClientOrderIds } from "./workload.ts";

const values = parseBenchArgs({
  script: "bench/shard-snapshot.profile.ts",
  summary: `The sequencer's pause for a shard snapshot: the seeded workload through a shard on a file journal,
then on-demand snapshots timed by a ticker on the event loop (longest gap between its turns),
with the day's client order ids in one style. Prints one JSON object.`,
  options: {
    ids: { type: "string", value: "counter|timed|uuid", default: "uuid", description: "client order ids: numbered per account, time-prefixed like sim-1-<ms>-<n>, or UUIDs" },
    commands: { type: "string", value: "N", default: "400000", description: "commands of the seeded stream fed before the snapshots" },
    runs: { type: "string", value: "N", default: "5", description: "snapshots taken" },
    tree: { type: "string", value: "DIR", defaultText: "this checkout", description: "checkout whose packages/shard and packages/journal are measured" },
  },
});

const style = clientOrderIdStyle(values.ids, "--ids");
const tree = resolve(values.tree ?? ".");
type ShardModule = typeof import("../packages/shard/src/index.ts");
type JournalModule = typeof import("../packages/journal/src/index.ts");
const { Shard, ManualClock } = (await import(pathToFileURL(join(tree, "packages/shard/src/index.ts")).href)) as ShardModule;
const { openFileJournal, openSnapshotStore } = (await import(pathToFileURL(join(tree, "packages/journal/src/index.ts")).href)) as JournalModule;

const workload = generateWorkload({ seed: 42, targetResting: 1000, commands: Number(values.commands) });
const dir = mkdtempSync(join(tmpdir(), "tradestream-snapshot-pause-"));
const quiet = { info: () => undefined, warn: () => undefined, error: (message: string, fields?: unknown) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`) };
try {
  const log = await openFileJournal({ dir: join(dir, "journal"), logger: quiet });
  const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots"), logger: quiet });
  const clock = new ManualClock(workload.setup[0]?.tsUs ?? 0);
  const shard = await Shard.open({ log, snapshots, snapshotEvery: 0, clock, logger: quiet });
  const { commands, ids } = withClientOrderIds([...workload.setup, ...workload.prefill, ...workload.stream], style);
  let pending: Array<Promise<unknown>> = [];
  for (const command of commands) {
    clock.advance(Math.max(0, command.tsUs - clock.nowUs()));
    const { tsUs: _tsUs, ...input } = command;
    pending.push(shard.submit(input));
    if (pending.length === 10_000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);

  const ms = (t: number): number => Math.round(t * 10) / 10;
  const calls: number[] = [];
  const longest: number[] = [];
  const totals: number[] = [];
  for (let run = 0; run < Number(values.runs); run += 1) {
    let last = performance.now();
    let gap = 0;
    let ticking = true;
    const tick = (): void => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await new Promise((resolve) => setTimeout(resolve, 20));
    gap = 0;
    const start = performance.now();
    const saved = shard.snapshot();
    calls.push(performance.now() - start);
    await saved;
    totals.push(performance.now() - start);
    ticking = false;
    longest.push(gap);
  }
  await shard.close();
  process.stdout.write(
    `${JSON.stringify({
      ids: style,
      tree: values.tree === undefined ? "current" : tree,
      clientOrderIds: ids,
      seq: shard.seq,
      snapshotCallMsMedian: ms(median(calls)),
      longestEventLoopGapMsMedian: ms(median(longest)),
      longestEventLoopGapMs: longest.map(ms),
      untilSavedMsMedian: ms(median(totals)),
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
