// Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", timestamp tolerance, secret rotation.
import { describe, expect, it } from "vitest";
import { webhookToleranceSDefault } from "./limits.ts";
import { signWebhook, verifyWebhook } from "./webhook.ts";

const secret = "whsec_test_0123456789abcdef";
const body = '{"eventId":"evt_1","paymentId":"pay_1","providerRef":"sim_1","outcome":"succeeded"}';
const nowMs = 1_767_225_600_000;
const nowS = nowMs / 1_000;

describe("webhook signatures", () => {
  it("accepts a correct signature within the tolerance, at the limit and not past it", () => {
    const header = signWebhook(secret, body, nowS);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook({ secrets: [secret], body, header, nowMs })).toEqual({ status: "valid", timestampS: nowS });
    const atLimit = signWebhook(secret, body, nowS - webhookToleranceSDefault);
    expect(verifyWebhook({ secrets: [secret], body, header: atLimit, nowMs }).status).toBe("valid");
    const past = signWebhook(secret, body, nowS - webhookToleranceSDefault - 1);
    expect(verifyWebhook({ secrets: [secret], body, header: past, nowMs }).status).toBe("stale_timestamp");
    const future = signWebhook(secret, body, nowS + webhookToleranceSDefault + 1);
    expect(verifyWebhook({ secrets: [secret], body, header: future, nowMs }).status).toBe("stale_timestamp");
    expect(verifyWebhook({ secrets: [secret], body, header: signWebhook(secret, body, nowS - 10), nowMs, toleranceS: 5 }).status).toBe("stale_timestamp");
  });

  it("refuses a changed body, a wrong secret, a changed timestamp and malformed headers", () => {
    const header = signWebhook(secret, body, nowS);
    expect(verifyWebhook({ secrets: [secret], body: body.replace("succeeded", "failed"), header, nowMs }).status).toBe("invalid_signature");
    expect(verifyWebhook({ secrets: ["another_secret_of_length"], body, header, nowMs }).status).toBe("invalid_signature");
    expect(verifyWebhook({ secrets: [secret], body, header: header.replace(`t=${nowS}`, `t=${nowS + 1}`), nowMs }).status).toBe("invalid_signature");
    expect(verifyWebhook({ secrets: [secret], body, header: undefined, nowMs }).status).toBe("missing_signature");
    expect(verifyWebhook({ secrets: [secret], body, header: "", nowMs }).status).toBe("missing_signature");
    for (const bad of ["garbage", `t=${nowS}`, "v1=" + "a".repeat(64), `t=abc,v1=${"a".repeat(64)}`, `t=${nowS},v1=XYZ`]) {
      expect(verifyWebhook({ secrets: [secret], body, header: bad, nowMs }).status, bad).toBe("malformed_signature");
    }
  });

  it("accepts the previous secret during a rotation and any matching v1 of several", () => {
    const old = "whsec_old_secret_0000000";
    const header = signWebhook(old, body, nowS);
    expect(verifyWebhook({ secrets: [secret], body, header, nowMs }).status).toBe("invalid_signature");
    expect(verifyWebhook({ secrets: [secret, old], body, header, nowMs }).status).toBe("valid");
    const both = `${signWebhook(secret, body, nowS)},v1=${signWebhook(old, body, nowS).split("v1=")[1] ?? ""}`;
    expect(verifyWebhook({ secrets: [old], body, header: both, nowMs }).status).toBe("valid");
  });
});
