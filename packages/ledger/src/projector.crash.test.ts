/**
 * Crash test: a child process projects a long engine stream and is killed with
 * SIGKILL at random moments (mid-batch, mid-commit, anywhere). After each restart it
 * resumes from its stored offset; at the end the books must equal a clean projection
 * of the same stream: no posting lost, none doubled, the offset at the last event.
 * Runs on a PGlite data directory and on a PostgreSQL schema. Prints its seed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "@tradestream/kernel";
import { type Sql, openPglite, openPostgres, testBackends, testDatabaseUrlDefault } from "@tradestream/store";
import { describe, expect, it } from "vitest";
import { openLedger } from "./ledger.ts";
import { LedgerProjector } from "./projector.ts";
import { reconcile } from "./reconcile.ts";
import { trialBalance } from "./reports.ts";
import { dumpJournal, engineCash, enginePositions, streamEvents } from "./test-stream.ts";

const here = dirname(fileURLToPath(import.meta.url));
const backends = await testBackends();
const rounds = 6_000;
const kills = 3;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Run {
  /** The offset the child found at start-up. */
  readonly startOffset: number;
  /** The last offset it reported committed. */
  readonly lastOffset: number;
  readonly done: boolean;
}

/** Runs the child; kills it `killAfterMs` after its first commit, or lets it finish when null. */
function runChild(args: readonly string[], killAfterMs: number | null): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "crash-child.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let startOffset = -1;
  let lastOffset = -1;
  let done = false;
  let buffer = "";
  let stderr = "";
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const [word, value] = line.split(" ");
      if (word === "start") startOffset = Number(value);
      if (word === "offset" || word === "done") lastOffset = Number(value);
      if (word === "done") done = true;
      if (word === "offset" && killAfterMs !== null && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" || code === 0) resolve({ startOffset, lastOffset, done });
      else reject(new Error(`crash child exited with ${code}: ${stderr}`));
    });
  });
}

for (const backend of backends) {
  describe.skipIf(backend.unavailable !== null)(`projection crash safety on ${backend.name}`, () => {
    it("loses and doubles nothing when killed with SIGKILL at random points", { timeout: 240_000 }, async () => {
      const seed = Number(process.env["LEDGER_CRASH_SEED"] ?? Date.now() % 100_000);
      console.log(`ledger crash test seed ${seed} on ${backend.name} (LEDGER_CRASH_SEED=${seed} to repeat)`);
      const random = mulberry32(seed);
      const dir = mkdtempSync(join(tmpdir(), "tradestream-ledger-crash-"));
      const schema = `crash_${randomBytes(6).toString("hex")}`;
      const url = process.env["TRADESTREAM_TEST_DATABASE_URL"] ?? testDatabaseUrlDefault;
      const args = backend.name === "pglite" ? [join(dir, "pglite"), "-", String(seed), String(rounds)] : [url, schema, String(seed), String(rounds)];
      let store: Sql | null = null;
      try {
        const offsets: number[] = [];
        let committed = 0;
        for (let kill = 0; kill < kills; kill += 1) {
          const run = await runChild(args, 50 + Math.floor(random() * 700));
          // What a run reported committed survives the kill: the next run starts at or after it.
          expect(run.startOffset).toBeGreaterThanOrEqual(committed);
          committed = Math.max(committed, run.lastOffset);
          offsets.push(run.lastOffset);
          if (run.done) break;
        }
        const final = await runChild(args, null);
        expect(final.startOffset).toBeGreaterThanOrEqual(committed);
        expect(final.done).toBe(true);
        const { engine, events } = streamEvents({ seed, rounds, payments: true });
        expect(final.lastOffset).toBe(events.length);
        console.log(`offsets reported before each kill: ${offsets.join(", ")} of ${events.length}`);

        store = backend.name === "pglite" ? await openPglite(join(dir, "pglite")) : await openPostgres(url, { schema, max: 2 });
        const ledger = await openLedger(store, { logger: silent });
        expect((await LedgerProjector.open(ledger)).offset).toBe(events.length);
        const clean = await backend.open();
        try {
          await (await LedgerProjector.open(await openLedger(clean, { logger: silent }))).apply(events);
          expect(await dumpJournal(store)).toEqual(await dumpJournal(clean));
        } finally {
          await clean.close();
        }
        expect((await trialBalance(ledger)).balanced).toBe(true);
        const report = await reconcile(ledger, { cash: engineCash(engine), positions: enginePositions(engine), atSeq: engine.eventSeq }, { logger: silent });
        expect(report.status).toBe("matched");
      } finally {
        if (store !== null) {
          if (backend.name === "postgres") await store.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await store.close();
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
