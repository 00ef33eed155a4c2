/**
 * Signed requests for programmatic trading with API keys.
 *
 * The client holds the secret shown once at creation. Both sides use
 * SHA-256(secret) as the HMAC key, so the server never needs the secret itself:
 * it keeps SHA-256(secret) only sealed with AES-256-GCM (see crypto.ts), and a
 * stolen database alone cannot sign requests. The signature is the hex
 * HMAC-SHA256 of the canonical string
 *
 *   `${timestamp}\n${nonce}\n${METHOD}\n${path}\n${sha256hex(body)}`
 *
 * where timestamp is milliseconds since the epoch as a decimal string and path is
 * the path plus query exactly as sent.
 *
 * Replay protection: a request is accepted only while its timestamp is within the
 * tolerance of the server clock, and its nonce only once within that window. The
 * nonce memory is per process and bounded (NonceCache); with several gateway
 * replicas a replay could be accepted once per replica inside the window. A
 * shared (Redis) nonce store is future work.
 */
import { hmacSha256, sha256, sha256Hex } from "./crypto.ts";

export const signatureHeaders = {
  keyId: "x-ts-key",
  timestamp: "x-ts-timestamp",
  nonce: "x-ts-nonce",
  signature: "x-ts-signature",
} as const;

export interface SignedParts {
  readonly timestamp: string;
  readonly nonce: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export const noncePattern = /^[A-Za-z0-9_-]{8,64}$/;
export const timestampPattern = /^[0-9]{1,16}$/;
export const signaturePattern = /^[0-9a-f]{64}$/;
export const apiKeyIdPattern = /^ak_[0-9a-f]{24}$/;

export function canonicalRequest(parts: SignedParts): string {
  return `${parts.timestamp}\n${parts.nonce}\n${parts.method.toUpperCase()}\n${parts.path}\n${sha256Hex(parts.body)}`;
}

/** The HMAC key both sides derive from an API key secret. */
export function apiKeyHmacKey(secret: string): Buffer {
  return sha256(secret);
}

export function signWithKey(hmacKey: Uint8Array, parts: SignedParts): string {
  return hmacSha256(hmacKey, canonicalRequest(parts)).toString("hex");
}

/** For clients: the hex signature of a request under an API key secret. */
export function signRequest(secret: string, parts: SignedParts): string {
  return signWithKey(apiKeyHmacKey(secret), parts);
}

/** Nonces per process in the replay window; past this, signed requests are refused until entries expire. */
export const nonceCacheEntriesMax = 100_000;

/**
 * Remembers (key, nonce) pairs until their request's timestamp leaves the
 * tolerance window, after which the timestamp check alone rejects a replay.
 */
export class NonceCache {
  readonly #expiresAtMs = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity = nonceCacheEntriesMax) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#expiresAtMs.size;
  }

  /** "fresh" records the nonce; "replayed" if it is already remembered; "full" if there is no room. */
  remember(keyId: string, nonce: string, expiresAtMs: number, nowMs: number): "fresh" | "replayed" | "full" {
    const entry = `${keyId}:${nonce}`;
    const known = this.#expiresAtMs.get(entry);
    if (known !== undefined && known >= nowMs) return "replayed";
    if (this.#expiresAtMs.size >= this.#capacity) this.#prune(nowMs);
    if (this.#expiresAtMs.size >= this.#capacity) return "full";
    this.#expiresAtMs.set(entry, expiresAtMs);
    return "fresh";
  }

  #prune(nowMs: number): void {
    for (const [entry, expiresAtMs] of this.#expiresAtMs) {
      if (expiresAtMs < nowMs) this.#expiresAtMs.delete(entry);
    }
  }
}
