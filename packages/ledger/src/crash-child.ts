/**
 * Child process of the crash test: projects a seeded engine stream into a store,
 * continuing from the stored offset, and prints `offset <seq>` after every commit
 * until the stream is done (`done <seq>`). The parent kills it with SIGKILL at a
 * random moment and starts it again.
 *
 * Usage: node --import tsx crash-child.ts <pglite-dir | postgres-url> <schema | -> <seed> <rounds>
 */
import { type Sql, openPglite, openPostgres } from "@tradestream/store";
import { mulberry32 } from "@tradestream/kernel";
import { openLedger } from "./ledger.ts";
import { LedgerProjector } from "./projector.ts";
import { streamEvents } from "./test-stream.ts";

const [target = "", schema = "-", seedText = "1", roundsText = "1000"] = process.argv.slice(2);
const seed = Number(seedText);
const sql: Sql = target.startsWith("postgres") ? await openPostgres(target, { schema, max: 2 }) : await openPglite(target);
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ledger = await openLedger(sql, { logger: silent });
const projector = await LedgerProjector.open(ledger, { batchEntriesMax: 50 });
const { events } = streamEvents({ seed, rounds: Number(roundsText), payments: true });
// Chunk sizes differ from run to run, so batches straddle different boundaries after each restart.
const random = mulberry32(seed + projector.offset);
let at = projector.offset;
process.stdout.write(`start ${at}\n`);
while (at < events.length) {
  // Include some already-applied events now and then: redelivery must be skipped.
  const from = Math.max(0, at - Math.floor(random() * 20));
  const to = Math.min(events.length, at + 1 + Math.floor(random() * 400));
  await projector.apply(events.slice(from, to));
  at = projector.offset;
  process.stdout.write(`offset ${at}\n`);
}
process.stdout.write(`done ${at}\n`);
await sql.close();
