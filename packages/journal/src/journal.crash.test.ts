// Crash test: a child process appends to the journal under load and prints every
// acknowledgement; the parent kills it with SIGKILL at a seeded random moment, then
// reopens the journal. Every acknowledged record must be there with its own payload,
// seqs consecutive from 1 with no duplicates, and the next child must carry on from
// where recovery left off. Set JOURNAL_CRASH_SEED to replay a failing run.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openFileJournal } from "./file-journal.ts";
import { CapturingLogger, makeTempDir, payloadMatches, removeDir } from "./test-support.ts";
import { mulberry32 } from "@tradestream/kernel";

const kills = 3;
const acksBeforeKillMax = 40;
const killDelayMsMax = 30;
const childTimeoutMs = 15_000;

const here = fileURLToPath(new URL(".", import.meta.url));
const childScript = join(here, "crash-child.ts");
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

const seededRandom = mulberry32;

interface ChildRun {
  readonly startSeq: number;
  readonly maxAck: number;
  readonly acks: number;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Runs the child until it has printed `acksBeforeKill` acks, waits `killDelayMs`, then SIGKILLs it. */
function runChildUntilKilled(options: { dir: string; seed: number; acksBeforeKill: number; killDelayMs: number }): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", tsxLoader, childScript, options.dir, String(options.seed)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let startSeq = -1;
    let maxAck = 0;
    let acks = 0;
    let stdoutRest = "";
    let stderr = "";
    let killScheduled = false;
    const timeout = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`crash child did not reach ${String(options.acksBeforeKill)} acks in time; stderr: ${stderr}`));
    }, childTimeoutMs);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (stdoutRest + chunk).split("\n");
      stdoutRest = lines.pop() ?? "";
      for (const line of lines) {
        const [kind, value] = line.split(" ");
        const seq = Number(value);
        if (kind === "ready") startSeq = seq;
        else if (kind === "ack") {
          acks++;
          maxAck = Math.max(maxAck, seq);
        }
      }
      if (!killScheduled && acks >= options.acksBeforeKill) {
        killScheduled = true;
        setTimeout(() => child.kill("SIGKILL"), options.killDelayMs);
      }
    });
    // "close" fires after stdout is drained, so every ack the child printed is counted.
    child.on("close", (_code, signal) => {
      clearTimeout(timeout);
      resolve({ startSeq, maxAck, acks, signal, stderr });
    });
    child.on("error", reject);
  });
}

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir("tradestream-journal-crash-");
});

afterEach(async () => {
  await removeDir(dir);
});

describe("journal crash safety", () => {
  it("keeps every acknowledged record across SIGKILLs at random points", async () => {
    const seed = Number(process.env["JOURNAL_CRASH_SEED"] ?? Date.now() % 2_147_483_647);
    const random = seededRandom(seed);
    try {
      let recoveredSeq = 0;
      for (let round = 0; round < kills; round++) {
        const run = await runChildUntilKilled({
          dir,
          seed: seed + round,
          acksBeforeKill: 1 + Math.floor(random() * acksBeforeKillMax),
          killDelayMs: Math.floor(random() * killDelayMsMax),
        });
        expect(run.signal, run.stderr).toBe("SIGKILL");
        expect(run.startSeq, "the child resumes after the records recovered last round").toBe(recoveredSeq);
        expect(run.acks).toBeGreaterThan(0);

        const logger = new CapturingLogger();
        const journal = await openFileJournal({ dir, logger });
        expect(journal.lastSeq, `acknowledged up to ${String(run.maxAck)}`).toBeGreaterThanOrEqual(run.maxAck);
        let expectedSeq = 1;
        const mismatches: number[] = [];
        const last = await journal.replay(1, (seq, record) => {
          if (seq !== expectedSeq || !payloadMatches(seq, record)) mismatches.push(seq);
          expectedSeq = seq + 1;
        });
        await journal.close();
        expect(mismatches).toEqual([]);
        expect(last).toBe(journal.lastSeq);
        recoveredSeq = last;
      }
    } catch (error: unknown) {
      throw new Error(`journal crash test failed; rerun with JOURNAL_CRASH_SEED=${String(seed)}`, { cause: error });
    }
  });
});
