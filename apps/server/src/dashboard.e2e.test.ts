/**
 * The trader dashboard as people use it: Debian's Chromium, driven by
 * playwright-core, against the real platform started here (same origin, strict
 * content security policy). Trader 1 signs in with a TOTP code, places a limit
 * order, sees it in the book ladder and the blotter, amends and cancels it;
 * trader 2, in a second browser context, crosses a new order and both see the
 * fill, their positions and P&L change; an admin halts the instrument, the
 * traders' dashboards show the halt and the ticket refuses. A trader with two
 * accounts picks one in the top bar: the ticket, blotter and live channels
 * follow it, and the choice survives a reload. When a session ends under a
 * trader (an administrator disables and re-enables the user), the app asks for
 * the password again over the screen and the half-filled ticket survives.
 *
 * The dashboard is built first when its dist is missing or stale. Without
 * /usr/bin/chromium the test is skipped with the reason printed, except with
 * TRADESTREAM_REQUIRE_SERVICES=1 (CI), where that is a failure.
 * TRADESTREAM_SCREENSHOTS=1 refreshes docs/screenshots/*.png.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateTotp } from "@tradestream/auth";
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoPassword, demoTotpSecret } from "./demo-users.ts";
import { startPlatform, type Platform } from "./platform.ts";
import { testConfig, roomyRateLimits } from "./test-platform.ts";

const chromiumPath = "/usr/bin/chromium";
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const screenshots = process.env.TRADESTREAM_SCREENSHOTS === "1" ? join(root, "docs", "screenshots") : null;
const available = existsSync(chromiumPath);
if (!available) {
  if (process.env.TRADESTREAM_REQUIRE_SERVICES === "1") throw new Error(`Chromium is required (TRADESTREAM_REQUIRE_SERVICES=1) but ${chromiumPath} is missing; install Debian's chromium package.`);
  process.stdout.write(`skipping the dashboard end-to-end test: ${chromiumPath} is missing (install Debian's chromium package)\n`);
}

const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let platform: Platform;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Console errors and CSP violations seen by any page: the test fails on any. */
const problems: string[] = [];

async function openPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, reducedMotion: "reduce" });
  contexts.push(context);
  const page = await context.newPage();
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return page;
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto(platform.url);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(demoPassword);
  await page.getByRole("button", { name: "Continue" }).click();
  const code = page.getByLabel(/One-time code/);
  await code.waitFor();
  if (username === "trader1") await shoot(page, "sign-in-totp");
  await code.fill(generateTotp(demoTotpSecret(username), Date.now()));
  await page.keyboard.press("Enter");
  await page.locator(".connection[data-state=live]").waitFor({ timeout: 15_000 });
}

async function shoot(page: Page, name: string): Promise<void> {
  if (screenshots === null) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/** Waits for what the page shows; generous, as the whole suite shares two cores with this browser. */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000, interval: 100 });
/** The name attribute of the focused element (evaluated in the page, where the DOM is). */
const focusedName = (page: Page): Promise<unknown> => page.evaluate("document.activeElement?.getAttribute('name')");
const ownRow = (page: Page, price: string) => page.locator(`.ladder tr.own[data-price="${price}"]`);
const openOrderRows = (page: Page) => page.locator('table[aria-label="Open orders"] tr[data-order-id]');

describe.skipIf(!available)("trader dashboard in Chromium", () => {
  beforeAll(async () => {
    execFileSync("node", [join(root, "scripts", "build-dashboard.mjs")], { stdio: "inherit" });
    platform = await startPlatform(testConfig({
      seed: 11,
      gateway: { rateLimits: roomyRateLimits },
    }));
    // A desk trader with two of the demo accounts (the picker appears only with more than one).
    await platform.auth.createUser({ username: "desk1", displayName: "Demo Desk Trader", groups: ["authorized-traders"], accountIds: [1002, 1003], password: demoPassword, totpSecret: demoTotpSecret("desk1") });
    // launch() gives the browser a fresh, throw-away profile directory of its own.
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await platform?.close();
  });

  it("serves the dashboard and its config on the platform's origin under a strict CSP", async () => {
    const index = await fetch(`${platform.url}/`);
    expect(index.status).toBe(200);
    const csp = index.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(await index.text()).toContain('<div id="root">');
    expect(await (await fetch(`${platform.url}/config.json`)).json()).toEqual({ apiUrl: "", refreshRate: 500, currency: "EUR", sso: false });
    // A client-side route falls back to the app; an unknown API route stays a JSON 404.
    expect((await fetch(`${platform.url}/some/screen`)).headers.get("content-type")).toContain("text/html");
    const missing = await fetch(`${platform.url}/api/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await fetch(`${platform.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${platform.url}/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it("signs in with TOTP, places, amends and cancels; a second trader crosses; an admin halts", async () => {
    const one = await openPage();
    await one.goto(platform.url);
    await one.getByLabel("Username").waitFor();
    await shoot(one, "sign-in");
    await signIn(one, "trader1");
    // One account: no picker, the account named in the top bar as ever.
    expect(await one.getByLabel("Trading account").count()).toBe(0);
    await poll(() => one.locator(".topbar .user").textContent()).toContain("account 1001");

    // Keyboard-first: B picks the side and moves to the quantity; Enter sends.
    await one.locator("body").press("b");
    await poll(() => focusedName(one)).toBe("quantity");
    await one.keyboard.type("5");
    await one.getByLabel(/Limit price/).fill("228.00");
    await poll(() => one.getByTestId("notional").textContent()).toContain("1,140.00");
    await one.getByLabel(/Limit price/).press("Enter");
    await poll(() => one.getByTestId("ticket-outcome").textContent()).toMatch(/Order \d+ new/);

    // In the ladder (own order marked) and the blotter.
    await ownRow(one, "228.00").waitFor();
    await poll(() => openOrderRows(one).count()).toBe(1);
    const orderId = await openOrderRows(one).first().getAttribute("data-order-id");
    expect(orderId).not.toBeNull();

    // Amend inline: new price and quantity.
    await one.getByRole("button", { name: `Amend order ${String(orderId)}` }).click();
    await one.locator("input[name=amend-price]").fill("228.50");
    await one.locator("input[name=amend-quantity]").fill("4");
    await one.locator("input[name=amend-quantity]").press("Enter");
    await ownRow(one, "228.50").waitFor();
    await poll(() => ownRow(one, "228.00").count()).toBe(0);
    await poll(() => openOrderRows(one).first().textContent()).toContain("228.50");

    // Cancel.
    await one.getByRole("button", { name: `Cancel order ${String(orderId)}` }).click();
    await poll(() => openOrderRows(one).count()).toBe(0);
    await poll(() => ownRow(one, "228.50").count()).toBe(0);

    // A fresh bid that trader 2 will hit; P&L before the trade.
    await one.getByLabel(/Limit price/).fill("228.50");
    await one.getByLabel(/^Quantity/).fill("3");
    await one.getByLabel(/^Quantity/).press("Enter");
    await ownRow(one, "228.50").waitFor();
    await one.getByRole("tab", { name: "Positions" }).click();
    const pnlBefore = await one.getByTestId("pnl-SAP").textContent();
    const positionBefore = await one.getByTestId("position-SAP").textContent();

    // Trader 2 clicks the bid in the ladder (price onto the ticket), sells with S and Enter.
    const two = await openPage();
    await signIn(two, "trader2");
    await two.locator("body").press("s");
    await two.locator('.ladder tr[data-price="228.50"] button').click();
    await poll(() => two.getByLabel(/Limit price/).inputValue()).toBe("228.50");
    await poll(() => focusedName(two)).toBe("quantity");
    await two.keyboard.type("3");
    await two.keyboard.press("Enter");
    await poll(() => two.getByTestId("ticket-outcome").textContent()).toContain("3 filled");

    // Both see the fill, their positions and P&L change.
    await poll(() => one.getByTestId("position-SAP").textContent()).not.toBe(positionBefore);
    await poll(() => one.getByTestId("pnl-SAP").textContent()).not.toBe(pnlBefore);
    await one.getByRole("tab", { name: "Fills" }).click();
    await poll(() => one.locator('table[aria-label="Fills"] tbody tr').first().textContent()).toContain("228.50");
    await two.getByRole("tab", { name: "Fills" }).click();
    await poll(() => two.locator('table[aria-label="Fills"] tbody tr').first().textContent()).toContain("228.50");
    await two.getByRole("tab", { name: "Positions" }).click();
    await poll(() => two.getByTestId("position-SAP").textContent()).toBe("4,997");
    await poll(() => two.getByTestId("pnl-SAP").textContent()).not.toBe("€0.00");
    await one.getByRole("tab", { name: "Positions" }).click();
    await poll(() => one.getByTestId("position-SAP").textContent()).toBe("5,003");
    await shoot(one, "trade");

    // An admin halts SAP; the traders see it and the ticket refuses.
    const admin = await openPage();
    await signIn(admin, "admin1");
    await admin.getByRole("button", { name: "Controls" }).click();
    await admin.getByRole("button", { name: "Halt SAP" }).click();
    await admin.getByRole("button", { name: "Resume SAP" }).waitFor();
    await shoot(admin, "admin-controls");
    await one.locator(".ticket .badge.halted").waitFor({ timeout: 10_000 });
    await one.getByLabel(/^Quantity/).fill("1");
    await one.getByLabel(/^Quantity/).press("Enter");
    await poll(() => one.getByTestId("ticket-blocking").textContent()).toContain("halted");
    await poll(() => openOrderRows(one).count()).toBe(0);
    await shoot(one, "halted");

    // Staff roles see the views their API allows.
    await admin.getByRole("button", { name: "Audit trail" }).click();
    await poll(() => admin.locator('table[aria-label="Audit trail"]').textContent()).toContain("instrument.halt");
    await shoot(admin, "audit-trail");

    expect(problems).toEqual([]);
  });

  it("lets a trader with two accounts pick the one to trade and see, and remembers it", async () => {
    const page = await openPage();
    await signIn(page, "desk1");
    const picker = page.getByLabel("Trading account");
    await poll(() => picker.inputValue()).toBe("1002");
    await poll(() => page.getByTestId("ticket-account").textContent()).toBe("1002");

    // SAP is halted by the test before: trade SIE, on account 1003.
    await page.getByRole("button", { name: "SIE", exact: true }).click();
    await picker.selectOption("1003");
    await poll(() => page.getByTestId("ticket-account").textContent()).toBe("1003");
    await page.getByLabel(/^Quantity/).fill("2");
    await page.getByLabel(/Limit price/).fill("179.00");
    await page.getByLabel(/Limit price/).press("Enter");
    await poll(() => page.getByTestId("ticket-outcome").textContent()).toMatch(/Order \d+ new/);
    await poll(() => openOrderRows(page).count()).toBe(1);
    await ownRow(page, "179.00").waitFor();

    // Account 1002 has no open order: none shown, not even in the ladder; back on 1003 it is there again.
    await picker.selectOption("1002");
    await poll(() => openOrderRows(page).count()).toBe(0);
    await poll(() => ownRow(page, "179.00").count()).toBe(0);
    await picker.selectOption("1003");
    await poll(() => openOrderRows(page).count()).toBe(1);
    await page.getByRole("tab", { name: "Positions" }).click();
    await poll(() => page.locator('table[aria-label="Positions"] tbody tr td:first-child').allTextContents()).not.toHaveLength(0);
    expect(new Set(await page.locator('table[aria-label="Positions"] tbody tr td:first-child').allTextContents())).toEqual(new Set(["1003"]));

    // The choice lasts for the session: a reload comes back on 1003.
    await page.reload();
    await page.locator(".connection[data-state=live]").waitFor({ timeout: 15_000 });
    await poll(() => page.getByLabel("Trading account").inputValue()).toBe("1003");
    await poll(() => openOrderRows(page).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("asks for the password again over the app when the session ends, and keeps the half-filled ticket", async () => {
    const { userId } = await platform.auth.createUser({ username: "expiry1", displayName: "Session Expiry", groups: ["authorized-traders"], accountIds: [1003], password: demoPassword, totpSecret: demoTotpSecret("expiry1") });
    const page = await openPage();
    await signIn(page, "expiry1");
    await page.getByRole("button", { name: "SIE", exact: true }).click();
    await page.getByLabel(/Limit price/).fill("177.40");
    await page.getByLabel(/^Quantity/).fill("7");

    // An administrator disables the user, which ends every session at once, and enables it again.
    await platform.auth.updateUser(userId, { disabled: true }, "admin1");
    await platform.auth.updateUser(userId, { disabled: false }, "admin1");
    // The live connection is closed (4401); reconnecting needs a refresh, which is refused: the app asks in place.
    const dialog = page.getByRole("dialog", { name: "Sign in again" });
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.getByText("Your session has expired").waitFor();
    await shoot(page, "session-expired");
    await dialog.getByLabel("Password").fill(demoPassword);
    await dialog.getByRole("button", { name: "Continue" }).click();
    // The sign-in a minute ago used this step's code, and a code is accepted once: take the next step's.
    await dialog.getByLabel(/One-time code/).fill(generateTotp(demoTotpSecret("expiry1"), Date.now() + 30_000));
    await dialog.getByRole("button", { name: "Verify code" }).click();
    await dialog.waitFor({ state: "detached", timeout: 15_000 });
    await page.locator(".connection[data-state=live]").waitFor({ timeout: 15_000 });

    // Nothing typed was lost, and the ticket works with the new session.
    expect(await page.getByLabel(/Limit price/).inputValue()).toBe("177.40");
    expect(await page.getByLabel(/^Quantity/).inputValue()).toBe("7");
    await page.getByLabel(/^Quantity/).press("Enter");
    await poll(() => page.getByTestId("ticket-outcome").textContent()).toMatch(/Order \d+ new/);
    // The browser reports the refused calls (401) on its console; nothing else may appear there.
    expect(problems.filter((problem) => !/status of 401/.test(problem))).toEqual([]);
  });
});
