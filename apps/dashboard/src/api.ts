/**
 * REST client and session. Every call carries the access token; an expired one
 * is refreshed once (single flight) and the call retried, and tokens are also
 * refreshed a minute before they expire. When the refresh itself fails the
 * session is marked expired and the app asks for the password again in place,
 * without unmounting anything (a half-filled order ticket survives). The tokens
 * live in memory and sessionStorage (this tab only), never in a URL.
 */
import type { User } from "./types.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Wall-clock ms when the access token expires. */
  readonly expiresAtMs: number;
}

interface TokenAnswer {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

const storageKey = "tradestream.session";
/** Refresh this long before the access token expires. */
const refreshAheadMs = 60_000;

export type SessionState = "signed_out" | "active" | "expired";

export class Session {
  private tokens: Tokens | null = null;
  private refreshing: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  state: SessionState = "signed_out";
  user: User | null = null;

  constructor(readonly apiUrl: string) {}

  /** Restores the tab's session after a reload; false when there is none. */
  restore(): boolean {
    try {
      const saved = sessionStorage.getItem(storageKey);
      if (saved === null) return false;
      const parsed = JSON.parse(saved) as Partial<Tokens>;
      if (typeof parsed.accessToken !== "string" || typeof parsed.refreshToken !== "string" || typeof parsed.expiresAtMs !== "number") return false;
      this.setTokens({ accessToken: parsed.accessToken, refreshToken: parsed.refreshToken, expiresAtMs: parsed.expiresAtMs });
      return true;
    } catch {
      return false;
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  get accessToken(): string | null {
    return this.tokens?.accessToken ?? null;
  }

  /** Stores tokens from a sign-in, a refresh or a single sign-on. */
  accept(answer: TokenAnswer): void {
    this.setTokens({ accessToken: answer.accessToken, refreshToken: answer.refreshToken, expiresAtMs: Date.now() + answer.expiresIn * 1000 });
  }

  private setTokens(tokens: Tokens): void {
    this.tokens = tokens;
    this.state = "active";
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(tokens));
    } catch {
      // Storage may be disabled; the session then lasts as long as the page.
    }
    if (this.timer !== null) clearTimeout(this.timer);
    const inMs = Math.max(5_000, tokens.expiresAtMs - Date.now() - refreshAheadMs);
    this.timer = setTimeout(() => void this.refresh(), inMs);
    this.emit();
  }

  clear(state: SessionState = "signed_out"): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.tokens = null;
    this.state = state;
    if (state === "signed_out") this.user = null;
    try {
      sessionStorage.removeItem(storageKey);
    } catch {
      // Nothing stored.
    }
    this.emit();
  }

  /** A fresh access token, refreshing first when it is about to expire; null when signed out. */
  async freshToken(): Promise<string | null> {
    if (this.tokens === null) return null;
    if (this.tokens.expiresAtMs - Date.now() < 5_000) await this.refresh();
    return this.tokens?.accessToken ?? null;
  }

  /** Exchanges the refresh token (once, however many callers ask at the same time). */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const refreshToken = this.tokens?.refreshToken;
    if (refreshToken === undefined) return false;
    try {
      const answer = await this.raw<TokenAnswer>("POST", "/api/v1/auth/refresh", { refreshToken }, null);
      this.accept(answer);
      return true;
    } catch (error) {
      // A network failure keeps the tokens (retry later); a refused refresh ends the session.
      if (error instanceof ApiError && error.status === 401) this.clear("expired");
      return false;
    }
  }

  private async raw<T>(method: string, path: string, body: unknown, token: string | null): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), credentials: "same-origin" });
    } catch {
      throw new ApiError(0, "network_error", "The platform cannot be reached; check the connection.");
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
      const code = typeof error?.code === "string" ? error.code : `http_${String(response.status)}`;
      const message = typeof error?.message === "string" ? error.message : `The platform answered ${String(response.status)}.`;
      throw new ApiError(response.status, code, message);
    }
    return parsed as T;
  }

  /** An authenticated call; retried once after a refresh when the token has expired. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.freshToken();
    try {
      return await this.raw<T>(method, path, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || token === null) throw error;
      if (!(await this.refresh())) throw error;
      return this.raw<T>(method, path, body, this.tokens?.accessToken ?? null);
    }
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** Calls without a token (sign-in steps). */
  anonymous<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.raw<T>(method, path, body, null);
  }

  async signOut(): Promise<void> {
    try {
      if (this.tokens !== null) await this.raw("POST", "/api/v1/auth/logout", {}, this.tokens.accessToken);
    } catch {
      // Signing out locally is enough when the server cannot be told.
    }
    this.clear("signed_out");
  }
}
