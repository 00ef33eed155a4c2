// API keys and signed requests.
import { createHash } from "node:crypto";
import { testBackends } from "@tradestream/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthError } from "./errors.ts";
import { apiKeysPerUserMax, type ApiKeyCreated, type SignedRequest } from "./service.ts";
import { signRequest } from "./signature.ts";
import { type Harness, meta, openHarness } from "./test-harness.ts";

const pglite = (await testBackends()).find((b) => b.name === "pglite");
if (pglite === undefined) throw new Error("testBackends always offers PGlite");

async function failure(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error("expected an AuthError, but the call succeeded");
}

let h: Harness;
let userId: number;
let key: ApiKeyCreated;
let nonceSeq = 0;

function signed(change: Partial<Omit<SignedRequest, "signature">> = {}, signingSecret = key.secret): SignedRequest {
  nonceSeq += 1;
  const { keyId = key.keyId, ...rest } = change;
  const parts = {
    timestamp: String(h.clock.nowMs),
    nonce: `nonce-${String(nonceSeq).padStart(6, "0")}`,
    method: "POST",
    path: "/v1/orders?account=1001",
    body: '{"side":"buy","qty":"10"}',
    ...rest,
  };
  return { keyId, ...parts, signature: signRequest(signingSecret, parts) };
}

beforeEach(async () => {
  h = await openHarness(await pglite.open());
  userId = (await h.auth.createUser({ username: "simulator", groups: ["authorized-traders"], accountIds: [1001, 1002] })).userId;
  key = await h.auth.createApiKey(userId, " market maker ", meta);
});
afterEach(async () => {
  await h.close();
});

describe("API keys", () => {
  it("are created with a secret shown once, listed without it, and authenticate signed requests", async () => {
    expect(key).toMatchObject({ label: "market maker", createdAtMs: h.clock.nowMs });
    expect(key.keyId).toMatch(/^ak_[0-9a-f]{24}$/);
    expect(key.secret.length).toBeGreaterThanOrEqual(40);
    expect(await h.auth.listApiKeys(userId)).toEqual([{ keyId: key.keyId, label: "market maker", createdAtMs: h.clock.nowMs, lastUsedAtMs: null, revoked: false }]);
    h.clock.advance(1_000);
    const principal = await h.auth.authenticateSignature(signed(), meta);
    expect(principal).toEqual({
      userId,
      username: "simulator",
      groups: ["authorized-traders"],
      roles: ["trader"],
      accountIds: [1001, 1002],
      method: "api_key",
      sessionId: null,
      apiKeyId: key.keyId,
    });
    expect((await h.auth.listApiKeys(userId))[0]?.lastUsedAtMs).toBe(h.clock.nowMs);
  });

  it("keep neither the secret nor its hash in the clear", async () => {
    const dump = JSON.stringify(await h.sql.query("SELECT * FROM auth_api_keys"));
    const digest = createHash("sha256").update(key.secret).digest();
    expect(dump).not.toContain(key.secret);
    expect(dump).not.toContain(digest.toString("hex"));
    expect(dump).not.toContain(digest.toString("base64url"));
    expect(dump).not.toContain(digest.toString("base64"));
  });

  it("accept a timestamp exactly at the tolerance and refuse one past it, either way", async () => {
    await h.auth.authenticateSignature(signed({ timestamp: String(h.clock.nowMs - 30_000) }), meta);
    await h.auth.authenticateSignature(signed({ timestamp: String(h.clock.nowMs + 30_000) }), meta);
    expect((await failure(h.auth.authenticateSignature(signed({ timestamp: String(h.clock.nowMs - 30_001) }), meta))).code).toBe("signature_stale");
    expect((await failure(h.auth.authenticateSignature(signed({ timestamp: String(h.clock.nowMs + 30_001) }), meta))).code).toBe("signature_stale");
  });

  it("refuse a replayed nonce within the window", async () => {
    const request = signed();
    await h.auth.authenticateSignature(request, meta);
    expect((await failure(h.auth.authenticateSignature(request, meta))).code).toBe("nonce_replayed");
    // The same nonce under a new timestamp is still a replay while the first is in its window.
    h.clock.advance(10_000);
    const again = signed({ nonce: request.nonce });
    expect((await failure(h.auth.authenticateSignature(again, meta))).code).toBe("nonce_replayed");
    // Once the first request's window has passed, the stale check alone refuses it.
    h.clock.advance(21_000);
    expect((await failure(h.auth.authenticateSignature(request, meta))).code).toBe("signature_stale");
  });

  it("refuse a signature over a different body, path, method or secret", async () => {
    const request = signed();
    for (const tampered of [
      { ...request, body: '{"side":"buy","qty":"1000"}' },
      { ...request, path: "/v1/orders?account=1002" },
      { ...request, method: "DELETE" },
      { ...request, signature: request.signature.replace(/^./, (c) => (c === "0" ? "1" : "0")) },
    ]) {
      expect((await failure(h.auth.authenticateSignature(tampered, meta))).code).toBe("signature_invalid");
    }
    expect((await failure(h.auth.authenticateSignature(signed({}, "tsk_guessed-secret"), meta))).code).toBe("signature_invalid");
    expect((await failure(h.auth.authenticateSignature(signed({ keyId: "ak_000000000000000000000000" }), meta))).code).toBe("signature_invalid");
    // The method is canonicalised to upper case on both sides.
    await h.auth.authenticateSignature({ ...signed({ method: "post" }), method: "POST" }, meta);
  });

  it("refuse malformed nonces and timestamps", async () => {
    expect((await failure(h.auth.authenticateSignature(signed({ nonce: "short" }), meta))).code).toBe("validation_failed");
    expect((await failure(h.auth.authenticateSignature(signed({ nonce: "x".repeat(65) }), meta))).code).toBe("validation_failed");
    expect((await failure(h.auth.authenticateSignature(signed({ nonce: "has space!" }), meta))).code).toBe("validation_failed");
    await h.auth.authenticateSignature(signed({ nonce: "Ab_-".repeat(16) }), meta);
    expect((await failure(h.auth.authenticateSignature(signed({ timestamp: "12.5" }), meta))).code).toBe("validation_failed");
  });

  it("stop working once revoked; only their owner can revoke them", async () => {
    const other = await h.auth.createUser({ username: "trader9", groups: [], accountIds: [] });
    expect((await failure(h.auth.revokeApiKey(other.userId, key.keyId, meta))).code).toBe("unknown_api_key");
    await h.auth.authenticateSignature(signed(), meta);
    await h.auth.revokeApiKey(userId, key.keyId, meta);
    await h.auth.revokeApiKey(userId, key.keyId, meta);
    const refused = await failure(h.auth.authenticateSignature(signed(), meta));
    expect([refused.code, refused.message]).toEqual(["signature_invalid", "This API key has been revoked."]);
    expect((await h.auth.listApiKeys(userId))[0]?.revoked).toBe(true);
    const rejected = await h.auth.audit.list({ limit: 5, action: "api_key_signature_rejected" });
    expect(rejected[0]).toMatchObject({ actor: "simulator", target: key.keyId, outcome: "denied", detail: { reason: "revoked" } });
  });

  it(`allow at most ${apiKeysPerUserMax} active keys per user`, async () => {
    for (let n = 1; n < apiKeysPerUserMax; n += 1) await h.auth.createApiKey(userId, `key ${n}`, meta);
    expect((await failure(h.auth.createApiKey(userId, "one too many", meta))).code).toBe("validation_failed");
    await h.auth.revokeApiKey(userId, key.keyId, meta);
    await h.auth.createApiKey(userId, "replacement", meta);
  });

  it("validate labels and owners", async () => {
    expect((await failure(h.auth.createApiKey(userId, "   ", meta))).code).toBe("validation_failed");
    expect((await failure(h.auth.createApiKey(userId, "x".repeat(65), meta))).code).toBe("validation_failed");
    await h.auth.createApiKey(userId, "x".repeat(64), meta);
    expect((await failure(h.auth.createApiKey(4242, "bot", meta))).code).toBe("unknown_user");
    expect((await failure(h.auth.listApiKeys(4242))).code).toBe("unknown_user");
  });
});
