/**
 * Child process for the crash test: opens a shard on a file journal in the
 * directory given as argv[2], submits a seeded stream of trading commands as fast
 * as the journal takes them, and prints `ack <seq> <eventHash>` for every
 * acknowledged (durable) command. The parent kills it with SIGKILL at a random
 * moment.
 */
import { openFileJournal, openSnapshotStore } from "@tradestream/journal";
import { fixtures } from "@tradestream/engine";
import { Shard } from "./index.ts";
import { seededCommands } from "./test-stream.ts";

const dir = process.argv[2];
const seed = Number(process.argv[3] ?? "1");
if (dir === undefined) throw new Error("usage: crash-child <dir> <seed>");
const log = await openFileJournal({ dir: `${dir}/journal` });
const snapshots = await openSnapshotStore({ dir: `${dir}/snapshots` });
const shard = await Shard.open({ log, snapshots, snapshotEvery: 500 });
if (shard.seq === 0) {
  const { type: _t, tsUs: _ts, ...spec } = fixtures.instrument();
  await shard.submit({ type: "CreateInstrument", ...spec });
}
const out: string[] = [];
const flush = (): void => {
  if (out.length > 0) process.stdout.write(out.join(""));
  out.length = 0;
};
shard.subscribe((applied) => out.push(`ack ${applied.seq} ${applied.eventHash}\n`));
let inFlight = 0;
for (const command of seededCommands(seed, 1_000_000)) {
  inFlight += 1;
  shard.submit(command).then(
    () => {
      inFlight -= 1;
    },
    (error: unknown) => {
      process.stderr.write(`submit failed: ${String(error)}\n`);
      process.exit(2);
    },
  );
  if (inFlight > 2_000) {
    await new Promise((resolve) => setImmediate(resolve));
    flush();
  }
}
