import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InProcessBus } from "./bus.ts";
import { Ingestor } from "./ingestor.ts";
import { FileReplayFeed, splitCsvLine } from "./replay.ts";
import { testInstruments } from "./testing.ts";
import type { NormalizedTick } from "./types.ts";

const dir = mkdtempSync(join(tmpdir(), "ingestor-replay-"));
const baseUs = 1_714_555_800_000_000;

async function replay(file: string, speed: number | "max"): Promise<{ ticks: NormalizedTick[]; ingestor: Ingestor; ms: number }> {
  const feed = new FileReplayFeed({ file, speed });
  const bus = new InProcessBus();
  const ticks: NormalizedTick[] = [];
  bus.subscribe((tick) => ticks.push(tick));
  const ingestor = new Ingestor({ instruments: testInstruments, feeds: [feed], bus });
  const started = performance.now();
  await ingestor.start();
  await feed.finished;
  const ms = performance.now() - started;
  expect(feed.status().state).toBe("done");
  await ingestor.stop();
  return { ticks, ingestor, ms };
}

describe("file replay", () => {
  it("splits CSV lines with quoted cells", () => {
    expect(splitCsvLine('a,"b,c",d')).toEqual(["a", "b,c", "d"]);
    expect(splitCsvLine('"say ""hi""",2')).toEqual(['say "hi"', "2"]);
  });

  it("replays CSV as fast as possible, bad rows dead-lettered", async () => {
    const file = join(dir, "ticks.csv");
    writeFileSync(
      file,
      [
        "type,symbol,seq,time,price,size,bid,ask,bidSize,askSize",
        "trade,SAP,1,2024-05-01T09:30:00Z,230.10,5,,,,",
        "quote,SAP,2,2024-05-01T09:30:00.5Z,,,230.05,230.15,10,20",
        "trade,SAP,3,2024-05-01T09:30:01Z,230.105,5,,,,",
        "trade,SAP,only,three",
        "",
        "trade,ASML,1,2024-05-01T09:30:02+00:00,130.05,1,,,,",
      ].join("\n"),
    );
    const { ticks, ingestor } = await replay(file, "max");
    expect(ticks.map((t) => [t.symbol, t.kind, t.tsUs, t.priceTicks || t.bidTicks])).toEqual([
      ["SAP", "trade", baseUs, 23010],
      ["SAP", "quote", baseUs + 500_000, 23005],
      ["ASML", "trade", baseUs + 2_000_000, 2601],
    ]);
    expect(ingestor.deadLetters.newest(10).map((d) => d.reason)).toEqual(["malformed", "price_off_tick"]);
  });

  it("replays NDJSON at ×N speed by the records' own times", async () => {
    const file = join(dir, "ticks.ndjson");
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ type: "trade", symbol: "SIE", seq: i + 1, tsUs: baseUs + i * 100_000, price: "180.00", size: 1 }));
    writeFileSync(file, `${lines.join("\n")}\nnot json\n`);
    const fast = await replay(file, "max");
    expect(fast.ticks).toHaveLength(5);
    expect(fast.ingestor.deadLetters.newest(1)[0]).toMatchObject({ reason: "malformed", raw: "not json" });
    // 400 ms of recorded time at ×4 takes about 100 ms.
    const paced = await replay(file, 4);
    expect(paced.ticks).toHaveLength(5);
    expect(paced.ms).toBeGreaterThanOrEqual(90);
    expect(paced.ms).toBeLessThan(1_000);
  });
});
