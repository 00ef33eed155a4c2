/**
 * Keys and primitives. All server-side keys are derived from the one server
 * secret with HKDF-SHA256, each under its own `info` string, so no key is ever
 * used for two purposes and none has to be configured separately.
 *
 * Values that must be read back (API-key HMAC keys, TOTP secrets) are sealed with
 * AES-256-GCM: a fresh 96-bit IV per value, and the row's identity as associated
 * data so a sealed value copied into another row does not open. Every sealed value
 * records the id of its key so that a later key rotation can tell them apart.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";

export const serverSecretBytesMin = 32;

const hkdfSalt = "tradestream/auth/v1";
const ivBytes = 12;
const tagBytes = 16;

export interface SealingKey {
  readonly id: string;
  readonly key: Buffer;
}

export interface ServerKeys {
  readonly jwt: Uint8Array;
  readonly apiKeySealing: SealingKey;
  readonly totpSealing: SealingKey;
}

export function deriveServerKeys(secret: Uint8Array): ServerKeys {
  if (secret.byteLength < serverSecretBytesMin) {
    throw new Error(`The server secret must be at least ${serverSecretBytesMin} bytes long.`);
  }
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, hkdfSalt, info, 32));
  const sealing = (info: string): SealingKey => {
    const key = derive(info);
    // A fingerprint, not the key: 64 bits of a hash of it identify it for rotation.
    return { id: createHash("sha256").update("key-id:").update(key).digest("hex").slice(0, 16), key };
  };
  return {
    jwt: derive("jwt-hs256"),
    apiKeySealing: sealing("api-key-hmac-sealing"),
    totpSealing: sealing("totp-secret-sealing"),
  };
}

/** AES-256-GCM; the result is base64url(iv ‖ ciphertext ‖ tag). */
export function seal(sealing: SealingKey, plaintext: Uint8Array, context: string): string {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv("aes-256-gcm", sealing.key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

export function unseal(sealing: SealingKey, keyId: string, sealed: string, context: string): Buffer {
  if (keyId !== sealing.id) {
    throw new Error(`A value sealed under key ${keyId} cannot be opened: this server holds key ${sealing.id}.`);
  }
  const raw = Buffer.from(sealed, "base64url");
  if (raw.byteLength < ivBytes + tagBytes) throw new Error("A sealed value is truncated.");
  const decipher = createDecipheriv("aes-256-gcm", sealing.key, raw.subarray(0, ivBytes));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(raw.subarray(raw.byteLength - tagBytes));
  return Buffer.concat([decipher.update(raw.subarray(ivBytes, raw.byteLength - tagBytes)), decipher.final()]);
}

export function sha256(data: string | Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** An unguessable token: `bytes` random bytes in base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Compares two strings without leaking where they differ; false when the lengths differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.byteLength === right.byteLength && timingSafeEqual(left, right);
}

export function hmacSha256(key: Uint8Array, message: string): Buffer {
  return createHmac("sha256", key).update(message).digest();
}
