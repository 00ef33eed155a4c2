/**
 * Demo users, one or more in every group, created on first start in demo mode.
 * They share one demo password and each has a TOTP second factor whose secret
 * is derived from the username, so `tradestream users code <name>` can print the
 * current code. Demo mode is for laptops and tests; production starts with
 * `--no-demo` and creates users through the admin API or SSO.
 */
import { createHash } from "node:crypto";
import type { AuthService, Group } from "@tradestream/auth";
import { demoAccounts } from "./demo.ts";

export const demoPassword = "tradestream-demo";

export interface DemoUser {
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly Group[];
  readonly accountIds: readonly number[];
  /** Program users (the simulator) sign requests with API keys and have no password. */
  readonly program?: boolean;
}

export const demoUsers: readonly DemoUser[] = [
  { username: "trader1", displayName: "Demo Trader One", groups: ["authorized-traders"], accountIds: [1001] },
  { username: "trader2", displayName: "Demo Trader Two", groups: ["authorized-traders"], accountIds: [1002] },
  { username: "trader3", displayName: "Demo Trader Three", groups: ["authorized-traders"], accountIds: [1003] },
  { username: "compliance1", displayName: "Demo Compliance Officer", groups: ["compliance-officers"], accountIds: [] },
  { username: "sre1", displayName: "Demo SRE Lead", groups: ["sre-leads"], accountIds: [] },
  { username: "auditor1", displayName: "Demo Auditor", groups: ["auditors"], accountIds: [] },
  { username: "support1", displayName: "Demo L1 Support", groups: ["l1-support"], accountIds: [] },
  { username: "admin1", displayName: "Demo Admin (finance & compliance lead)", groups: ["fin-compliance-leads"], accountIds: [] },
  { username: "simulator", displayName: "Market simulator (program)", groups: ["authorized-traders"], accountIds: [...demoAccounts.marketMakers, ...demoAccounts.noise], program: true },
];

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31] ?? "";
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31] ?? "";
  return out;
}

/** The demo TOTP secret of a user (base32, 160 bits). Only for demo users. */
export function demoTotpSecret(username: string): string {
  return base32(createHash("sha256").update(`tradestream-demo-totp:${username}`).digest().subarray(0, 20));
}

/** Creates the demo users that do not exist yet; returns how many were created. */
export async function seedDemoUsers(auth: AuthService): Promise<number> {
  let created = 0;
  for (const user of demoUsers) {
    if ((await auth.findUser(user.username)) !== null) continue;
    await auth.createUser(
      {
        username: user.username,
        displayName: user.displayName,
        groups: user.groups,
        accountIds: user.accountIds,
        ...(user.program === true ? {} : { password: demoPassword, totpSecret: demoTotpSecret(user.username) }),
      },
      "system",
    );
    created += 1;
  }
  return created;
}
