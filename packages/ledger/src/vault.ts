/**
 * The card vault. A card number (PAN) is validated (digits only after removing
 * spaces and dashes, 12..19 of them, Luhn check) and stored only here, sealed with
 * AES-256-GCM under the active key: a fresh 96-bit IV per card, the token as
 * associated data (a sealed PAN copied into another row does not open), and the key
 * id beside it. Only the token, the last four digits and the brand ever leave; the
 * PAN itself is handed, unlogged, to a provider adapter through `withPan`.
 *
 * Keys come from configuration (`parseVaultKeys`). Rotation: configure a new key,
 * make it active, keep the old ones; every card still opens, and `rotate()` re-seals
 * the cards under the active key so that old keys can later be retired.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type Sql, migrate } from "@tradestream/store";
import { panDigitsMax, panDigitsMin, vaultRotationBatchMax } from "./limits.ts";
import { type LedgerLogger, createStderrLogger } from "./logger.ts";
import { ledgerMigrations } from "./migrations.ts";

export interface VaultKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

export interface VaultOptions {
  readonly keys: readonly VaultKey[];
  /** The key new cards are sealed with and `rotate()` moves cards to. */
  readonly activeKeyId: string;
  readonly clock?: { nowMs(): number };
  readonly logger?: LedgerLogger;
}

export type CardBrand = "visa" | "mastercard" | "amex" | "discover" | "other";

export interface CardView {
  readonly token: string;
  readonly lastFour: string;
  readonly brand: CardBrand;
}

export type TokenizeOutcome = { readonly status: "ok"; readonly card: CardView } | { readonly status: "invalid_pan" };

const keyIdPattern = /^[A-Za-z0-9_.-]{1,32}$/;
const tokenPattern = /^card_[A-Za-z0-9_-]{32}$/;
const ivBytes = 12;
const tagBytes = 16;

/** Parses `id:base64key[,id:base64key…]` (each key 32 bytes), the form keys take in configuration. */
export function parseVaultKeys(text: string): VaultKey[] {
  const keys: VaultKey[] = [];
  for (const part of text.split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const colon = trimmed.indexOf(":");
    const id = colon < 0 ? "" : trimmed.slice(0, colon);
    if (!keyIdPattern.test(id)) throw new Error(`A vault key id must match ${String(keyIdPattern)}.`);
    const key = Buffer.from(trimmed.slice(colon + 1), "base64");
    if (key.byteLength !== 32) throw new Error(`Vault key ${id} must be 32 bytes (base64), not ${key.byteLength}.`);
    keys.push({ id, key });
  }
  return keys;
}

/** The Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The digits of a PAN when it is a valid card number, else null. */
export function normalizePan(pan: string): string | null {
  const digits = pan.replace(/[ -]/g, "");
  if (!/^[0-9]+$/.test(digits) || digits.length < panDigitsMin || digits.length > panDigitsMax) return null;
  return luhnValid(digits) ? digits : null;
}

export function brandOf(digits: string): CardBrand {
  if (digits.startsWith("4")) return "visa";
  if (/^(5[1-5]|2[2-7])/.test(digits)) return "mastercard";
  if (/^3[47]/.test(digits)) return "amex";
  if (/^(6011|65)/.test(digits)) return "discover";
  return "other";
}

export class CardVault {
  readonly #sql: Sql;
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #activeKeyId: string;
  readonly #clock: { nowMs(): number };
  readonly #logger: LedgerLogger;

  private constructor(sql: Sql, options: VaultOptions) {
    const keys = new Map<string, Buffer>();
    for (const { id, key } of options.keys) {
      if (!keyIdPattern.test(id)) throw new Error(`A vault key id must match ${String(keyIdPattern)}.`);
      if (key.byteLength !== 32) throw new Error(`Vault key ${id} must be 32 bytes.`);
      if (keys.has(id)) throw new Error(`Vault key ${id} is configured twice.`);
      keys.set(id, Buffer.from(key));
    }
    if (!keys.has(options.activeKeyId)) throw new Error(`The active vault key ${options.activeKeyId} is not among the configured keys.`);
    this.#sql = sql;
    this.#keys = keys;
    this.#activeKeyId = options.activeKeyId;
    this.#clock = options.clock ?? { nowMs: () => Date.now() };
    this.#logger = options.logger ?? createStderrLogger("ledger.vault");
  }

  static async open(sql: Sql, options: VaultOptions): Promise<CardVault> {
    const vault = new CardVault(sql, options);
    await migrate(sql, "ledger", ledgerMigrations);
    return vault;
  }

  get activeKeyId(): string {
    return this.#activeKeyId;
  }

  /** Validates and stores a card number; returns its token. */
  async tokenize(pan: string): Promise<TokenizeOutcome> {
    const digits = normalizePan(pan);
    if (digits === null) {
      this.#logger.info("card refused: not a valid card number");
      return { status: "invalid_pan" };
    }
    const token = `card_${randomBytes(24).toString("base64url")}`;
    const card: CardView = { token, lastFour: digits.slice(-4), brand: brandOf(digits) };
    const nowMs = this.#clock.nowMs();
    await this.#sql.query(
      "INSERT INTO ledger_card_vault (token, key_id, sealed, last_four, brand, created_at_ms, sealed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $6)",
      [token, this.#activeKeyId, this.#seal(this.#activeKeyId, digits, token), card.lastFour, card.brand, nowMs],
    );
    this.#logger.info("card tokenized", { token, lastFour: card.lastFour, brand: card.brand, keyId: this.#activeKeyId });
    return { status: "ok", card };
  }

  /** The card's public view, or null for an unknown token. */
  async describe(token: string): Promise<CardView | null> {
    if (!tokenPattern.test(token)) return null;
    const [row] = await this.#sql.query<{ last_four: string; brand: CardBrand }>("SELECT last_four, brand FROM ledger_card_vault WHERE token = $1", [token]);
    return row === undefined ? null : { token, lastFour: row.last_four, brand: row.brand };
  }

  /**
   * Opens the card and hands its number to `use` (a provider adapter charging it).
   * The number is never returned, stored or logged by the vault.
   */
  async withPan<T>(token: string, use: (pan: string) => Promise<T>): Promise<{ readonly status: "ok"; readonly value: T } | { readonly status: "unknown_token" }> {
    if (!tokenPattern.test(token)) return { status: "unknown_token" };
    const [row] = await this.#sql.query<{ key_id: string; sealed: string }>("SELECT key_id, sealed FROM ledger_card_vault WHERE token = $1", [token]);
    if (row === undefined) return { status: "unknown_token" };
    return { status: "ok", value: await use(this.#open(row.key_id, row.sealed, token)) };
  }

  /** Re-seals every card not under the active key with the active key; returns how many moved. */
  async rotate(): Promise<{ readonly resealed: number }> {
    let resealed = 0;
    for (;;) {
      const moved = await this.#sql.transaction(async (tx) => {
        const rows = await tx.query<{ token: string; key_id: string; sealed: string }>(
          "SELECT token, key_id, sealed FROM ledger_card_vault WHERE key_id <> $1 ORDER BY token LIMIT $2 FOR UPDATE",
          [this.#activeKeyId, vaultRotationBatchMax],
        );
        const nowMs = this.#clock.nowMs();
        for (const row of rows) {
          const sealed = this.#seal(this.#activeKeyId, this.#open(row.key_id, row.sealed, row.token), row.token);
          await tx.query("UPDATE ledger_card_vault SET key_id = $2, sealed = $3, sealed_at_ms = $4 WHERE token = $1", [row.token, this.#activeKeyId, sealed, nowMs]);
        }
        return rows.length;
      });
      resealed += moved;
      if (moved < vaultRotationBatchMax) break;
    }
    this.#logger.info("vault keys rotated", { resealed, keyId: this.#activeKeyId });
    return { resealed };
  }

  /** Cards per key id, to see when an old key can be retired. */
  async cardsPerKey(): Promise<Map<string, number>> {
    const rows = await this.#sql.query<{ key_id: string; n: number }>("SELECT key_id, count(*)::int AS n FROM ledger_card_vault GROUP BY key_id");
    return new Map(rows.map((row) => [row.key_id, row.n]));
  }

  #seal(keyId: string, digits: string, token: string): string {
    const key = this.#key(keyId);
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(token));
    const body = Buffer.concat([cipher.update(digits, "utf8"), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
  }

  #open(keyId: string, sealed: string, token: string): string {
    const key = this.#key(keyId);
    const raw = Buffer.from(sealed, "base64");
    if (raw.byteLength < ivBytes + tagBytes) throw new Error(`The sealed card ${token} is truncated.`);
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(token));
    decipher.setAuthTag(raw.subarray(raw.byteLength - tagBytes));
    return Buffer.concat([decipher.update(raw.subarray(ivBytes, raw.byteLength - tagBytes)), decipher.final()]).toString("utf8");
  }

  #key(keyId: string): Buffer {
    const key = this.#keys.get(keyId);
    if (key === undefined) throw new Error(`Vault key ${keyId} is not configured; it is needed to open cards sealed with it.`);
    return key;
  }
}
