/**
 * Test support: the demo-like instruments the ingestor's tests and the
 * benchmark use, and a probe for servers the integration tests need. A server
 * that does not answer skips its tests with the reason printed — unless
 * `TRADESTREAM_REQUIRE_SERVICES=1` (CI), where it fails them.
 */
import { createConnection } from "node:net";
import type { InstrumentSpec } from "@tradestream/contracts";
import type { FeedInstrument } from "./types.ts";

function spec(instrumentId: number, symbol: string, isin: string, reference: number, tickSize = "0.01", lotSize = "1"): InstrumentSpec {
  return {
    instrumentId,
    symbol,
    isin,
    mic: "XETR",
    currency: "EUR",
    tickSize,
    lotSize,
    tickValueMinor: 1,
    referencePriceTicks: reference,
    priceBandBps: 1_000,
    circuitBandBps: 500,
    maxOrderQtyLots: 100_000,
    maxOrderNotionalMinor: 5_000_000_000,
    makerFeeBps: 1,
    takerFeeBps: 3,
  };
}

export const testInstruments: readonly FeedInstrument[] = [
  { spec: spec(1, "SAP", "DE0007164600", 23_000), vendorCodes: ["SAP.DE"] },
  { spec: spec(2, "SIE", "DE0007236101", 18_000), vendorCodes: ["SIE.DE"] },
  { spec: { ...spec(3, "ASML", "NL0010273215", 13_000), tickSize: "0.05", tickValueMinor: 5 }, vendorCodes: ["ASML.AS"] },
];

/** Whether a TCP server answers at host:port, within `timeoutMs`. */
export function tcpReachable(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** null when the service is usable; else the reason to skip (or throws when services are required). */
export function serviceVerdict(name: string, unavailable: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (unavailable === null) return null;
  if (env.TRADESTREAM_REQUIRE_SERVICES === "1") throw new Error(`${name} is required (TRADESTREAM_REQUIRE_SERVICES=1) but unavailable: ${unavailable}`);
  console.warn(`Skipping ${name} tests: ${unavailable}`);
  return unavailable;
}
