/**
 * Test support for the dashboard's component and logic tests: a WebSocket double
 * that records what the app sends and lets a test open, feed and drop it, and an
 * instrument as the gateway describes one. Test-only; nothing in the app imports it.
 */
import type { Instrument } from "./types.ts";

export class FakeSocket {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close(code = 1000): void {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(message: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  /** Every operation sent, as "op:channel". */
  ops(): string[] {
    return this.sent.map((message) => `${typeof message.op === "string" ? message.op : ""}:${typeof message.channel === "string" ? message.channel : ""}`);
  }
  /** The private-channel operations sent, as "op:channel:accountId". */
  privateOps(): string[] {
    return this.sent
      .filter((message) => message.channel === "orders" || message.channel === "fills" || message.channel === "balances")
      .map((message) => `${String(message.op)}:${String(message.channel)}:${String(message.accountId)}`);
  }
}

/** An open EUR equity on XETR with a 0.01 tick and a 1-share lot; `overrides` for what a test needs. */
export function testInstrument(overrides: Partial<Instrument> & Pick<Instrument, "symbol">): Instrument {
  return {
    instrumentId: 1,
    isin: `DE000${overrides.symbol}`,
    mic: "XETR",
    currency: "EUR",
    tickSize: "0.01",
    lotSize: "1",
    referencePrice: "100.00",
    lastPrice: "100.00",
    priceBandBps: 1_000,
    circuitBandBps: 500,
    maxOrderQuantity: "100000",
    maxOrderNotional: "50000000.00",
    makerFeeBps: 1,
    takerFeeBps: 3,
    state: "open",
    ...overrides,
  };
}
