// Dashboard benchmark: how fast the first screen is usable and how smooth the live
// screen stays, measured in Debian's Chromium (playwright-core) against the real
// platform with the market simulator trading.
//
// - firstScreenInteractiveMs: from navigation start to the sign-in form's username
//   field present and enabled (in-page performance.now(), cold cache);
// - tradeScreenReadyMs: from submitting the TOTP code to the trade screen live
//   (WebSocket authenticated, book ladder drawn);
// - longTasks: main-thread tasks over 50 ms (PerformanceObserver 'longtask') during
//   a trace of the trade screen while the simulator trades (default 30 s), with the
//   longest task and the trades the platform executed meanwhile;
// - bundle: gzipped bytes of the first screen (index.html, entry script, styles)
//   and of the lazily loaded chart.
//
// Prints a human summary on stderr, one JSON object on stdout, and appends it as one
// line to bench/results/dashboard.jsonl. Flags: --trace-s N (30), --tick-ms N
// (simulator period, 250 as in `npm start`), --no-write, --screenshot (saves the live
// trade screen at the end of the trace to docs/screenshots/trade-live.png).

import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { generateTotp } from "@tradestream/auth";
import { chromium } from "playwright-core";
import { demoPassword, demoTotpSecret } from "../apps/server/src/demo-users.ts";
import { dashboardDist, startPlatform } from "../apps/server/src/platform.ts";
import { parseBenchArgs } from "./cli.ts";
import { gitCommit, machine, recordResult } from "./record.ts";

const here = dirname(fileURLToPath(import.meta.url));
const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const flags = parseBenchArgs({
  script: "bench/dashboard.bench.ts",
  npmScript: "bench:dashboard",
  summary: `Dashboard benchmark, in Debian's Chromium (headless, playwright-core) against the platform started
in process with the market simulator trading: time to a usable sign-in form, time from the TOTP code to
the live trade screen, main-thread long tasks (> 50 ms) during a trace of the trade screen, and the
gzipped bundle sizes (docs/BENCHMARKS.md). The npm script builds the dashboard first if it is stale.
Prints a summary on stderr, one JSON object on stdout, and appends it to bench/results/dashboard.jsonl.`,
  options: {
    "trace-s": { type: "string", value: "N", default: "30", description: "seconds of the trade-screen trace while the simulator trades" },
    "tick-ms": { type: "string", value: "N", default: "250", description: "market simulator period in ms, as in npm start; lower is busier" },
    "no-write": { type: "boolean", description: "do not append the result to bench/results/dashboard.jsonl" },
    screenshot: { type: "boolean", description: "save the live trade screen at the end of the trace to docs/screenshots/trade-live.png" },
  },
});
const traceS = Number(flags["trace-s"]);
const tickMs = Number(flags["tick-ms"]);


/** Gzipped sizes: what index.html loads up front, and everything else (lazy chunks). */
function bundleSizes(): { firstScreenGzipBytes: number; lazyGzipBytes: number; totalGzipBytes: number } {
  const gz = (path: string): number => gzipSync(readFileSync(path), { level: 9 }).length;
  const index = readFileSync(join(dashboardDist, "index.html"), "utf8");
  const upFront = new Set([...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((match) => match[1] ?? ""));
  let firstScreen = gz(join(dashboardDist, "index.html"));
  let lazy = 0;
  for (const name of readdirSync(join(dashboardDist, "assets"))) {
    const size = gz(join(dashboardDist, "assets", name));
    if (upFront.has(`assets/${name}`)) firstScreen += size;
    else lazy += size;
  }
  return { firstScreenGzipBytes: firstScreen, lazyGzipBytes: lazy, totalGzipBytes: firstScreen + lazy };
}

// Runs in the page before any of its scripts: records when the sign-in form is usable, and every long task.
const instrumentation = `
  window.__bench = { firstInteractiveMs: null, longTasks: [] };
  new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.__bench.longTasks.push({ start: entry.startTime, duration: entry.duration }); }).observe({ type: "longtask", buffered: true });
  const check = () => {
    const input = document.querySelector("input[name=username]");
    if (input !== null && !input.disabled && window.__bench.firstInteractiveMs === null) window.__bench.firstInteractiveMs = performance.now();
    return window.__bench.firstInteractiveMs !== null;
  };
  new MutationObserver((_records, observer) => { if (check()) observer.disconnect(); }).observe(document, { childList: true, subtree: true });
`;

interface BenchState {
  firstInteractiveMs: number | null;
  longTasks: Array<{ start: number; duration: number }>;
}

async function main(): Promise<void> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: install Debian's chromium package`);
  if (!existsSync(join(dashboardDist, "index.html"))) throw new Error("the dashboard is not built: npm run build:dashboard");
  const bundle = bundleSizes();
  const platform = await startPlatform({ dataDir: null, port: 0, host: "127.0.0.1", demo: true, simulator: true, seed: 5, simulatorTickMs: tickMs, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    // Warm the platform's file reads once in another context, so the measured load is the browser's cold start.
    const warm = await browser.newContext();
    await (await warm.newPage()).goto(platform.url);
    await warm.close();

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.addInitScript(instrumentation);
    await page.goto(platform.url);
    await page.locator("input[name=username]").waitFor();
    const first = await page.evaluate<BenchState>("window.__bench");
    const firstScreenInteractiveMs = Math.round((first.firstInteractiveMs ?? Number.NaN) * 10) / 10;
    process.stderr.write(`first screen interactive: ${String(firstScreenInteractiveMs)} ms; first screen ${String(bundle.firstScreenGzipBytes)} B gzipped, chart ${String(bundle.lazyGzipBytes)} B\n`);

    await page.locator("input[name=username]").fill("trader1");
    await page.locator("input[name=password]").fill(demoPassword);
    await page.keyboard.press("Enter");
    await page.locator("input[name=code]").fill(generateTotp(demoTotpSecret("trader1"), Date.now()));
    const signInStart = Date.now();
    await page.keyboard.press("Enter");
    await page.locator(".connection[data-state=live]").waitFor({ timeout: 15_000 });
    await page.locator(".ladder tbody tr[data-price]").first().waitFor({ timeout: 15_000 });
    const tradeScreenReadyMs = Date.now() - signInStart;
    process.stderr.write(`trade screen live: ${String(tradeScreenReadyMs)} ms after the code was sent\n`);

    // Let the chart load and the first batches land, then trace.
    await page.waitForTimeout(2_000);
    const tradesBefore = platform.market.instruments().reduce((sum, info) => sum + (platform.market.ticker(info.instrumentId)?.trades ?? 0), 0);
    const traceStart = await page.evaluate<number>("performance.now()");
    await page.waitForTimeout(traceS * 1000);
    const traceEnd = await page.evaluate<number>("performance.now()");
    const tradesDuring = platform.market.instruments().reduce((sum, info) => sum + (platform.market.ticker(info.instrumentId)?.trades ?? 0), 0) - tradesBefore;
    const state = await page.evaluate<BenchState>("window.__bench");
    const traced = state.longTasks.filter((task) => task.start >= traceStart && task.start <= traceEnd);
    const longestTaskMs = Math.round(Math.max(0, ...traced.map((task) => task.duration)) * 10) / 10;
    const connection = await page.locator(".connection").getAttribute("data-state");
    if (flags.screenshot) {
      const dir = join(here, "..", "docs", "screenshots");
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, "trade-live.png") });
    }
    process.stderr.write(`trace ${String(traceS)} s with the simulator (${String(tradesDuring)} trades): ${String(traced.length)} long tasks > 50 ms, longest ${String(longestTaskMs)} ms; connection ${String(connection)}\n`);

    const output = {
      firstScreenInteractiveMs,
      tradeScreenReadyMs,
      longTasks: traced.length,
      longestTaskMs,
      traceSeconds: traceS,
      tradesDuringTrace: tradesDuring,
      bundle,
      timestamp: new Date().toISOString(),
      commit: gitCommit(),
      machine: machine(),
      config: { simulatorTickMs: tickMs, refreshRateMs: 500, browser: "chromium (Debian), headless" },
    };
    recordResult("dashboard", output, !flags["no-write"]);
  } finally {
    await browser.close();
    await platform.close();
  }
}

await main();
