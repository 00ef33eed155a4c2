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

describe("egress allow-list bypasses", () => {
  const egress = new EgressClient({ noDefaults: true, allow: ["feeds.example.com", "*.vendor.net", "127.0.0.1", "::1", "bücher.example", "trailing.example.org."] });
  const refused = (url: string): boolean => {
    try {
      egress.check(url);
      return false;
    } catch (error) {
      return error instanceof EgressRefusedError;
    }
  };

  it("judges the URL's real host, not user-info that looks like one", () => {
    expect(refused("https://feeds.example.com@evil.example/")).toBe(true);
    expect(refused("https://feeds.example.com:secret@evil.example/")).toBe(true);
    expect(refused("https://evil.example\\@feeds.example.com/")).toBe(true);
    expect(refused("https://evil.example@feeds.example.com/")).toBe(false);
  });

  it("treats case, trailing dots, IP spellings and IDN as the same host, both ways", () => {
    expect(refused("https://FEEDS.Example.COM/")).toBe(false);
    expect(refused("https://feeds.example.com./")).toBe(false);
    expect(refused("https://trailing.example.org/")).toBe(false);
    expect(refused("https://a.vendor.net./")).toBe(false);
    expect(refused("http://0x7f.1/")).toBe(false);
    expect(refused("http://[::1]:8080/")).toBe(false);
    expect(refused("http://[0:0:0:0:0:0:0:1]/")).toBe(false);
    expect(refused("http://[::ffff:127.0.0.1]/")).toBe(true);
    expect(refused("https://bücher.example/")).toBe(false);
    expect(refused("https://xn--bcher-kva.example/")).toBe(false);
    expect(refused("https://bucher.example/")).toBe(true);
    expect(new EgressClient({ noDefaults: true }).withHosts(["[::1]"]).allows("[::1]")).toBe(true);
  });

  it("matches wildcards on a label boundary only, and refuses odd host strings", () => {
    expect(refused("https://evilvendor.net/")).toBe(true);
    expect(refused("https://vendor.net/")).toBe(true);
    expect(refused("https://vendor.net.evil.example/")).toBe(true);
    expect(refused("https://a.b.vendor.net/")).toBe(false);
    expect(egress.allows("evil.example#.vendor.net")).toBe(false);
    expect(egress.allows("evil.example/.vendor.net")).toBe(false);
    expect(egress.allows("x@a.vendor.net")).toBe(false);
    expect(egress.allows("")).toBe(false);
  });

  it("refuses wildcards that allow far more than one vendor, and schemes other than http(s) and ws(s)", () => {
    for (const entry of ["*.", "*", "*.com", "*.*.example.com", "a b.example", "evil.example/x"]) {
      expect(() => new EgressClient({ noDefaults: true, allow: [entry] }), entry).toThrow(RangeError);
    }
    expect(refused("ftp://feeds.example.com/")).toBe(true);
    expect(refused("file:///etc/passwd")).toBe(true);
    expect(refused("wss://feeds.example.com/feed")).toBe(false);
  });

  it("never follows a redirect off the allow-list", async () => {
    const redirecting = createServer((_request, response) => {
      response.writeHead(302, { location: "http://evil.example/steal" });
      response.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const port = (redirecting.address() as AddressInfo).port;
      const response = await egress.fetch(`http://127.0.0.1:${String(port)}/`, { redirect: "follow" });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("http://evil.example/steal");
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });
});
