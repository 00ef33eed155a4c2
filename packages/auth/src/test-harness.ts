/**
 * Test support for this package: a fresh store, a manual clock, a cheap argon2
 * cost and a logger that keeps every line, so tests can move time and search
 * everything that was logged.
 */
import { randomBytes } from "node:crypto";
import type { Sql } from "@tradestream/store";
import { AuthService, type AuthOptions, type RequestMeta } from "./service.ts";

/** Far below production cost: tests hash many passwords. */
export const testArgon2 = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export const meta: RequestMeta = { ip: "192.0.2.10", userAgent: "vitest", requestId: "req-1" };

export class ManualClock {
  nowMs: number;

  constructor(startMs = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.nowMs = startMs;
  }

  readonly now = (): number => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export interface Harness {
  readonly auth: AuthService;
  readonly sql: Sql;
  readonly clock: ManualClock;
  readonly secret: Uint8Array;
  readonly logLines: string[];
  /** Another service on the same store and secret: a second gateway process. */
  openPeer(): Promise<AuthService>;
  close(): Promise<void>;
}

export async function openHarness(sql: Sql, options: Partial<Omit<AuthOptions, "sql">> = {}): Promise<Harness> {
  const clock = new ManualClock();
  const secret = randomBytes(32);
  const logLines: string[] = [];
  const logger = {
    info: (msg: string, fields?: Record<string, unknown>) => logLines.push(JSON.stringify({ msg, ...fields })),
    warn: (msg: string, fields?: Record<string, unknown>) => logLines.push(JSON.stringify({ msg, ...fields })),
  };
  const base: AuthOptions = { sql, secret, now: clock.now, argon2: testArgon2, logger, ...options };
  const auth = await AuthService.open(base);
  return {
    auth,
    sql,
    clock,
    secret,
    logLines,
    openPeer: () => AuthService.open(base),
    async close() {
      await auth.close();
      await sql.close();
    },
  };
}
