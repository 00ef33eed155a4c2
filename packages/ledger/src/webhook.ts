/**
 * Signed webhooks from payment providers. The provider signs `<timestamp>.<body>`
 * with HMAC-SHA256 under a shared secret and sends `t=<unix seconds>,v1=<hex>` in
 * the `tradestream-signature` header (several `v1` values are allowed while a secret
 * rotates). A request is accepted only when a signature matches under one of the
 * configured secrets (compared in constant time) and its timestamp is within the
 * tolerance of the clock; replays inside that window are caught by the event id,
 * which the payments service records in the same transaction as the effect.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { webhookToleranceSDefault } from "./limits.ts";

export const webhookSignatureHeader = "tradestream-signature";

/** The header value for `body` signed at `timestampS`. */
export function signWebhook(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, timestampS, body)}`;
}

export type WebhookVerdict =
  | { readonly status: "valid"; readonly timestampS: number }
  | { readonly status: "missing_signature" | "malformed_signature" | "invalid_signature" | "stale_timestamp" };

export interface VerifyOptions {
  /** Current secret first; older ones still accepted during a rotation. */
  readonly secrets: readonly string[];
  readonly body: string;
  readonly header: string | undefined;
  readonly nowMs: number;
  readonly toleranceS?: number;
}

export function verifyWebhook(options: VerifyOptions): WebhookVerdict {
  const { header } = options;
  if (header === undefined || header === "") return { status: "missing_signature" };
  let timestampS: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [name, value] = part.trim().split("=", 2);
    if (value === undefined) return { status: "malformed_signature" };
    if (name === "t") {
      if (!/^[0-9]{1,12}$/.test(value)) return { status: "malformed_signature" };
      timestampS = Number(value);
    } else if (name === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return { status: "malformed_signature" };
      signatures.push(value);
    }
  }
  if (timestampS === null || signatures.length === 0) return { status: "malformed_signature" };
  const toleranceS = options.toleranceS ?? webhookToleranceSDefault;
  let matched = false;
  for (const secret of options.secrets) {
    const expected = Buffer.from(hmacHex(secret, timestampS, options.body), "hex");
    for (const signature of signatures) {
      // Check every candidate rather than stopping early: timing reveals nothing about which matched.
      if (timingSafeEqual(expected, Buffer.from(signature, "hex"))) matched = true;
    }
  }
  if (!matched) return { status: "invalid_signature" };
  if (Math.abs(options.nowMs / 1_000 - timestampS) > toleranceS) return { status: "stale_timestamp" };
  return { status: "valid", timestampS };
}

function hmacHex(secret: string, timestampS: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestampS}.${body}`).digest("hex");
}
