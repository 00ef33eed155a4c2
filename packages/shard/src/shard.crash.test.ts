/**
 * Crash test: a child process journals commands under load and is killed with
 * SIGKILL at a random moment. After restart, every acknowledged command is in the
 * log with the same events (the event-stream hash at the last acknowledged seq
 * matches what the child saw), nothing is applied twice (sequence numbers are
 * consecutive and the restarted state equals a clean replay from zero).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeCommand } from "@tradestream/contracts";
import { Engine } from "@tradestream/engine";
import { openFileJournal, openSnapshotStore } from "@tradestream/journal";
import { EventStreamHash } from "./event-hash.ts";
import { replayFromZero, Shard } from "./shard.ts";
import { mulberry32 } from "./test-stream.ts";

const here = dirname(fileURLToPath(import.meta.url));

async function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<{ lastAck: number; hash: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "crash-child.ts"), dir, String(seed)], { stdio: ["ignore", "pipe", "pipe"] });
  let lastAck = 0;
  let hash = "";
  let buffer = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const firstAck = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const [word, seq, eventHash] = line.split(" ");
        if (word === "ack" && seq !== undefined && eventHash !== undefined) {
          lastAck = Number(seq);
          hash = eventHash;
          resolve();
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  await firstAck;
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  return { lastAck, hash };
}

describe("crash safety", () => {
  it("keeps every acknowledged command across SIGKILL, applies none twice, and restarts to the clean-replay state", async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    const dir = mkdtempSync(join(tmpdir(), "tradestream-crash-"));
    try {
      for (let round = 0; round < 3; round += 1) {
        const killAfterMs = 200 + Math.floor(random() * 800);
        const { lastAck, hash } = await runAndKill(dir, seed + round, killAfterMs);
        expect(lastAck, `seed ${seed} round ${round}`).toBeGreaterThan(0);

        const log = await openFileJournal({ dir: join(dir, "journal") });
        // Every acknowledged command is present, with the same events up to it.
        expect(log.lastSeq, `seed ${seed}`).toBeGreaterThanOrEqual(lastAck);
        const engine = new Engine();
        const stream = new EventStreamHash();
        let expectedSeq = 1;
        let hashAtAck = "";
        await log.replay(1, (seq, record) => {
          expect(seq).toBe(expectedSeq);
          expectedSeq += 1;
          const value = stream.update(engine.apply(decodeCommand(record)));
          if (seq === lastAck) hashAtAck = value;
        });
        expect(hashAtAck, `seed ${seed} round ${round}: events up to the last ack differ`).toBe(hash);
        // Snapshot + tail gives exactly the state of a clean replay from zero.
        const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots") });
        const shard = await Shard.open({ log, snapshots });
        const clean = await replayFromZero(log);
        expect(shard.seq).toBe(clean.seq);
        expect(shard.stateHash()).toBe(clean.stateHash);
        expect(shard.eventHash).toBe(clean.eventHash);
        await shard.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
