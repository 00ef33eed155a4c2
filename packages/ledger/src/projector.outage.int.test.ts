/**
 * "The engine keeps trading while the database is down", against the real
 * PostgreSQL: the projection's connections go through a TCP proxy that the test
 * cuts (every connection dropped, new ones refused) and restores; before that, its
 * server backends are also terminated with pg_terminate_backend. The engine applies
 * commands throughout and hands its events to the runner, which never blocks; once
 * the database is reachable again the ledger catches up, and its trial balance and
 * every account's balances equal the engine's.
 */
import { randomBytes } from "node:crypto";
import { type Server, type Socket, createConnection, createServer } from "node:net";
import { Engine } from "@tradestream/engine";
import { type Sql, openPostgres, testBackends, testDatabaseUrlDefault } from "@tradestream/store";
import { describe, expect, it } from "vitest";
import { openLedger } from "./ledger.ts";
import type { LedgerLogger } from "./logger.ts";
import { LedgerProjector } from "./projector.ts";
import { reconcile } from "./reconcile.ts";
import { trialBalance } from "./reports.ts";
import { ProjectionRunner } from "./runner.ts";
import { engineCash, enginePositions, streamCommands } from "./test-stream.ts";

const backends = await testBackends();
const postgres = backends.find((backend) => backend.name === "postgres");
const url = process.env["TRADESTREAM_TEST_DATABASE_URL"] ?? testDatabaseUrlDefault;

/** A TCP proxy to PostgreSQL that can drop every connection and refuse new ones. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  connectionsRefused = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: URL): Promise<CuttableProxy> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on("connection", (client) => proxy.#accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket, target: URL): void {
    if (this.#cut) {
      this.connectionsRefused += 1;
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(postgres?.unavailable !== null)("projection while PostgreSQL is unreachable", () => {
  it("keeps trading, buffers, retries with back-off and catches up to the engine's balances", { timeout: 120_000 }, async () => {
    const target = new URL(url);
    const proxy = await CuttableProxy.start(target);
    const schema = `outage_${randomBytes(6).toString("hex")}`;
    const appName = `ledger_outage_${randomBytes(4).toString("hex")}`;
    const viaProxy = new URL(url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    viaProxy.searchParams.set("application_name", appName);
    const admin = await openPostgres(url, { max: 1 });
    let sql: Sql | null = null;
    const warnings: string[] = [];
    const logger: LedgerLogger = { info: () => undefined, warn: (msg, fields) => warnings.push(`${msg} ${String(fields?.["error"])}`), error: () => undefined };
    try {
      sql = await openPostgres(viaProxy.toString(), { schema, max: 2 });
      const ledger = await openLedger(sql, { logger });
      const runner = new ProjectionRunner(await LedgerProjector.open(ledger), { logger, backoffMsInitial: 20, backoffMsMax: 200 });
      const engine = new Engine();
      const commands = [...streamCommands({ seed: 31, rounds: 6_000, payments: true })];
      const trade = (from: number, to: number) => {
        for (const command of commands.slice(from, to)) expect(runner.push(engine.apply(command))).toBe("buffered");
      };
      const fifth = Math.floor(commands.length / 5);

      // Normal operation.
      trade(0, fifth);
      await runner.drained();

      // The server ends the projection's sessions; trading goes on.
      const terminated = await admin.query<{ ok: boolean }>("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1", [appName]);
      expect(terminated.length).toBeGreaterThan(0);
      trade(fifth, 2 * fifth);
      await runner.drained();

      // The network to the database is down for a while; the engine keeps trading. The cut
      // comes while the runner is idle and the pool is given a moment to drop its dead idle
      // connections: a connection lost while checked out between two statements makes the
      // store's PostgreSQL adapter emit an unhandled 'error' (reported separately).
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let at = 2 * fifth; at < 4 * fifth; at += 50) {
        trade(at, Math.min(at + 50, 4 * fifth));
        await tick();
      }
      await until(() => runner.state.failures >= 5, "five failed attempts");
      expect(proxy.connectionsRefused).toBeGreaterThan(0);
      expect(runner.state.offset).toBeLessThan(engine.eventSeq);
      expect(runner.state.bufferedEvents).toBeGreaterThan(0);
      trade(4 * fifth, commands.length);

      proxy.restore();
      await runner.drained();
      expect(runner.state).toMatchObject({ offset: engine.eventSeq, bufferedEvents: 0, failures: 0, stopped: null });
      expect(warnings.some((warning) => warning.startsWith("ledger projection failed; retrying"))).toBe(true);

      const trial = await trialBalance(ledger);
      expect(trial.balanced).toBe(true);
      for (const [currency, fees] of engine.feesCollected) expect(await ledger.balance({ kind: "fee_income", currency })).toBe(-BigInt(fees));
      const report = await reconcile(ledger, { cash: engineCash(engine), positions: enginePositions(engine), atSeq: engine.eventSeq }, { logger });
      expect(report.differences).toEqual([]);
      expect(report.status).toBe("matched");
      await runner.close();
    } finally {
      await sql?.close().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
      await proxy.close();
    }
  });
});
