/**
 * Which trading account the dashboard trades and shows. A user with several
 * accounts picks one (remembered for the browser session, per user); a user
 * with one trades it; staff without an account trade none. The private
 * WebSocket channels and the blotter's REST loads name the account, so the
 * platform sends only its updates.
 */
import type { Subscription } from "./live.ts";
import type { User } from "./types.ts";

export const accountKeyPrefix = "tradestream.account.";

const accountKey = (userId: number): string => `${accountKeyPrefix}${String(userId)}`;

/** The account to start with: the one remembered for this session if it is still the user's, else the first. */
export function initialAccount(user: Pick<User, "userId" | "accountIds">): number | null {
  try {
    const saved = Number(sessionStorage.getItem(accountKey(user.userId)));
    if (Number.isSafeInteger(saved) && user.accountIds.includes(saved)) return saved;
  } catch {
    // No storage: start with the first account.
  }
  return user.accountIds[0] ?? null;
}

/** Remembers the picked account for the rest of the browser session. */
export function rememberAccount(userId: number, accountId: number): void {
  try {
    sessionStorage.setItem(accountKey(userId), String(accountId));
  } catch {
    // The choice then lasts as long as the page.
  }
}

/** The private channels of one account. */
export function accountSubscriptions(accountId: number): Subscription[] {
  return ["orders", "fills", "balances"].map((channel) => ({ channel, accountId }));
}

/** The blotter's history of one account over REST. */
export function accountHistoryPaths(accountId: number): { orders: string; fills: string } {
  const account = `accountId=${String(accountId)}`;
  return { orders: `/api/v1/orders?limit=500&${account}`, fills: `/api/v1/fills?limit=500&${account}` };
}
