/**
 * Second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps, as every
 * authenticator app expects) and single-use recovery codes.
 *
 * A code is accepted for the current step and one step either side (clock drift
 * of a phone), and only for a step later than the last one accepted for that
 * user, so an observed code cannot be replayed even inside its window.
 */
import QRCode from "qrcode";
import { Secret, TOTP } from "otpauth";
import { constantTimeEqual, sha256Hex } from "./crypto.ts";
import { randomBytes } from "node:crypto";

export const totpIssuer = "TradeStream";
export const totpStepMs = 30_000;
export const totpDigits = 6;
/** Steps accepted either side of the current one. */
export const totpWindowSteps = 1;
export const totpSecretBytes = 20;
/** The shortest secret accepted for a pre-enrolled user: 80 bits, as RFC 4226 requires at least. */
export const totpSecretBase32CharsMin = 16;
export const recoveryCodeCount = 10;

const totpCodePattern = /^[0-9]{6}$/;
const base32Pattern = /^[A-Z2-7]+=*$/;

export function isTotpCode(code: string): boolean {
  return totpCodePattern.test(code);
}

export function isBase32Secret(secret: string): boolean {
  return secret.length >= totpSecretBase32CharsMin && base32Pattern.test(secret);
}

export function newTotpSecret(): string {
  return new Secret({ size: totpSecretBytes }).base32;
}

/** The code of `secret` (base32) at `atMs`. For tests, the simulator and the demo. */
export function generateTotp(secret: string, atMs: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: atMs, digits: totpDigits, period: totpStepMs / 1000, algorithm: "SHA1" });
}

export function totpStep(atMs: number): number {
  return Math.floor(atMs / totpStepMs);
}

/** The step `code` belongs to, if it is in the window around `nowMs` and later than `lastStep`; else null. */
export function matchTotp(secret: string, code: string, nowMs: number, lastStep: number): number | null {
  if (!isTotpCode(code)) return null;
  for (let delta = -totpWindowSteps; delta <= totpWindowSteps; delta += 1) {
    const atMs = nowMs + delta * totpStepMs;
    const step = totpStep(atMs);
    if (step > lastStep && constantTimeEqual(generateTotp(secret, atMs), code)) return step;
  }
  return null;
}

export function otpauthUri(secret: string, username: string): string {
  return new TOTP({ issuer: totpIssuer, label: username, secret: Secret.fromBase32(secret), digits: totpDigits, period: totpStepMs / 1000, algorithm: "SHA1" }).toString();
}

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}

const recoveryAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";

/**
 * Ten codes of 16 characters from a 32-letter alphabet (80 bits each), grouped
 * in fours for reading. Their entropy is what makes a plain SHA-256 at rest safe.
 */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: recoveryCodeCount }, () => {
    const bytes = randomBytes(16);
    let code = "";
    for (const byte of bytes) code += recoveryAlphabet[byte & 31] ?? "";
    return code.match(/.{4}/g)?.join("-") ?? code;
  });
}

/** Case, spaces and dashes do not matter when a person types a recovery code. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

export function recoveryCodeHash(code: string): string {
  return sha256Hex(`recovery:${normalizeRecoveryCode(code)}`);
}
