/**
 * A small API client for tests and the load generator: JSON over fetch, sign-in
 * with password + TOTP, and API-key request signing.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { generateTotp, signatureHeaders, signRequest } from "@tradestream/auth";
import { demoPassword, demoTotpSecret } from "./demo-users.ts";

export interface Response<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface ApiKey {
  readonly keyId: string;
  readonly secret: string;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token: string | null = null,
    public apiKey: ApiKey | null = null,
  ) {}

  /** The refresh token of the last sign-in through signIn. */
  refreshToken: string | null = null;

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Response<T>> {
    const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    const headers: Record<string, string> = { ...extraHeaders };
    if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    if (this.apiKey !== null) {
      const timestamp = String(Date.now());
      const nonce = randomBytes(12).toString("base64url");
      headers[signatureHeaders.keyId] = this.apiKey.keyId;
      headers[signatureHeaders.timestamp] = timestamp;
      headers[signatureHeaders.nonce] = nonce;
      headers[signatureHeaders.signature] = signRequest(this.apiKey.secret, { timestamp, nonce, method, path, body: text });
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: text }), redirect: "manual" });
    const raw = await response.text();
    let parsed: unknown = raw;
    try {
      parsed = raw === "" ? {} : JSON.parse(raw);
    } catch {
      // Not JSON (metrics, docs): keep the text.
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get<T = Record<string, unknown>>(path: string): Promise<Response<T>> {
    return this.request<T>("GET", path);
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<Response<T>> {
    return this.request<T>("POST", path, body ?? {});
  }

  /** Signs in a demo user with the demo password and the current TOTP code. */
  static async signIn(baseUrl: string, username: string, password = demoPassword): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    const login = await client.post<{ mfaRequired?: boolean; mfaToken?: string; accessToken?: string }>("/api/v1/auth/login", { username, password });
    if (login.status !== 200) throw new Error(`login of ${username} failed: ${login.status} ${JSON.stringify(login.body)}`);
    if (login.body.mfaRequired === true) {
      const mfa = await client.post<{ accessToken?: string; refreshToken?: string }>("/api/v1/auth/mfa", { mfaToken: login.body.mfaToken, code: generateTotp(demoTotpSecret(username), Date.now()) });
      if (mfa.status !== 200 || mfa.body.accessToken === undefined) throw new Error(`mfa of ${username} failed: ${mfa.status} ${JSON.stringify(mfa.body)}`);
      client.token = mfa.body.accessToken;
      client.refreshToken = mfa.body.refreshToken ?? null;
    } else {
      if (login.body.accessToken === undefined) throw new Error(`login of ${username} returned no token`);
      client.token = login.body.accessToken;
    }
    return client;
  }
}

/** A TCP port that was free a moment ago on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
