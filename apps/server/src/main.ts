#!/usr/bin/env -S npx tsx
/**
 * The `tradestream` command line: the composition root. Until the gateway lands,
 * `start` runs the trading core on embedded defaults — a file journal with
 * snapshots under the data directory — with the demo market and its simulator,
 * and prints the state of the books. Every subcommand answers `--help`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fromSteps } from "@tradestream/kernel";
import { openFileJournal, openSnapshotStore } from "@tradestream/journal";
import { replayFromZero, Shard } from "@tradestream/shard";
import { bookSummary, demoInstruments, seedDemo, startSimulator } from "./demo.ts";
import { logger } from "./log.ts";

const usage = `tradestream — an open-source trading platform

Usage: tradestream <command> [options]

Commands:
  start        run the platform on embedded defaults (file journal under the data directory, demo market)
  verify       replay the journal from the start and check it against snapshot + tail
  snapshot     write a snapshot of the current state now
  instruments  list the demo instruments
  bench        run the engine benchmark (same as npm run bench:engine)

Run 'tradestream <command> --help' for a command's options.
Environment: TRADESTREAM_DATA_DIR (default ./data).
`;

const help: Record<string, string> = {
  start: `Usage: tradestream start [--data-dir DIR] [--no-simulator] [--seed N] [--duration-s N] [--status-every-s N]

Runs the trading core: journal + snapshots under DIR (default $TRADESTREAM_DATA_DIR or ./data),
the demo instruments and accounts on first start, and the market simulator (off with --no-simulator).
Restarting keeps all state: the journal is replayed. Stop with Ctrl-C; --duration-s stops by itself.
`,
  verify: `Usage: tradestream verify [--data-dir DIR]

Replays the whole journal from the first command into a fresh engine and compares the state hash and
event-stream hash with the state loaded from the newest snapshot plus the journal's tail. Exits 1 on a mismatch.
`,
  snapshot: `Usage: tradestream snapshot [--data-dir DIR]

Loads the state and writes a snapshot of it now (start-up then replays less).
`,
  instruments: `Usage: tradestream instruments

Lists the demo instruments: symbol, ISIN, MIC, currency, tick and lot size, reference price.
`,
  bench: `Usage: tradestream bench

Runs the engine benchmark against the peer order book and prints one JSON object.
`,
};

function dataDir(value: string | undefined): string {
  return resolve(value ?? process.env.TRADESTREAM_DATA_DIR ?? "data");
}

async function openShard(dir: string, snapshotEvery?: number): Promise<Shard> {
  mkdirSync(dir, { recursive: true });
  const log = await openFileJournal({ dir: join(dir, "journal"), logger });
  const snapshots = await openSnapshotStore({ dir: join(dir, "snapshots"), logger });
  return Shard.open({ log, snapshots, logger, ...(snapshotEvery === undefined ? {} : { snapshotEvery }) });
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      "no-simulator": { type: "boolean", default: false },
      seed: { type: "string", default: "42" },
      "duration-s": { type: "string" },
      "status-every-s": { type: "string", default: "5" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(help.start ?? "");
    return 0;
  }
  const dir = dataDir(values["data-dir"]);
  const shard = await openShard(dir);
  if (shard.seq === 0) {
    await seedDemo(shard);
    logger.info("demo market seeded", { instruments: demoInstruments.length });
  }
  process.stdout.write(`TradeStream trading core running on embedded defaults (data: ${dir}, commands: ${shard.seq}).\n`);
  process.stdout.write(`Demo instruments: ${demoInstruments.map((i) => i.symbol).join(", ")}. Stop with Ctrl-C.\n`);
  const stopSimulator = values["no-simulator"] ? () => Promise.resolve() : startSimulator(shard, { seed: Number(values.seed), tickMs: 100 });
  const statusEveryMs = Math.max(1, Number(values["status-every-s"])) * 1000;
  const status = setInterval(() => {
    process.stdout.write(`\n— seq ${shard.seq} (durable ${shard.durableSeq}), trades ${shard.engine.nextTradeId - 1}, open orders ${shard.engine.orders.size}\n`);
    for (const line of bookSummary(shard)) process.stdout.write(`  ${line}\n`);
  }, statusEveryMs);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(status);
    await stopSimulator();
    await shard.snapshot();
    await shard.close();
    logger.info("stopped", { seq: shard.seq, stateHash: shard.stateHash(), eventHash: shard.eventHash });
  };
  const finished = new Promise<void>((resolveStop) => {
    const onSignal = (): void => void stop().then(resolveStop);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (values["duration-s"] !== undefined) setTimeout(onSignal, Number(values["duration-s"]) * 1000);
  });
  await finished;
  return 0;
}

async function verify(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { "data-dir": { type: "string" }, help: { type: "boolean", default: false } } });
  if (values.help) {
    process.stdout.write(help.verify ?? "");
    return 0;
  }
  const dir = dataDir(values["data-dir"]);
  const shard = await openShard(dir, 0);
  const clean = await replayFromZero(shard.log);
  const result = {
    seq: shard.seq,
    stateHash: shard.stateHash(),
    eventHash: shard.eventHash,
    replayStateHash: clean.stateHash,
    replayEventHash: clean.eventHash,
    equal: clean.stateHash === shard.stateHash() && clean.eventHash === shard.eventHash && clean.seq === shard.seq,
  };
  await shard.close();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return result.equal ? 0 : 1;
}

async function snapshot(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { "data-dir": { type: "string" }, help: { type: "boolean", default: false } } });
  if (values.help) {
    process.stdout.write(help.snapshot ?? "");
    return 0;
  }
  const shard = await openShard(dataDir(values["data-dir"]), 0);
  await shard.snapshot();
  await shard.close();
  process.stdout.write(`snapshot written at seq ${shard.seq}\n`);
  return 0;
}

function instruments(args: string[]): number {
  const { values } = parseArgs({ args, options: { help: { type: "boolean", default: false } } });
  if (values.help) {
    process.stdout.write(help.instruments ?? "");
    return 0;
  }
  for (const i of demoInstruments) {
    process.stdout.write(`${i.instrumentId}\t${i.symbol}\t${i.isin}\t${i.mic}\t${i.currency}\ttick ${i.tickSize}\tlot ${i.lotSize}\tref ${fromSteps(i.referencePriceTicks, i.tickSize)}\n`);
  }
  return 0;
}

function bench(args: string[]): number {
  if (args.includes("--help")) {
    process.stdout.write(help.bench ?? "");
    return 0;
  }
  return spawnSync("npm", ["run", "--silent", "bench:engine"], { stdio: "inherit" }).status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "verify":
      return verify(rest);
    case "snapshot":
      return snapshot(rest);
    case "instruments":
      return instruments(rest);
    case "bench":
      return bench(rest);
    case undefined:
    case "--help":
    case "help":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`tradestream: unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    logger.error("fatal", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
