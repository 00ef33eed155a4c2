/**
 * The dashboard's static serving and the edge's security headers, attacked: path
 * traversal (plain, encoded, double-encoded), symbolic links out of the build,
 * reserved API paths spelt so the router still matches them, caching decided by
 * where a file is (not how its URL was spelt), HEAD, very long paths, other
 * methods — and the headers of HTML against API responses. Raw HTTP requests are
 * used where a client library would normalize the path first.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDashboardConfig, defaultGatewayConfig } from "@tradestream/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "./test-client.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig } from "./test-platform.ts";

let platform: Platform;
let base: string;

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with the path sent exactly as written (no normalization of `..` or escapes). */
function raw(path: string, method = "GET", headers: Record<string, string> = {}): Promise<RawResponse> {
  const url = new URL(platform.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "ts-dash-sec-"));
  const dist = join(base, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log(1)");
  writeFileSync(join(dist, ".env"), "SECRET=dotfile");
  writeFileSync(join(base, "outside-secret.txt"), "TOP SECRET outside");
  symlinkSync(join(base, "outside-secret.txt"), join(dist, "leak.txt"));
  symlinkSync(base, join(dist, "assets", "up"));
  platform = await startPlatform(testConfig({ seed: 31, gateway: { ...defaultGatewayConfig, dashboard: { ...defaultDashboardConfig, dir: dist } } }));
});

afterAll(async () => {
  await platform.close();
  rmSync(base, { recursive: true, force: true });
});

describe("dashboard static files", () => {
  it("never serves a file outside the build, however the path is spelt", async () => {
    for (const path of ["/../outside-secret.txt", "/%2e%2e/outside-secret.txt", "/..%2foutside-secret.txt", "/%2e%2e%2foutside-secret.txt", "/..%5coutside-secret.txt", "/%252e%252e/outside-secret.txt", "/assets/..%2f..%2foutside-secret.txt", "/index.html%00.js"]) {
      const response = await raw(path);
      expect(response.body, path).not.toContain("TOP SECRET");
    }
  });

  it("does not follow a symbolic link out of the build", async () => {
    const direct = await raw("/leak.txt");
    expect(direct.body).not.toContain("TOP SECRET");
    expect(direct.status).toBe(404);
    const viaDirectory = await raw("/assets/up/outside-secret.txt");
    expect(viaDirectory.body).not.toContain("TOP SECRET");
    expect(viaDirectory.status).toBe(404);
  });

  it("never serves dot-files", async () => {
    for (const path of ["/.env", "/%2eenv", "/assets/../.env"]) {
      const response = await raw(path);
      expect(response.body, path).not.toContain("SECRET=dotfile");
    }
  });

  it("answers the JSON 404 for reserved paths, also percent-encoded or in another case", async () => {
    for (const path of ["/api/v1/nope", "/%61pi/v1/nope", "/api%2Fv1/nope", "/API/v1/nope", "//api/v1/nope", "/%77s", "/metrics%2fx", "/Docs/x"]) {
      const response = await raw(path);
      expect(response.status, path).toBe(404);
      expect(response.headers["content-type"], path).toMatch(/application\/json/);
      expect(response.body, path).not.toContain("<title>app</title>");
    }
  });

  it("caches only real assets for a year, whatever the URL's spelling", async () => {
    const asset = await raw("/assets/app-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    for (const path of ["/assets/../index.html", "/assets/%2e%2e/index.html", "/", "/orders/42"]) {
      const response = await raw(path);
      if (response.status === 200) expect(response.headers["cache-control"], path).toBe("no-cache");
    }
    const config = await raw("/config.json");
    expect(config.headers["cache-control"]).toBe("no-cache");
    expect(config.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("answers HEAD without a body, refuses other methods, and survives very long paths", async () => {
    const head = await raw("/", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(head.headers["content-type"]).toBe("text/html; charset=utf-8");
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = await raw("/index.html", method);
      expect(response.status, method).toBe(404);
      expect(response.headers["content-type"], method).toMatch(/application\/json/);
    }
    const long = await raw(`/${"a".repeat(8_000)}.js`);
    expect(long.status).toBe(404);
    expect(long.body.length).toBeLessThan(1_000);
    const longRoute = await raw(`/${"b".repeat(8_000)}`);
    expect(longRoute.status).toBe(200);
  });
});

describe("security headers", () => {
  it("HTML gets the strict page policy; the API a policy that allows nothing and is never stored", async () => {
    const page = await raw("/");
    const pageCsp = String(page.headers["content-security-policy"]);
    expect(pageCsp).toContain("default-src 'self'");
    expect(pageCsp).toContain("frame-ancestors 'none'");
    expect(pageCsp).not.toContain("unsafe-inline");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    const api = await raw("/api/v1/markets");
    expect(api.headers["cache-control"]).toBe("no-store");
    expect(String(api.headers["content-security-policy"])).toMatch(/^default-src 'none'/);
    expect(api.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("an API route reached by a percent-encoded path still gets no-store", async () => {
    const trader = await ApiClient.signIn(platform.url, "trader1");
    const response = await raw("/%61pi/v1/auth/me", "GET", { authorization: `Bearer ${trader.token ?? ""}` });
    expect(response.status).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(String(response.headers["content-security-policy"])).toMatch(/^default-src 'none'/);
  });

  it("names no WebSocket address from a Host header that is not a plain host", async () => {
    const response = await raw("/", "GET", { host: "evil.example; script-src *" });
    expect(String(response.headers["content-security-policy"])).not.toContain("evil");
  });
});
