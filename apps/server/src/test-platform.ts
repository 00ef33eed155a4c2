/**
 * The platform as the server tests start it: in memory, demo instruments and users,
 * no market simulator, an ephemeral port, and password hashing cheap enough for
 * tests (the production cost is tested in the auth package). Each test names its
 * seed and what it needs beyond that.
 */
import type { PlatformConfig } from "./platform.ts";

export const cheapArgon2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

/** Rate limits roomy enough for a test's many sign-ins from one address; the limits themselves are tested in api.test.ts. */
export const roomyRateLimits = { ip: { ratePerS: 2_000, burst: 4_000 }, user: { ratePerS: 1_000, burst: 2_000 }, auth: { ratePerS: 100, burst: 200 } } as const;

export function testConfig(overrides: Partial<PlatformConfig> & { readonly seed: number }): PlatformConfig {
  return { dataDir: null, port: 0, host: "127.0.0.1", demo: true, simulator: false, argon2: cheapArgon2, ...overrides };
}

/** A limit order body for SAP as POST /api/v1/orders takes it; `extra` adds or overrides fields. */
export function limitOrder(clientOrderId: string, side: "buy" | "sell", price: string, quantity: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol: "SAP", side, type: "limit", price, quantity, clientOrderId, ...extra };
}

/** Waits until `condition` holds, polling every `pollMs`; throws "timed out waiting for <what>" after `timeoutMs`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
