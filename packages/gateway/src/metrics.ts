/**
 * Prometheus metrics of the edge: requests by route (rate, latency, status),
 * orders and trades, WebSocket connections and messages, and gauges the
 * composition root feeds (engine queue depth, journal fsync latency).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: "tradestream_http_requests_total", help: "HTTP requests by route, method and status.", labelNames: ["route", "method", "status"] as const, registers: [this.registry] });
  readonly requestSeconds = new Histogram({
    name: "tradestream_http_request_duration_seconds",
    help: "HTTP request latency by route and method.",
    labelNames: ["route", "method"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly orders = new Counter({ name: "tradestream_orders_total", help: "Order commands by kind and outcome (accepted, or the reject code).", labelNames: ["kind", "outcome", "via"] as const, registers: [this.registry] });
  readonly trades = new Counter({ name: "tradestream_trades_total", help: "Trades executed.", registers: [this.registry] });
  readonly wsConnections = new Gauge({ name: "tradestream_ws_connections", help: "Open WebSocket connections.", registers: [this.registry] });
  readonly wsMessagesSent = new Counter({ name: "tradestream_ws_messages_sent_total", help: "WebSocket messages sent by channel.", labelNames: ["channel"] as const, registers: [this.registry] });
  readonly wsSlowConsumers = new Counter({ name: "tradestream_ws_slow_consumers_total", help: "Slow WebSocket consumers by action (conflated, disconnected).", labelNames: ["action"] as const, registers: [this.registry] });
  readonly engineQueueDepth = new Gauge({ name: "tradestream_engine_queue_depth", help: "Commands applied but not yet durable (waiting for the journal).", registers: [this.registry] });
  readonly journalFsyncSeconds = new Histogram({
    name: "tradestream_journal_fsync_duration_seconds",
    help: "Journal fdatasync latency, from the call until its completion runs on the event loop (so a busy loop adds to it).",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  /** Where the sequence gauges read their values at each scrape (see `trackSequences`). */
  #sequences: { readonly command: () => number; readonly event: () => number } | null = null;
  readonly commandSeq = new Gauge({
    name: "tradestream_journal_seq",
    help: "Last command sequence number applied.",
    registers: [this.registry],
    collect: () => {
      if (this.#sequences !== null) this.commandSeq.set(this.#sequences.command());
    },
  });
  readonly authEvents = new Counter({ name: "tradestream_auth_events_total", help: "Authentication outcomes by method and result.", labelNames: ["method", "result"] as const, registers: [this.registry] });
  readonly reconciliationDifferences = new Gauge({ name: "tradestream_reconciliation_differences", help: "Differences found by the last engine-vs-ledger reconciliation.", registers: [this.registry] });
  readonly ledgerOffset = new Gauge({ name: "tradestream_ledger_offset", help: "Last event seq settled in the ledger.", registers: [this.registry] });
  readonly eventSeq = new Gauge({
    name: "tradestream_engine_event_seq",
    help: "Last event seq the engine emitted (minus tradestream_ledger_offset: the settlement backlog).",
    registers: [this.registry],
    collect: () => {
      if (this.#sequences !== null) this.eventSeq.set(this.#sequences.event());
    },
  });
  readonly rateLimited = new Counter({ name: "tradestream_rate_limited_total", help: "Requests refused by rate limits, by scope.", labelNames: ["scope"] as const, registers: [this.registry] });
  /** Threads whose CPU time is exported, with the last value read (see `trackThreadCpu`). */
  readonly #threads = new Map<string, { readonly read: () => number | null; last: number }>();
  readonly threadCpuSeconds = new Counter({
    name: "tradestream_thread_cpu_seconds_total",
    help: "CPU time of one thread of the process (event_loop: the JavaScript thread that sequences every order; store: the embedded database's worker). Linux only.",
    labelNames: ["thread"] as const,
    registers: [this.registry],
    collect: () => {
      for (const [thread, tracked] of this.#threads) {
        const seconds = tracked.read();
        if (seconds === null || seconds <= tracked.last) continue;
        this.threadCpuSeconds.inc({ thread }, seconds - tracked.last);
        tracked.last = seconds;
      }
    },
  });

  /**
   * The labelled series of the per-request and per-order metrics, by their label values: prom-client
   * hashes a label object on every `inc`/`observe`, which the hot paths do not need to repeat. Bounded
   * by the routes, methods, statuses and reject codes that exist (the route of an unknown path is
   * "unmatched").
   */
  readonly #requestSeries = new Map<string, { readonly count: { inc(): void }; readonly seconds: { observe(value: number): void } }>();
  readonly #orderSeries = new Map<string, { inc(): void }>();

  /** One answered HTTP request: `tradestream_http_requests_total` and its latency histogram. */
  countRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${String(status)} ${route}`;
    let series = this.#requestSeries.get(key);
    if (series === undefined) {
      series = { count: this.requests.labels({ route, method, status: String(status) }), seconds: this.requestSeconds.labels({ route, method }) };
      this.#requestSeries.set(key, series);
    }
    series.count.inc();
    series.seconds.observe(seconds);
  }

  /** One order command's outcome: `tradestream_orders_total{kind, outcome, via}`. */
  countOrder(kind: string, outcome: string, via: string): void {
    const key = `${kind} ${outcome} ${via}`;
    let series = this.#orderSeries.get(key);
    if (series === undefined) {
      series = this.orders.labels({ kind, outcome, via });
      this.#orderSeries.set(key, series);
    }
    series.inc();
  }

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "tradestream_" });
  }

  /**
   * Exports the last command and event sequence numbers, read at each scrape: setting the gauges for
   * every command cost a label hash and an object per order on the sequencer's thread.
   */
  trackSequences(command: () => number, event: () => number): void {
    this.#sequences = { command, event };
  }

  /**
   * Exports a thread's CPU seconds as `tradestream_thread_cpu_seconds_total{thread}`,
   * read at each scrape; a reader that answers null (no /proc, thread gone) adds nothing.
   */
  trackThreadCpu(thread: string, read: () => number | null): void {
    this.#threads.set(thread, { read, last: 0 });
    this.threadCpuSeconds.inc({ thread }, 0);
  }
}
