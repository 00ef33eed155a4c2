/**
 * The dashboard's run-time configuration, read from /config.json at start-up so
 * one build serves every environment: the platform generates it, a CDN or nginx
 * deployment mounts its own.
 */

export interface DashboardConfig {
  /** Origin of the API and WebSocket; "" = the origin the dashboard was loaded from. */
  readonly apiUrl: string;
  /** How often batched live updates are repainted, in milliseconds. */
  readonly refreshRate: number;
  /** Currency for amounts that name none, and for totals. */
  readonly currency: string;
  /** Whether "Sign in with corporate SSO" is offered. */
  readonly sso: boolean;
}

export const defaultConfig: DashboardConfig = { apiUrl: "", refreshRate: 500, currency: "EUR", sso: false };

/** Bounds on the repaint period: faster wastes the main thread, slower feels stale. */
export const refreshRateMsMin = 50;
export const refreshRateMsMax = 5_000;

/** Validates a parsed config.json; unknown or malformed fields fall back to the defaults. */
export function parseConfig(value: unknown): DashboardConfig {
  if (typeof value !== "object" || value === null) return defaultConfig;
  const raw = value as Record<string, unknown>;
  const apiUrl = typeof raw.apiUrl === "string" && (raw.apiUrl === "" || /^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(raw.apiUrl)) ? raw.apiUrl.replace(/\/$/, "") : defaultConfig.apiUrl;
  const refreshRate = typeof raw.refreshRate === "number" && Number.isInteger(raw.refreshRate) ? Math.min(refreshRateMsMax, Math.max(refreshRateMsMin, raw.refreshRate)) : defaultConfig.refreshRate;
  const currency = typeof raw.currency === "string" && /^[A-Z]{3}$/.test(raw.currency) ? raw.currency : defaultConfig.currency;
  const sso = raw.sso === true;
  return { apiUrl, refreshRate, currency, sso };
}

export async function loadConfig(): Promise<DashboardConfig> {
  try {
    const response = await fetch("/config.json", { cache: "no-cache" });
    if (!response.ok) return defaultConfig;
    return parseConfig(await response.json());
  } catch {
    return defaultConfig;
  }
}

/** The WebSocket URL for an API origin ("" = this page's origin). */
export function wsUrl(apiUrl: string, location: { protocol: string; host: string }): string {
  if (apiUrl === "") return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  return `${apiUrl.replace(/^http/, "ws")}/ws`;
}
