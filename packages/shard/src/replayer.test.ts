import { describe, expect, it } from "vitest";
import { CommandEncoder, type Command } from "@tradestream/contracts";
import { Engine, encodeSnapshot, fixtures } from "@tradestream/engine";
import { EventStreamHash } from "./event-hash.ts";
import { Replayer, replayRunCommands } from "./replayer.ts";
import { seededCommands } from "./test-stream.ts";

/** The instrument and `count` seeded commands, stamped 1 µs apart from `startUs`. */
function stream(count: number, startUs = 1_000_000): Command[] {
  const { type: _type, tsUs: _tsUs, ...instrument } = fixtures.instrument();
  const inputs = [{ type: "CreateInstrument" as const, ...instrument }, ...seededCommands(3, count)];
  return inputs.map((input, i) => ({ ...input, tsUs: startUs + i }));
}

function records(commands: readonly Command[]): Uint8Array[] {
  const encoder = new CommandEncoder();
  return commands.map((command) => encoder.encode(command));
}

describe("replayer", () => {
  it.each([0, 1, replayRunCommands - 1, replayRunCommands, replayRunCommands + 1, 3 * replayRunCommands + 17])(
    "applies %i records in runs to the state and event hash of applying them one by one",
    (count) => {
      const commands = stream(count);
      const direct = new Engine();
      const directHash = new EventStreamHash();
      for (const command of commands) {
        const count = direct.applyInPlace(command);
        directHash.add(direct.eventsInPlace, count);
      }
      const engine = new Engine();
      const hash = new EventStreamHash();
      const replayer = new Replayer(engine, hash, 0, 0);
      records(commands).forEach((record, i) => replayer.push(i + 1, record));
      replayer.flush();
      expect(replayer.seq).toBe(commands.length);
      expect(replayer.lastTsUs).toBe(commands.at(-1)?.tsUs ?? 0);
      expect(Buffer.from(encodeSnapshot(engine)).equals(Buffer.from(encodeSnapshot(direct)))).toBe(true);
      expect(hash.value).toBe(directHash.value);
    },
  );

  it("continues after a snapshot's command, and refuses a record that does not follow the last", () => {
    const all = records(stream(40));
    const engine = new Engine();
    const head = new Replayer(engine, null, 0, 0);
    for (let i = 0; i < 20; i += 1) head.push(i + 1, all[i] as Uint8Array);
    head.flush();
    const tail = new Replayer(engine, null, 20, 7);
    tail.push(21, all[20] as Uint8Array);
    expect(() => tail.push(23, all[22] as Uint8Array)).toThrow("log replay skipped from 21 to 23");
    expect(() => new Replayer(new Engine(), null, 0, 0).push(2, all[1] as Uint8Array)).toThrow("log replay skipped from 0 to 2");
    tail.flush();
    expect(tail.seq).toBe(21);
    expect(engine.nextOrderId).toBeGreaterThan(1);
  });
});
