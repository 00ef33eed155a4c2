/**
 * Reference prices for the engine, from the normalized stream: the latest
 * trade price, or the mid of the latest quote (rounded down to a tick), per
 * instrument. They reach the engine as `SetReferencePrice` commands through the
 * trading port — so they are journaled and a replay reproduces them — at most
 * once per instrument per `intervalMs` and only when the price changed, so the
 * journal is not flooded by a busy feed.
 */
import type { IngestorLogger, IngestorTradingPort, NormalizedTick } from "./types.ts";

export const referenceIntervalMsDefault = 1_000;

export class ReferencePricer {
  private readonly latest = new Map<number, number>();
  private readonly sent = new Map<number, number>();
  private readonly rejectedLogged = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  submitted = 0;
  rejected = 0;

  constructor(
    private readonly trading: IngestorTradingPort,
    private readonly options: { readonly intervalMs?: number | undefined; readonly logger?: IngestorLogger | undefined } = {},
  ) {}

  observe(tick: NormalizedTick): void {
    const price = tick.kind === "trade" ? tick.priceTicks : Math.floor((tick.bidTicks + tick.askTicks) / 2);
    this.latest.set(tick.instrumentId, price);
  }

  /** The price last sent for an instrument. */
  sentPrice(instrumentId: number): number | undefined {
    return this.sent.get(instrumentId);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs ?? referenceIntervalMsDefault);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flushing;
  }

  /** Sends every changed price now (one flush at a time). */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async send(): Promise<void> {
    const due: Array<[number, number]> = [];
    for (const [instrumentId, price] of this.latest) if (this.sent.get(instrumentId) !== price) due.push([instrumentId, price]);
    await Promise.all(
      due.map(async ([instrumentId, priceTicks]) => {
        try {
          const applied = await this.trading.submit({ type: "SetReferencePrice", instrumentId, priceTicks });
          this.sent.set(instrumentId, priceTicks);
          const rejected = applied.events.find((event) => event.type === "CommandRejected");
          if (rejected === undefined) {
            this.submitted += 1;
            return;
          }
          this.rejected += 1;
          const key = `${String(instrumentId)}:${rejected.reason}`;
          if (!this.rejectedLogged.has(key)) {
            this.rejectedLogged.add(key);
            this.options.logger?.warn("the engine refused a reference price (logged once per instrument and reason)", { instrumentId, priceTicks, reason: rejected.reason });
          }
        } catch (error) {
          this.options.logger?.warn("reference price not submitted; retried at the next interval", { instrumentId, error: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }
}
