/**
 * Zero-trust egress: the one client through which the platform opens outbound
 * HTTP and WebSocket connections. It enforces an allow-list of host names from
 * configuration — the defaults (`egressDefaultHosts`) plus hosts from
 * `EGRESS_ALLOW` (comma-separated; "*.example.com" allows every subdomain) —
 * and refuses any other host before a socket is opened, with a named error
 * (`egress_refused`) and a log line naming the host. Nothing else in the
 * platform calls `fetch` or `new WebSocket` for an outside host: the vendor
 * feeds and the single sign-on client (whose configured issuer is allowed with
 * `withHosts`) go through it.
 *
 * The allow-list checks the host name of the URL as the WHATWG URL parser gives
 * it (user-info dropped, lower case, IDN as punycode, IPv4 in dotted decimal,
 * IPv6 compressed), with one trailing dot removed; allow-list entries are
 * normalized the same way, so an entry and a URL naming the same host always
 * agree and a differently spelt one never slips through. A wildcard covers
 * subdomains only ("*.example.com" allows "a.example.com", never
 * "evilexample.com" nor "example.com"). Only http(s) and ws(s) URLs are opened.
 * 127.0.0.1 and localhost are not special (allow them explicitly, as tests do).
 */
import WebSocket from "ws";

/** Where refusals are reported (the platform's JSON logger fits). */
export interface EgressLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export const egressDefaultHosts: readonly string[] = ["api.london-stock-exchange.com", "api.sendgrid.com"];

/** The URL schemes the client opens. */
const egressProtocols: ReadonlySet<string> = new Set(["http:", "https:", "ws:", "wss:"]);

/** A host name or IP literal in the form the URL parser gives it, without a trailing dot; null when it is not a plain host. */
export function normalizeEgressHost(host: string): string | null {
  const bare = host.trim().replace(/^\[(.*)\]$/, "$1");
  if (bare === "" || /[\s/\\?#@%]/.test(bare)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname;
  } catch {
    return null;
  }
  const name = hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  return name === "" || name.endsWith(".") ? null : name;
}

/** An allow-list entry: an exact host, or a wildcard "*.<domain>" standing for the domain's subdomains. */
function parseEntry(entry: string): { exact: string } | { suffix: string } {
  const text = entry.trim().toLowerCase();
  if (text.startsWith("*.")) {
    const domain = normalizeEgressHost(text.slice(2));
    // "*." alone, or "*.com"-like entries of one label, would allow far more than a vendor: refused at start-up.
    if (domain === null || !domain.includes(".") || /[:*]/.test(domain)) throw new RangeError(`EGRESS_ALLOW entry ${JSON.stringify(entry)} is not a valid wildcard (use *.example.com)`);
    return { suffix: `.${domain}` };
  }
  const host = normalizeEgressHost(text);
  if (host === null || host.includes("*")) throw new RangeError(`EGRESS_ALLOW entry ${JSON.stringify(entry)} is not a host name or IP address`);
  return { exact: host };
}

export class EgressRefusedError extends Error {
  override readonly name = "EgressRefusedError";
  readonly code = "egress_refused";

  constructor(readonly host: string) {
    super(`outbound connection to ${host} refused: the host is not on the egress allow-list (add it to EGRESS_ALLOW)`);
  }
}

export interface EgressOptions {
  /** Hosts allowed besides the defaults. */
  readonly allow?: readonly string[] | undefined;
  /** Leave the defaults out (tests). */
  readonly noDefaults?: boolean | undefined;
  readonly logger?: EgressLogger | undefined;
}

/** The hosts of `EGRESS_ALLOW="a.example.com, *.vendor.net"`. */
export function parseEgressAllow(text: string | undefined): string[] {
  return (text ?? "").split(",").map((host) => host.trim().toLowerCase()).filter((host) => host !== "");
}

export class EgressClient {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private refusedCount = 0;

  constructor(private readonly options: EgressOptions = {}) {
    const hosts = [...(options.noDefaults === true ? [] : egressDefaultHosts), ...(options.allow ?? [])];
    for (const host of hosts) {
      const entry = parseEntry(host);
      if ("suffix" in entry) this.suffixes.push(entry.suffix);
      else this.exact.add(entry.exact);
    }
  }

  /** From the environment: `EGRESS_ALLOW`. */
  static fromEnv(env: NodeJS.ProcessEnv, logger?: EgressLogger): EgressClient {
    return new EgressClient({ allow: parseEgressAllow(env.EGRESS_ALLOW), logger });
  }

  /** The same allow-list and log, plus these hosts (e.g. a configured identity provider). */
  withHosts(hosts: readonly string[]): EgressClient {
    return new EgressClient({ ...this.options, allow: [...(this.options.allow ?? []), ...hosts] });
  }

  get allowList(): string[] {
    return [...this.exact, ...this.suffixes.map((suffix) => `*${suffix}`)];
  }

  get refused(): number {
    return this.refusedCount;
  }

  /** Whether a host (a URL's hostname; anything that is not a plain host is refused) is on the list. */
  allows(host: string): boolean {
    const name = normalizeEgressHost(host);
    if (name === null) return false;
    return this.exact.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Throws `EgressRefusedError` (and logs) unless the URL is http(s) or ws(s) and its host is allowed. */
  check(url: string | URL): URL {
    const parsed = typeof url === "string" ? new URL(url) : url;
    if (!egressProtocols.has(parsed.protocol) || !this.allows(parsed.hostname)) {
      this.refusedCount += 1;
      // The URL's path and query may carry tokens: only the host is logged.
      this.options.logger?.warn("outbound connection refused by the egress allow-list", { host: parsed.hostname, protocol: parsed.protocol });
      throw new EgressRefusedError(parsed.hostname);
    }
    return parsed;
  }

  /** `fetch` to an allowed host; redirects are not followed (a redirect could leave the allow-list). */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const parsed = this.check(url);
    return fetch(parsed, { ...init, redirect: "manual" });
  }

  /** A WebSocket to an allowed host. */
  webSocket(url: string | URL, options: WebSocket.ClientOptions = {}): WebSocket {
    const parsed = this.check(url);
    return new WebSocket(parsed, { ...options, followRedirects: false });
  }
}
