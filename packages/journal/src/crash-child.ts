// Child process for journal.crash.test.ts. It opens the journal in argv[2] (small
// segments, so crashes also land around rollovers), appends records whose payload
// encodes their own seq as fast as it can, in bursts of seeded random size, and
// prints `ack <durableSeq>` on stdout every time durability advances. Writes to a
// pipe are synchronous on Linux, so a line the parent reads was printed strictly
// after its records were fdatasync'd. The parent kills it with SIGKILL at a random
// moment and checks that every acknowledged record survived.

import { openFileJournal, segmentBytesMaxFloor } from "./file-journal.ts";
import { payloadFor } from "./test-support.ts";

const burstRecordsMax = 3000;

const dir = process.argv[2];
const seed = Number(process.argv[3] ?? "1");
if (dir === undefined || !Number.isSafeInteger(seed)) throw new Error("usage: crash-child.ts <dir> <seed>");

/** mulberry32: a tiny seeded generator, so a failing run can be replayed from its seed. */
let rngState = seed >>> 0;
function nextRandom(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

const journal = await openFileJournal({
  dir,
  segmentBytesMax: segmentBytesMaxFloor,
  logger: {
    info: () => undefined,
    warn: (msg, fields) => process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`),
    error: (msg, fields) => process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`),
  },
});
process.stdout.write(`ready ${String(journal.lastSeq)}\n`);
journal.onDurable((durableSeq) => {
  process.stdout.write(`ack ${String(durableSeq)}\n`);
});

for (;;) {
  const burst = 1 + Math.floor(nextRandom() * burstRecordsMax);
  for (let i = 0; i < burst; i++) journal.append(payloadFor(journal.lastSeq + 1));
  await new Promise((resolve) => setImmediate(resolve));
}
