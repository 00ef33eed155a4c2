import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EgressClient, EgressRefusedError, egressDefaultHosts, parseEgressAllow } from "./egress.ts";

describe("egress allow-list", () => {
  const server = createServer((_request, response) => response.end("ok"));
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("allows the defaults and configured hosts, and wildcards only subdomains", () => {
    const egress = EgressClient.fromEnv({ EGRESS_ALLOW: " feeds.example.com, *.vendor.net ," });
    expect(egressDefaultHosts).toEqual(["api.london-stock-exchange.com", "api.sendgrid.com"]);
    expect(egress.allows("api.london-stock-exchange.com")).toBe(true);
    expect(egress.allows("API.SendGrid.com")).toBe(true);
    expect(egress.allows("feeds.example.com")).toBe(true);
    expect(egress.allows("eu.vendor.net")).toBe(true);
    expect(egress.allows("vendor.net.evil.com")).toBe(false);
    expect(egress.allows("evil-api.london-stock-exchange.com")).toBe(false);
    expect(egress.allows("127.0.0.1")).toBe(false);
    expect(parseEgressAllow(undefined)).toEqual([]);
  });

  it("connects to an allowed host", async () => {
    const egress = new EgressClient({ allow: ["127.0.0.1"] });
    const response = await egress.fetch(`http://127.0.0.1:${String(port)}/`);
    expect(await response.text()).toBe("ok");
  });

  it("refuses any other host before connecting, with a named error, and logs the host only", async () => {
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const egress = new EgressClient({ logger: { warn: (_m, f) => warnings.push(f) } });
    const refused = egress.fetch(`http://127.0.0.1:${String(port)}/path?token=secret`);
    await expect(refused).rejects.toBeInstanceOf(EgressRefusedError);
    await expect(refused).rejects.toMatchObject({ code: "egress_refused", host: "127.0.0.1" });
    expect(() => egress.webSocket("wss://evil.example.org/feed")).toThrow(/not on the egress allow-list/);
    expect(egress.refused).toBe(2);
    expect(warnings).toEqual([
      { host: "127.0.0.1", protocol: "http:" },
      { host: "evil.example.org", protocol: "wss:" },
    ]);
    expect(JSON.stringify(warnings)).not.toContain("secret");
  });

  it("withHosts allows a configured host (an identity provider) on top of the same list", async () => {
    const egress = new EgressClient({ noDefaults: true });
    await expect(egress.fetch(`http://127.0.0.1:${String(port)}/`)).rejects.toBeInstanceOf(EgressRefusedError);
    const withIdp = egress.withHosts(["127.0.0.1"]);
    expect(await (await withIdp.fetch(`http://127.0.0.1:${String(port)}/`)).text()).toBe("ok");
    expect(withIdp.allows("api.sendgrid.com")).toBe(false);
  });
});
