/**
 * `tradestream start --role ingestor`: the market-data ingestor alone. It reads
 * the feeds named by the environment (see ingestor-config.ts), publishes the
 * normalized ticks to NATS / Kafka (`INGESTOR_PUBLISH`, subjects and topics
 * `marketdata.<symbol>`), and answers on its own port (8080 by default in this
 * role): `/health` (liveness), `/ready` (the feeds are started), `/status` (the
 * ingestor's status as JSON) and `/metrics` (Prometheus: messages in, out and
 * dead-lettered per source, lag, reconnects, sequence gaps, stale instruments,
 * bus publishes, egress refusals, and Node's process metrics).
 *
 * The instruments are the demo market's, or those of the JSON file
 * `INGESTOR_INSTRUMENTS_FILE` (an array of instrument specs as the engine
 * knows them). `LOG_LEVEL` is error, warn, info (default) or debug.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { InstrumentSpec } from "@tradestream/contracts";
import type { Ingestor, IngestorLogger } from "@tradestream/ingestor";
import { createJsonLogger } from "@tradestream/journal";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { demoInstruments } from "./demo.ts";
import { ingestorFromEnv } from "./ingestor-config.ts";

export const ingestorPortDefault = 8080;

export interface IngestorRoleOptions {
  readonly port: number;
  readonly host: string;
  readonly env: NodeJS.ProcessEnv;
  readonly seed: number;
}

export interface IngestorRole {
  readonly url: string;
  readonly ingestor: Ingestor;
  readonly registry: Registry;
  close(): Promise<void>;
}

const levels = { error: 0, warn: 1, info: 2, debug: 3 } as const;

/** The JSON logger, quieter by `LOG_LEVEL`. */
export function leveledLogger(component: string, level: string | undefined): IngestorLogger {
  const base = createJsonLogger(component);
  const threshold = levels[(level ?? "info") as keyof typeof levels] ?? levels.info;
  return {
    info: (msg, fields) => (threshold >= levels.info ? base.info(msg, fields) : undefined),
    warn: (msg, fields) => (threshold >= levels.warn ? base.warn(msg, fields) : undefined),
    error: (msg, fields) => base.error(msg, fields),
  };
}

function instrumentsOf(env: NodeJS.ProcessEnv): InstrumentSpec[] {
  const file = env.INGESTOR_INSTRUMENTS_FILE;
  if (file === undefined || file === "") return demoInstruments.map((spec) => ({ ...spec }));
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(parsed)) throw new Error("INGESTOR_INSTRUMENTS_FILE must hold a JSON array of instrument specs");
  return parsed as InstrumentSpec[];
}

/** Prometheus metrics read from the ingestor's status at scrape time. */
function metricsOf(ingestor: Ingestor, registry: Registry): void {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, value: number) => void) => void): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, value));
      },
    });
  };
  const sources = (): ReturnType<Ingestor["status"]>["sources"] => ingestor.status().sources;
  counter("tradestream_ingestor_messages_in_total", "Records received per source.", ["source"], (set) => sources().forEach((s) => set({ source: s.source }, s.received)));
  counter("tradestream_ingestor_messages_out_total", "Normalized ticks published per source.", ["source"], (set) => sources().forEach((s) => set({ source: s.source }, s.published)));
  counter("tradestream_ingestor_reconnects_total", "Reconnections per source.", ["source"], (set) => sources().forEach((s) => set({ source: s.source }, s.reconnects)));
  counter("tradestream_ingestor_sequence_gaps_total", "Sequence gaps per source.", ["source"], (set) => sources().forEach((s) => set({ source: s.source }, s.gaps)));
  counter("tradestream_ingestor_dead_lettered_total", "Records dead-lettered per source and reason.", ["source", "reason"], (set) => {
    for (const [source, reasons] of Object.entries(ingestor.deadLetters.byReason())) for (const [reason, count] of Object.entries(reasons)) if (count > 0) set({ source, reason }, count);
  });
  counter("tradestream_ingestor_bus_published_total", "Ticks handed to each bus.", ["bus"], (set) => ingestor.status().bus.forEach((b) => set({ bus: b.name }, b.published)));
  counter("tradestream_ingestor_bus_failed_total", "Ticks a bus failed to publish.", ["bus"], (set) => ingestor.status().bus.forEach((b) => set({ bus: b.name }, b.failed)));
  new Gauge({
    name: "tradestream_ingestor_lag_seconds",
    help: "Receive time minus record time of the last accepted record, per source.",
    labelNames: ["source"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources()) this.set({ source: s.source }, s.lagUs / 1e6);
    },
  });
  new Gauge({
    name: "tradestream_ingestor_source_up",
    help: "1 when the source is connected (or a replay is running), else 0.",
    labelNames: ["source", "state"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources()) this.set({ source: s.source, state: s.state }, s.state === "connected" ? 1 : 0);
    },
  });
  new Gauge({
    name: "tradestream_ingestor_stale_instruments",
    help: "Instruments without an update for longer than INGESTOR_STALE_S.",
    registers: [registry],
    collect() {
      this.set(ingestor.status().instruments.filter((i) => i.stale).length);
    },
  });
  collectDefaultMetrics({ register: registry });
}

export async function startIngestorRole(options: IngestorRoleOptions): Promise<IngestorRole> {
  const logger = leveledLogger("ingestor", options.env.LOG_LEVEL);
  const ingestor = await ingestorFromEnv({ env: options.env, instruments: instrumentsOf(options.env), logger, seed: options.seed, defaultFeeds: ["simulated"] });
  if (ingestor === null) throw new Error("INGESTOR_FEED=off: the ingestor role needs at least one feed");
  const registry = new Registry();
  metricsOf(ingestor, registry);
  let ready = false;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(JSON.stringify(body));
    };
    if (request.method !== "GET") return json(405, { error: { code: "method_not_allowed", message: "Only GET is served here." } });
    switch (path) {
      case "/health":
        return json(200, { status: "ok", role: "ingestor" });
      case "/ready":
        return json(ready ? 200 : 503, ready ? { status: "ready" } : { status: "starting" });
      case "/status":
        return json(200, ingestor.status());
      case "/metrics":
        registry.metrics().then(
          (text) => {
            response.writeHead(200, { "content-type": registry.contentType });
            response.end(text);
          },
          (error: unknown) => json(500, { error: { code: "internal_error", message: String(error) } }),
        );
        return;
      default:
        return json(404, { error: { code: "not_found", message: `No route GET ${path}.` } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  await ingestor.start();
  ready = true;
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${String(address.port)}`;
  logger.info("ingestor role listening", { url });
  return {
    url,
    ingestor,
    registry,
    async close() {
      ready = false;
      await ingestor.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
