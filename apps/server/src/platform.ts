/**
 * The composition root of one process running every role: the sequencer and
 * engine on the file journal (or an in-memory log for tests), the relational
 * store (PGlite under the data directory, or PostgreSQL by URL), sign-in, the
 * read models (market data, orders) rebuilt from the command log, the gateway
 * (REST, WebSocket, OpenAPI, health, metrics) and, in demo mode, the demo market,
 * demo users and the market simulator trading through the API.
 */
import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, fdatasync, fsync, mkdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthService, type OidcConfig } from "@tradestream/auth";
import { EgressClient } from "@tradestream/egress";
import { decodeCommand, type EngineEvent } from "@tradestream/contracts";
import { Engine } from "@tradestream/engine";
import { callingThreadCpuSeconds, createGateway, defaultDashboardConfig, defaultGatewayConfig, GatewayMetrics, isoTime, threadCpuSeconds, type Gateway, type GatewayConfig, type TradingDayInfo } from "@tradestream/gateway";
import { createMemoryLog, openFileJournal, openSnapshotStore, type CommandLog, type SnapshotStore } from "@tradestream/journal";
import { CardVault, LedgerProjector, openLedger, parseVaultKeys, PaymentsService, ProjectionRunner, SimulatedProvider, webhookSignatureHeader, type Ledger } from "@tradestream/ledger";
import { MarketDataProjection } from "@tradestream/marketdata";
import { OrdersProjection } from "@tradestream/orders";
import { Shard } from "@tradestream/shard";
import { openStore, type Sql } from "@tradestream/store";
import { seedDemo } from "./demo.ts";
import { demoUsers, seedDemoUsers } from "./demo-users.ts";
import { logger } from "./log.ts";
import { DayCloseScheduler, formatDayClose, missedClose, nextClose, type DayClose } from "./trading-day.ts";
import { loadReadModels, ReadModelCheckpoints, readModelSnapshotEveryDefault } from "./read-model-snapshots.ts";
import { startSimulator, type Simulator } from "./simulator.ts";
import { feedPortOf, ingestorFromEnv } from "./ingestor-config.ts";
import type { Ingestor } from "@tradestream/ingestor";

/**
 * The ledger commits at most one batch per this many ms while events keep coming (an idle
 * ledger commits the first event at once). Each transaction has a fixed cost in the store's
 * worker; at 4,000 orders/s 100 ms cut the server's CPU per order from ≈ 320 to ≈ 210 µs
 * (bench:e2e, serverCpuUsPerOrder), and 250 ms cut the store worker's share by a further
 * ≈ 10-15 % (serverStoreCpuUsPerOrder 80 and 75 → 72 and 61 µs in alternating runs). The
 * ledger trails the engine by up to this much more.
 */
const ledgerBatchIntervalMs = 250;

export interface PlatformConfig {
  /** Where the journal, snapshots and PGlite live; null keeps everything in memory (tests, benchmarks). */
  readonly dataDir: string | null;
  readonly port: number;
  readonly host: string;
  /** PostgreSQL URL; when absent the embedded PGlite store is used. */
  readonly databaseUrl?: string | undefined;
  /** Seed the demo market and users on first start. */
  readonly demo: boolean;
  /** Run the market simulator (demo mode only). */
  readonly simulator: boolean;
  readonly seed: number;
  readonly simulatorTickMs?: number | undefined;
  /** Run the market-data ingestor in process (the simulated external feed unless INGESTOR_FEED selects others; "off" none). Default off; `tradestream start` turns it on in demo mode. */
  readonly feed?: boolean | undefined;
  /** The environment the ingestor reads its configuration from (default: process.env). */
  readonly feedEnv?: NodeJS.ProcessEnv | undefined;
  /** Server secret (≥ 32 bytes) for tokens and key encryption; default: $TRADESTREAM_SECRET or a file in the data directory. */
  readonly secret?: Uint8Array | undefined;
  readonly oidc?: OidcConfig | undefined;
  readonly gateway?: Partial<GatewayConfig> | undefined;
  readonly argon2?: { memoryCost: number; timeCost: number; parallelism: number } | undefined;
  readonly snapshotEvery?: number | undefined;
  /** Commands between two read-model snapshots at least (default `readModelSnapshotEveryDefault`); each is taken with a shard snapshot, and a clean stop takes one. */
  readonly readModelSnapshotEvery?: number | undefined;
  /** When the trading day closes (DAY orders expire, client order ids free up); null or absent: never on its own (`POST /api/v1/admin/end-of-day` still ends it). */
  readonly endOfDay?: DayClose | null | undefined;
  /** The wall clock the trading day's close is scheduled by (default Date.now); tests move it. */
  readonly nowMs?: (() => number) | undefined;
}

export interface Platform {
  readonly url: string;
  readonly gateway: Gateway;
  readonly shard: Shard;
  readonly auth: AuthService;
  readonly sql: Sql;
  readonly market: MarketDataProjection;
  readonly orders: OrdersProjection;
  readonly ledger: Ledger;
  readonly ledgerRunner: ProjectionRunner;
  readonly simulator: Simulator | null;
  /** The market-data ingestor, when one runs in process: reference prices, external candles and tickers. */
  readonly ingestor: Ingestor | null;
  /** How the read models started: the command of the snapshot they were restored from (0 for none) and the journal commands replayed after it. */
  readonly readModels: { readonly snapshotSeq: number; readonly replayedCommands: number };
  close(): Promise<void>;
}

/** The built dashboard, beside this app in the workspace. */
export const dashboardDist = fileURLToPath(new URL("../../dashboard/dist", import.meta.url));

function loadSecret(config: PlatformConfig): Uint8Array {
  if (config.secret !== undefined) return config.secret;
  const fromEnv = process.env.TRADESTREAM_SECRET;
  if (fromEnv !== undefined && fromEnv !== "") {
    const bytes = Buffer.from(fromEnv, /^[0-9a-f]+$/i.test(fromEnv) ? "hex" : "base64");
    if (bytes.length < 32) throw new Error("TRADESTREAM_SECRET must hold at least 32 bytes (64 hex digits or 44 base64 characters)");
    return bytes;
  }
  if (config.dataDir === null) return randomBytes(32);
  const file = join(config.dataDir, "secret.key");
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, "utf8").trim(), "hex");
}

export async function startPlatform(config: PlatformConfig): Promise<Platform> {
  const started = Date.now();
  if (config.dataDir !== null) mkdirSync(config.dataDir, { recursive: true });
  const metrics = new GatewayMetrics();

  // The command log and the shard.
  let log: CommandLog;
  let shard: Shard;
  // Read-model snapshots pair with shard snapshots (see read-model-snapshots.ts); set up once the read models exist.
  let checkpoints: ReadModelCheckpoints | null = null;
  let readModelStore: SnapshotStore | null = null;
  if (config.dataDir === null) {
    log = createMemoryLog();
    shard = await Shard.open({ log, logger, snapshotEvery: 0 });
  } else {
    // The journal's own I/O, timed: fdatasync latency is the platform's floor for acknowledgement latency.
    const io = {
      writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number => writeSync(fd, buffer, offset, length, position),
      fdatasync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
        const end = metrics.journalFsyncSeconds.startTimer();
        fdatasync(fd, (error) => {
          end();
          callback(error);
        });
      },
      fsync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => fsync(fd, callback),
    };
    log = await openFileJournal({ dir: join(config.dataDir, "journal"), logger, io });
    const snapshots = await openSnapshotStore({ dir: join(config.dataDir, "snapshots"), logger });
    readModelStore = await openSnapshotStore({ dir: join(config.dataDir, "snapshots", "read-models"), snapshotsKept: 2, logger });
    const onSnapshot = (seq: number, bytes: Promise<Uint8Array | null>): void => checkpoints?.shardSnapshot(seq, bytes);
    shard = await Shard.open({ log, snapshots, logger, onSnapshot, ...(config.snapshotEvery === undefined ? {} : { snapshotEvery: config.snapshotEvery }) });
  }
  // The last command before this process's: a trading day's close missed while down is caught up below.
  const lastCommandUs = shard.seq === 0 ? 0 : shard.lastCommandTsUs;
  if (config.demo && shard.seq === 0) {
    await seedDemo(shard);
    logger.info("demo market seeded");
  }

  // The relational store and sign-in.
  // PGlite runs on a worker thread unless TRADESTREAM_PGLITE_WORKER=0: its CPU time stays off the gateway and the engine.
  const sql = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgliteWorker: process.env.TRADESTREAM_PGLITE_WORKER !== "0" });
  // Per-thread CPU on /metrics: the event loop (scrapes run on it) and the embedded database's worker.
  metrics.trackThreadCpu("event_loop", callingThreadCpuSeconds);
  const storeThread = sql.threadId ?? null;
  if (storeThread !== null) metrics.trackThreadCpu("store", () => threadCpuSeconds(storeThread));
  const secret = loadSecret(config);
  // Single sign-on talks to the configured identity provider through the egress allow-list (its host allowed by being configured).
  // One outbound client for the process (the ingestor's vendor feeds use it too).
  const egress = EgressClient.fromEnv(config.feedEnv ?? process.env, logger);
  const ssoEgress = config.oidc === undefined ? null : egress.withHosts([new URL(config.oidc.issuer).hostname]);
  const oidc = config.oidc === undefined || ssoEgress === null ? undefined : { ...config.oidc, fetch: (url: string, init: RequestInit) => ssoEgress.fetch(url, init) };
  const auth = await AuthService.open({ sql, secret, oidc, logger, ...(config.argon2 === undefined ? {} : { argon2: config.argon2 }) });
  if (config.demo) {
    const created = await seedDemoUsers(auth);
    if (created > 0) logger.info("demo users created", { users: created });
  }

  // The books of record: a settlement projection with its offset in the same store.
  const ledger = await openLedger(sql, { logger });
  const projector = await LedgerProjector.open(ledger);

  // Payments: the simulated provider calls back the platform's own webhook route, signed with a secret derived from the server's.
  let baseUrl = "";
  const webhookSecret = process.env.TRADESTREAM_PAYMENTS_WEBHOOK_SECRET ?? createHmac("sha256", secret).update("tradestream payments webhook").digest("hex");
  const provider = new SimulatedProvider({
    secret: webhookSecret,
    delayMs: 50,
    deliver: async (body, signature) => {
      const response = await fetch(`${baseUrl}/api/v1/payments/webhook`, { method: "POST", headers: { "content-type": "application/json", [webhookSignatureHeader]: signature }, body });
      if (!response.ok) throw new Error(`webhook answered ${String(response.status)}`);
    },
  });
  const engineFunds = {
    // The engine first: cash is taken from what is available (never from reserved), or the withdrawal is refused.
    // Each names its payment, and the engine applies a payment id once: a retry after a crash finds
    // `duplicate_payment` when the first attempt had been applied, which counts as done.
    async reserve(accountId: number, currency: string, amountMinor: bigint, paymentId: string): Promise<boolean> {
      const applied = await shard.submit({ type: "DebitCash", accountId, currency, amountMinor: Number(amountMinor), paymentId });
      const rejected = applied.events.find((event) => event.type === "CommandRejected");
      return rejected === undefined || rejected.reason === "duplicate_payment";
    },
    async credit(accountId: number, currency: string, amountMinor: bigint, paymentId: string): Promise<void> {
      const applied = await shard.submit({ type: "CreditCash", accountId, currency, amountMinor: Number(amountMinor), paymentId });
      const rejected = applied.events.find((event) => event.type === "CommandRejected");
      if (rejected !== undefined && rejected.reason !== "duplicate_payment") throw new Error(`the engine refused a credit: ${rejected.reason}`);
    },
  };
  // Card vault keys: TRADESTREAM_VAULT_KEYS="id:base64key,…" (the first is active unless TRADESTREAM_VAULT_ACTIVE_KEY says), else one derived from the server secret.
  const vaultKeys = process.env.TRADESTREAM_VAULT_KEYS === undefined || process.env.TRADESTREAM_VAULT_KEYS === "" ? [{ id: "k1", key: createHmac("sha256", secret).update("tradestream card vault k1").digest() }] : parseVaultKeys(process.env.TRADESTREAM_VAULT_KEYS);
  const vault = await CardVault.open(sql, { keys: vaultKeys, activeKeyId: process.env.TRADESTREAM_VAULT_ACTIVE_KEY ?? vaultKeys[0]?.id ?? "k1", logger });
  const payments = new PaymentsService({ ledger, provider, funds: engineFunds, webhookSecrets: [webhookSecret], logger, vault });

  // The market-data ingestor: external ticks → reference prices (commands through the journal) and the feed's candles and tickers.
  const ingestor =
    config.feed === true
      ? await ingestorFromEnv({
          env: config.feedEnv ?? process.env,
          instruments: [...shard.engine.instruments.values()].map((instrument) => instrument.spec),
          logger,
          trading: shard,
          seed: config.seed,
          defaultFeeds: ["simulated"],
          egress,
        })
      : null;
  for (const instrument of shard.engine.instruments.values()) ingestor?.noteTradingState(instrument.spec.instrumentId, instrument.state);

  // Read models: from their newest usable snapshot and the journal after it, else rebuilt from the whole journal.
  const restored = readModelStore === null ? null : await loadReadModels(readModelStore, { logSeq: log.durableSeq, ledgerOffset: projector.offset, logger });
  const market = restored?.market ?? new MarketDataProjection();
  const orders = restored?.orders ?? new OrdersProjection();
  let ready = false;
  // The trader dashboard (apps/dashboard, built into its dist/) on the same origin; `gateway.dashboard` overrides it.
  const gatewayConfig: GatewayConfig = { ...defaultGatewayConfig, dashboard: { ...defaultDashboardConfig, dir: dashboardDist }, ...config.gateway };
  // The schedule, the next close and the current day's start (the scheduler and the day's start are set below, before the first request).
  const tradingDay = (): TradingDayInfo => ({
    closesAt: dayClose === null ? null : formatDayClose(dayClose),
    nextCloseAt: dayCloser === null ? null : new Date(dayCloser.next).toISOString(),
    startedAt: gateway.context.orderService.dayStartUs === 0 ? null : isoTime(gateway.context.orderService.dayStartUs),
  });
  const gateway = await createGateway(
    {
      trading: shard,
      market,
      orders,
      auth,
      logger,
      metrics,
      async readiness() {
        const checks: Record<string, string> = { journal: ready ? "replayed" : "replaying" };
        let storeOk = true;
        try {
          await sql.query("select 1 as ok");
          checks.store = "reachable";
        } catch (error) {
          storeOk = false;
          checks.store = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
        }
        return { ready: ready && storeOk, checks };
      },
      payments,
      vault,
      feed: ingestor === null ? undefined : feedPortOf(ingestor),
      ledger: {
        ledger,
        get runner() {
          return ledgerRunner;
        },
        engineBalances() {
          const cash = [];
          const positions = [];
          for (const account of orders.accounts()) {
            for (const balance of orders.balances(account.accountId)) cash.push({ accountId: account.accountId, currency: balance.currency, balanceMinor: balance.balanceMinor });
            for (const position of orders.positions(account.accountId)) positions.push({ accountId: account.accountId, instrumentId: position.instrumentId, positionLots: position.positionLots });
          }
          return { cash, positions, atSeq: orders.lastEventSeq };
        },
      },
      status() {
        return {
          version: gatewayConfig.version,
          uptimeS: Math.round((Date.now() - started) / 1000),
          seq: shard.seq,
          durableSeq: shard.durableSeq,
          eventHash: shard.eventHash,
          store: sql.kind,
          instruments: market.instruments().length,
          openOrders: shard.engine.orders.size,
          readModels: readModelStart,
          tradingDay: tradingDay(),
        };
      },
      tradingDay,
    },
    gatewayConfig,
  );
  const apply = (events: readonly EngineEvent[]): void => {
    market.apply(events);
    orders.apply(events);
    gateway.context.orderService.observe(events);
  };
  const rebuild = restored?.engine ?? new Engine();
  if (restored !== null) gateway.context.orderService.resumeDay(restored.dayStartUs);
  const replayFrom = (restored?.seq ?? 0) + 1;
  let replayed = 0;
  // Events the ledger has not settled yet (a fresh ledger, or one that was behind at the last stop).
  const unsettled: EngineEvent[] = [];
  await log.replay(replayFrom, (seq, record) => {
    if (seq > shard.seq) return;
    const events = rebuild.apply(decodeCommand(record));
    apply(events);
    for (const event of events) if (event.seq > projector.offset) unsettled.push(event);
    replayed += 1;
  });
  const readModelStart = { snapshotSeq: restored?.seq ?? 0, replayedCommands: replayed };
  if (rebuild.eventSeq !== shard.engine.eventSeq) {
    const remedy = restored === null ? "" : `; move ${join(config.dataDir ?? "", "snapshots", "read-models")} aside to rebuild the read models from the whole journal`;
    throw new Error(`the read models' replay ended at event ${String(rebuild.eventSeq)}, the engine at ${String(shard.engine.eventSeq)}${remedy}`);
  }
  for (let from = 0; from < unsettled.length; from += 20_000) await projector.apply(unsettled.slice(from, from + 20_000));
  unsettled.length = 0;
  if (readModelStore !== null) {
    checkpoints = new ReadModelCheckpoints({
      store: readModelStore,
      every: config.readModelSnapshotEvery ?? readModelSnapshotEveryDefault,
      lastSeq: restored?.seq ?? 0,
      capture: () => ({ orders: orders.snapshotSteps(), market: market.snapshot(), dayStartUs: gateway.context.orderService.dayStartUs }),
      logger,
    });
    checkpoints.reached(shard.seq);
  }
  // From here on the ledger follows the engine without ever slowing it: a bounded buffer, retried with back-off.
  const ledgerRunner = new ProjectionRunner(projector, { logger, batchIntervalMs: ledgerBatchIntervalMs, onCommitted: (offset) => metrics.ledgerOffset.set(offset) });
  metrics.ledgerOffset.set(projector.offset);
  shard.subscribe((applied) => {
    apply(applied.events);
    checkpoints?.reached(applied.seq);
    ingestor?.observeEngine(applied.events);
    ledgerRunner.push(applied.events);
  });
  metrics.trackSequences(() => shard.seq, () => shard.engine.eventSeq);
  // Sessions left open by a previous process: their connections are gone, so close them (cancel-on-disconnect).
  for (const sessionId of [...shard.engine.sessions.keys()]) await shard.submit({ type: "CloseSession", sessionId });
  const dayClose = config.endOfDay ?? null;
  const nowMs = config.nowMs ?? Date.now;
  /** Ends the trading day; the number of DAY orders that expired. */
  const endDay = async (): Promise<number> => (await shard.submit({ type: "EndOfDay" })).events.filter((event) => event.type === "OrderExpired").length;
  if (dayClose !== null && missedClose({ nowMs: nowMs(), lastCommandUs, lastDayEndUs: gateway.context.orderService.dayStartUs, close: dayClose })) {
    logger.warn("end of day missed while stopped, run now", { expiredOrders: await endDay() });
  }
  const dayCloser =
    dayClose === null
      ? null
      : new DayCloseScheduler(
          dayClose,
          async () => logger.info("end of day", { expiredOrders: await endDay(), next: new Date(nextClose(nowMs(), dayClose)).toISOString() }),
          (error) => logger.error("end of day failed", { error: String(error) }),
          nowMs,
        );
  ready = true;
  logger.info("read models rebuilt", { fromSnapshotSeq: restored?.seq ?? 0, commands: replayed, ms: Date.now() - started });

  const address = await gateway.listen(config.port, config.host);
  const url = address.replace("[::1]", "127.0.0.1");
  baseUrl = url;
  // Payments a previous process left half-done (a crash between the database, the engine and the
  // provider) are finished now: every step is idempotent by payment id, so a retry never moves money twice.
  const recovered = await payments.recover();
  if (recovered.length > 0) logger.warn("payments recovered", { count: recovered.length, statuses: recovered.map((p) => `${p.paymentId}:${p.status}`) });

  await ingestor?.start();
  if (dayClose !== null && dayCloser !== null) {
    dayCloser.start();
    logger.info("trading day closes", { at: formatDayClose(dayClose), next: new Date(dayCloser.next).toISOString() });
  }

  let simulator: Simulator | null = null;
  if (config.demo && config.simulator) {
    const simUser = demoUsers.find((user) => user.program === true);
    const user = simUser === undefined ? null : await auth.findUser(simUser.username);
    if (user !== null) {
      for (const key of await auth.listApiKeys(user.userId)) if (!key.revoked && key.label === "simulator") await auth.revokeApiKey(user.userId, key.keyId, { ip: "127.0.0.1" });
      const key = await auth.createApiKey(user.userId, "simulator", { ip: "127.0.0.1" });
      simulator = await startSimulator({ url, keyId: key.keyId, secret: key.secret, seed: config.seed, tickMs: config.simulatorTickMs ?? 250, logger });
    }
  }

  let closed = false;
  return {
    url,
    gateway,
    shard,
    auth,
    sql,
    market,
    orders,
    ledger,
    ledgerRunner,
    simulator,
    ingestor,
    readModels: readModelStart,
    async close() {
      if (closed) return;
      closed = true;
      await dayCloser?.stop();
      await simulator?.stop();
      await ingestor?.stop();
      await gateway.close();
      if (config.dataDir !== null) {
        checkpoints?.force();
        await shard.snapshot();
      }
      await shard.close();
      await checkpoints?.drained();
      await ledgerRunner.drained().catch((error: unknown) => logger.warn("ledger projection did not drain before stop", { error: String(error) }));
      await ledgerRunner.close();
      await auth.close();
      await sql.close();
    },
  };
}
