#!/usr/bin/env -S npx tsx
/**
 * The `tradestream` command line. `start` runs every role in one process on
 * embedded defaults (platform.ts); the other commands inspect and maintain the
 * data directory. Every subcommand answers `--help`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fromSteps } from "@tradestream/kernel";
import { openFileJournal, openSnapshotStore } from "@tradestream/journal";
import { replayFromZero, Shard } from "@tradestream/shard";
import { generateTotp, type OidcConfig } from "@tradestream/auth";
import { demoInstruments } from "./demo.ts";
import { demoPassword, demoTotpSecret, demoUsers } from "./demo-users.ts";
import { defaultGatewayConfig, parseRateLimits } from "@tradestream/gateway";
import { logger } from "./log.ts";
import { startPlatform } from "./platform.ts";
import { ingestorPortDefault, startIngestorRole } from "./ingestor-role.ts";
import { dayCloseDefault, holidaysDefault, parseDayClose, parseHolidays } from "./trading-day.ts";
import { BackupError, createBackup, defaultBackupDir, defaultBackupKeep, restoreBackup } from "./backup.ts";

const usage = `tradestream — an open-source trading platform

Usage: tradestream <command> [options]

Commands:
  start        run the platform: gateway (REST, WebSocket, OpenAPI), engine, journal, store, demo market
  users        list the demo users and their current one-time codes
  verify       replay the journal from the start and check it against snapshot + tail
  snapshot     write a snapshot of the current state now
  instruments  list the demo instruments
  bench        run a benchmark: engine, e2e, ledger, marketdata, readmodels, caches or dashboard (npm run bench:<name>)
  backup       write a verified backup of the data directory and the store, keeping the newest N
  restore      restore a backup into a data directory (and the PostgreSQL database)

Run 'tradestream <command> --help' for a command's options.
Environment: PORT (8080), HOST (127.0.0.1), TRADESTREAM_DATA_DIR (./data), DATABASE_URL (PostgreSQL instead of
the embedded PGlite), TRADESTREAM_SECRET, TRADESTREAM_CORS_ORIGINS, TLS_CERT_FILE/TLS_KEY_FILE,
OIDC_ISSUER/OIDC_CLIENT_ID/OIDC_CLIENT_SECRET/OIDC_REDIRECT_URI/OIDC_GROUPS_CLAIM,
TRADESTREAM_RATE_LIMITS ("ip=2000/4000,user=1000/2000,auth=5/20"), TRADESTREAM_WS_ORDERS_PER_S (1000), LOG_LEVEL.
`;

const help: Record<string, string> = {
  start: `Usage: tradestream start [--data-dir DIR] [--port N] [--host ADDR] [--no-demo] [--no-simulator] [--no-feed] [--seed N] [--duration-s N]
       tradestream start --role ingestor [--port N] [--host ADDR] [--seed N] [--duration-s N]

Runs every role in one process: the gateway (REST under /api/v1, WebSocket /ws, OpenAPI at /docs,
/health, /ready, /metrics) on HOST:PORT (default 127.0.0.1:8080), the engine on the file journal with
snapshots under DIR (default $TRADESTREAM_DATA_DIR or ./data), and the store (PGlite under DIR, or
PostgreSQL when DATABASE_URL is set). In demo mode (default; --no-demo to turn off) the first start seeds
demo instruments, accounts and users, and a market simulator trades through the API (--no-simulator).
The market-data ingestor runs in process with a simulated external feed in demo mode (--no-feed, or
INGESTOR_FEED=off, to turn it off; INGESTOR_FEED=ws|http|replay|kafka|nats selects real feeds): it sets
the instruments' reference prices and serves the feed's candles and tickers under /api/v1/feed.
Restarting keeps all state: the journal is replayed. Stop with Ctrl-C; --duration-s stops by itself.

--role ingestor runs the ingestor alone: feeds from INGESTOR_FEED (default simulated), normalized ticks
published to INGESTOR_PUBLISH (nats, kafka: marketdata.<symbol>; NATS_URL, KAFKA_BROKERS), /health,
/ready, /status and /metrics on HOST:PORT (default 127.0.0.1:8080). See docs/OPERATIONS.md.
`,
  users: `Usage: tradestream users [--codes]

Lists the demo users (username, groups, trading accounts) and the demo password. With --codes, prints
each demo user's current TOTP code (demo users' second-factor secrets are derived from their names).
Real users are managed through the admin API (POST /api/v1/admin/users) or single sign-on.
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
  bench: `Usage: tradestream bench [engine|e2e|ledger|marketdata|readmodels|caches|dashboard] [options]

Runs npm run bench:<name> with the options after the name; each benchmark prints one JSON object on stdout
and appends it to bench/results/<name>.jsonl. 'tradestream bench <name> --help' lists its options.

  engine (default)  the matching + risk engine against the peer order book: throughput, latency, memory, journal
  e2e               starts a server and drives it from a separate load-generator process over REST and WebSocket
  ledger            the settlement projection's throughput and lag on PostgreSQL and PGlite
  marketdata        the normalizer, and ticks end to end through NATS JetStream (needs nats-server)
  readmodels        the gateway's read models (market data, orders) and the start-up replay
  caches            one insert into the gateway's full bounded caches (idempotency, tokens, rate limits)
  dashboard         the trader dashboard in headless Chromium: first screen, trade screen, long tasks
`,
  backup: `Usage: tradestream backup [--data-dir DIR] [--backup-dir DIR] [--keep N]

Writes one backup folder tradestream-backup-<UTC time> under the backup directory (default
$TRADESTREAM_BACKUP_DIR or DIR/../backups) with the journal segments, the snapshots, secret.key and the
store, plus manifest.json (time, contents, sizes and SHA-256 of every file). The store is a copy of
DIR/pglite, or, when DATABASE_URL is set, a 'pg_dump -Fc' of the PostgreSQL database.
With the embedded PGlite store the platform must be STOPPED: the backup is refused while
http://HOST:PORT/ready answers. With PostgreSQL the platform may keep running.
Keeps the newest N backups (default $TRADESTREAM_BACKUP_KEEP or 30) and deletes older ones.
Prints the backup's path. Exit codes: 0 written, 1 refused or failed, 2 bad usage.
`,
  restore: `Usage: tradestream restore <backup> [--data-dir DIR] [--force]

Verifies every file of the backup folder against its manifest (size and SHA-256; a damaged backup is
refused), then restores the journal, snapshots, secret.key and the store into DIR (default
$TRADESTREAM_DATA_DIR or ./data). A PostgreSQL backup is restored with 'pg_restore --clean --if-exists'
into DATABASE_URL. Refuses a non-empty DIR unless --force (which replaces its journal, snapshots, pglite
and secret.key). Run it with the platform stopped, then start the platform.
Exit codes: 0 restored, 1 refused or failed, 2 bad usage.
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

function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${text}`);
  return value;
}

function oidcFromEnv(): OidcConfig | undefined {
  const issuer = process.env.OIDC_ISSUER;
  const clientId = process.env.OIDC_CLIENT_ID;
  const redirectUri = process.env.OIDC_REDIRECT_URI;
  if (issuer === undefined || clientId === undefined || redirectUri === undefined) return undefined;
  return { issuer, clientId, redirectUri, clientSecret: process.env.OIDC_CLIENT_SECRET, groupsClaim: process.env.OIDC_GROUPS_CLAIM };
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "no-demo": { type: "boolean", default: false },
      "no-simulator": { type: "boolean", default: false },
      "no-feed": { type: "boolean", default: false },
      role: { type: "string" },
      seed: { type: "string", default: "42" },
      "duration-s": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(help.start ?? "");
    return 0;
  }
  if (values.role !== undefined && values.role !== "ingestor") throw new Error(`--role ${values.role}: this build runs every role in one process, or --role ingestor alone`);
  if (values.role === "ingestor") return ingestorRole(values);
  const dir = dataDir(values["data-dir"]);
  const port = values.port === undefined ? envNumber("PORT", 8080) : Number(values.port);
  const host = values.host ?? process.env.HOST ?? "127.0.0.1";
  const certFile = process.env.TLS_CERT_FILE;
  const keyFile = process.env.TLS_KEY_FILE;
  const tls = certFile !== undefined && keyFile !== undefined ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : undefined;
  const corsOrigins = (process.env.TRADESTREAM_CORS_ORIGINS ?? "").split(",").map((origin) => origin.trim()).filter((origin) => origin !== "");
  const demo = !values["no-demo"];
  const platform = await startPlatform({
    dataDir: dir,
    port,
    host,
    databaseUrl: process.env.DATABASE_URL,
    demo,
    simulator: demo && !values["no-simulator"],
    // The market-data ingestor: the simulated external feed in demo mode, or the feeds INGESTOR_FEED names.
    feed: !values["no-feed"] && (demo || (process.env.INGESTOR_FEED ?? "") !== ""),
    seed: Number(values.seed),
    oidc: oidcFromEnv(),
    endOfDay: parseDayClose(process.env.TRADESTREAM_END_OF_DAY ?? dayCloseDefault, parseHolidays(process.env.TRADESTREAM_HOLIDAYS ?? holidaysDefault)),
    gateway: {
      corsOrigins,
      tls,
      accessLog: process.env.LOG_LEVEL === "debug",
      rateLimits: parseRateLimits(process.env.TRADESTREAM_RATE_LIMITS ?? "", defaultGatewayConfig.rateLimits),
      ws: { ...defaultGatewayConfig.ws, ordersPerSecond: envNumber("TRADESTREAM_WS_ORDERS_PER_S", defaultGatewayConfig.ws.ordersPerSecond) },
    },
  });
  const lines = [
    `TradeStream is running at ${platform.url}  (data: ${dir}, store: ${platform.sql.kind}, commands: ${String(platform.shard.seq)})`,
    `  API docs (OpenAPI):  ${platform.url}/docs`,
    `  Health / metrics:    ${platform.url}/health  ${platform.url}/ready  ${platform.url}/metrics`,
    `  WebSocket:           ${platform.url.replace(/^http/, "ws")}/ws`,
  ];
  if (demo) {
    lines.push(
      `  Demo instruments:    ${demoInstruments.map((i) => i.symbol).join(", ")}${platform.simulator === null ? "" : " (market simulator running)"}`,
      `  Demo users:          ${demoUsers.filter((u) => u.program !== true).map((u) => u.username).join(", ")}`,
      `  Sign in:             password "${demoPassword}", then the one-time code from 'npm run tradestream -- users --codes'`,
      `                       curl -s -X POST ${platform.url}/api/v1/auth/login -H 'content-type: application/json' -d '{"username":"trader1","password":"${demoPassword}"}'`,
    );
  }
  lines.push("Stop with Ctrl-C.");
  process.stdout.write(`${lines.join("\n")}\n`);
  const profileFile = process.env.TRADESTREAM_CPU_PROFILE;
  if (profileFile !== undefined && profileFile !== "") toggleProfileOnSignal(profileFile);
  // One clean stop, however many signals ask for it: `npm start` and a terminal's Ctrl-C deliver
  // the same signal to every process of the group, and the wrappers relay it again.
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= platform.close().then(() => logger.info("stopped", { seq: platform.shard.seq, eventHash: platform.shard.eventHash })));
  await untilSignal(stop, values["duration-s"]);
  return 0;
}

/** Runs `stop` at the first SIGINT or SIGTERM (or after `durationS`); resolves when it is done. Later signals wait for the same stop. */
async function untilSignal(stop: () => Promise<void>, durationS: string | undefined): Promise<void> {
  await new Promise<void>((resolveStop) => {
    const onSignal = (): void => void stop().then(resolveStop);
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    if (durationS !== undefined) setTimeout(onSignal, Number(durationS) * 1000);
  });
}

async function ingestorRole(values: { port?: string | undefined; host?: string | undefined; seed: string; "duration-s"?: string | undefined }): Promise<number> {
  const role = await startIngestorRole({
    port: values.port === undefined ? envNumber("PORT", ingestorPortDefault) : Number(values.port),
    host: values.host ?? process.env.HOST ?? "127.0.0.1",
    env: process.env,
    seed: Number(values.seed),
  });
  process.stdout.write(`TradeStream ingestor is running: ${role.url}/health  ${role.url}/metrics  ${role.url}/status\nStop with Ctrl-C.\n`);
  let stopped: Promise<void> | null = null;
  await untilSignal(() => (stopped ??= role.close()), values["duration-s"]);
  return 0;
}

/**
 * For benchmarking: SIGUSR2 starts a CPU profile, the next SIGUSR2 writes it to
 * `file` — so a profile covers a load phase and not start-up.
 */
function toggleProfileOnSignal(file: string): void {
  let session: Session | null = null;
  process.on("SIGUSR2", () => {
    if (session === null) {
      const started = new Session();
      started.connect();
      started.post("Profiler.enable", () => started.post("Profiler.start"));
      session = started;
      logger.info("cpu profile started");
      return;
    }
    const running = session;
    session = null;
    running.post("Profiler.stop", (error, result) => {
      if (error === null) writeFileSync(file, JSON.stringify(result.profile));
      running.disconnect();
      logger.info("cpu profile written", { file });
    });
  });
}

function users(args: string[]): number {
  const { values } = parseArgs({ args, options: { codes: { type: "boolean", default: false }, help: { type: "boolean", default: false } } });
  if (values.help) {
    process.stdout.write(help.users ?? "");
    return 0;
  }
  process.stdout.write(`Demo password: ${demoPassword}\n`);
  for (const user of demoUsers) {
    const accounts = user.accountIds.length === 0 ? "—" : user.accountIds.join(",");
    const code = values.codes && user.program !== true ? `  code ${generateTotp(demoTotpSecret(user.username), Date.now())}` : "";
    process.stdout.write(`${user.username.padEnd(12)} ${user.groups.join(",").padEnd(22)} accounts ${accounts.padEnd(12)}${user.program === true ? " (program: API key only)" : ""}${code}\n`);
  }
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

const benchmarks = ["engine", "e2e", "ledger", "marketdata", "readmodels", "caches", "dashboard"];

function bench(args: string[]): number {
  const [which = "engine", ...rest] = args;
  // `--help` before a name is this command's; after it, the benchmark's own (passed through).
  if (which === "--help" || which === "-h" || which === "help") {
    process.stdout.write(help.bench ?? "");
    return 0;
  }
  if (!benchmarks.includes(which)) return usageError("bench", new Error(`unknown benchmark '${which}'`));
  return spawnSync("npm", ["run", "--silent", `bench:${which}`, "--", ...rest], { stdio: "inherit" }).status ?? 1;
}

function usageError(command: string, error: unknown): number {
  process.stderr.write(`tradestream ${command}: ${error instanceof Error ? error.message : String(error)}\n\n${help[command] ?? ""}`);
  return 2;
}

function failed(what: string, error: unknown): number {
  if (!(error instanceof BackupError)) throw error;
  logger.error(`${what} refused`, { error: error.message });
  return 1;
}

async function backup(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { "data-dir": { type: "string" }, "backup-dir": { type: "string" }, keep: { type: "string" }, help: { type: "boolean", default: false } } }));
  } catch (error) {
    return usageError("backup", error);
  }
  if (values.help) {
    process.stdout.write(help.backup ?? "");
    return 0;
  }
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && (!Number.isSafeInteger(keep) || keep < 1)) return usageError("backup", new Error(`--keep must be a whole number ≥ 1, got ${values.keep ?? ""}`));
  const dir = dataDir(values["data-dir"]);
  const host = process.env.HOST ?? "127.0.0.1";
  const readyHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const scheme = process.env.TLS_CERT_FILE !== undefined && process.env.TLS_KEY_FILE !== undefined ? "https" : "http";
  try {
    const result = await createBackup({
      dataDir: dir,
      databaseUrl: process.env.DATABASE_URL,
      backupDir: values["backup-dir"] === undefined ? defaultBackupDir(dir) : resolve(values["backup-dir"]),
      keep: keep ?? defaultBackupKeep(),
      readyUrl: `${scheme}://${readyHost}:${String(envNumber("PORT", 8080))}/ready`,
      logger,
    });
    process.stdout.write(`${result.path}\n`);
    return 0;
  } catch (error) {
    return failed("backup", error);
  }
}

async function restore(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { "data-dir": { type: "string" }, force: { type: "boolean", default: false }, help: { type: "boolean", default: false } } });
  } catch (error) {
    return usageError("restore", error);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(help.restore ?? "");
    return 0;
  }
  const [from, ...extra] = positionals;
  if (from === undefined || extra.length > 0) return usageError("restore", new Error("give exactly one backup folder"));
  const dir = dataDir(values["data-dir"]);
  try {
    const result = await restoreBackup({ backupPath: resolve(from), dataDir: dir, databaseUrl: process.env.DATABASE_URL, force: values.force, logger });
    process.stdout.write(`restored ${String(result.files)} files of the backup of ${result.manifest.createdAt} into ${dir}\n`);
    return 0;
  } catch (error) {
    return failed("restore", error);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return start(rest);
    case "users":
      return users(rest);
    case "verify":
      return verify(rest);
    case "snapshot":
      return snapshot(rest);
    case "instruments":
      return instruments(rest);
    case "bench":
      return bench(rest);
    case "backup":
      return backup(rest);
    case "restore":
      return restore(rest);
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
