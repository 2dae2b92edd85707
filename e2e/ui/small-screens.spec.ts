// Issue 10's panel items against the real server, real agents and simulated SIP Servers
// (e2e/fixtures/lab.ts): a phone-sized dashboard without horizontal scrolling, a legible topology, a
// reachable confirm button; the 404 page inside the shell; the switchover dialog's timeline following
// every step as the page behind it does, with step titles naming the hosts. Screenshots in artifacts/.
import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { startUiLab, type UiLab } from "../fixtures/lab";

const ART = "artifacts";
const PHONE = { width: 390, height: 844 };
let lab: UiLab;
let operator: { username: string; password: string };

test.describe.configure({ mode: "serial" });
test.setTimeout(90_000);

test.beforeAll(async ({ baseURL }) => {
  test.setTimeout(120_000);
  mkdirSync(ART, { recursive: true });
  lab = await startUiLab(baseURL!, 2);
  operator = await lab.createUser("small", "operator");
  for (const p of lab.pairs) await lab.waitHealthy(p.id, 0, 60_000);
});

test.afterAll(async () => {
  await lab?.cleanup();
});

async function signIn(page: Page, path = "/") {
  await page.goto(path);
  await page.getByLabel("Username").fill(operator.username);
  await page.getByLabel("Password").fill(operator.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth <= document.scrollingElement!.clientWidth);

test("at 390 px the dashboard shows each pair's state, primary and VIP holder without horizontal scrolling", async ({ page }) => {
  await page.setViewportSize(PHONE);
  await signIn(page);
  for (const p of lab.pairs) {
    const card = page.locator(`[data-testid="pair-row"][data-pair="${p.name}"]`);
    await expect(card).toHaveAttribute("data-layout", "card");
    await expect(card.getByTestId("pair-status")).toBeVisible();
    await expect(card.getByTestId("row-primary")).toContainText(`sip-1 on ${p.hostNames[0]}`);
    await expect(card.getByTestId("row-vip-holder")).toHaveText(p.hostNames[0]);
    for (const el of [card.getByTestId("pair-status"), card.getByTestId("row-primary"), card.getByTestId("row-vip-holder")]) {
      const box = (await el.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
  }
  expect(await noHorizontalScroll(page)).toBe(true);
  await page.screenshot({ path: `${ART}/dashboard-390.png`, fullPage: true });

  // Back at 1440 px: the table, as before.
  await page.setViewportSize({ width: 1440, height: 900 });
  await expect(page.getByTestId("pair-list")).toHaveAttribute("data-layout", "table");
  expect(await noHorizontalScroll(page)).toBe(true);
  await page.screenshot({ path: `${ART}/dashboard-1440.png` });
});

test("at 390 px the topology is stacked and its text stays legible; the dialog's confirm button is on screen", async ({ page }) => {
  const pair = lab.pairs[1];
  await page.setViewportSize(PHONE);
  await signIn(page, `/pairs/${pair.id}`);
  const figure = page.getByTestId("topology");
  await expect(figure.locator("xpath=..")).toHaveAttribute("data-layout", "stacked");
  await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-mode", "primary");
  // The smallest drawn text, in CSS px on screen (12 px text at the figure's scale).
  const smallest = await figure.locator("text").evaluateAll((els) => Math.min(...els.map((e) => e.getBoundingClientRect().height)));
  expect(smallest).toBeGreaterThanOrEqual(11);
  expect(await noHorizontalScroll(page)).toBe(true);
  await page.screenshot({ path: `${ART}/pair-390.png`, fullPage: true });

  await page.getByRole("button", { name: /Switchover/ }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByTestId("preflight")).toBeVisible();
  await expect(dialog.getByTestId("preflight")).toHaveAttribute("data-failed", "0");
  const confirm = dialog.getByRole("button", { name: "Make sip-2 primary" });
  await expect(confirm).toBeEnabled();
  await expect(confirm).toBeInViewport({ ratio: 1 });
  await page.screenshot({ path: `${ART}/switchover-390.png` });
  await page.keyboard.press("Escape");
});

test("an unknown address shows the 404 inside the panel's header and navigation", async ({ page }) => {
  await signIn(page, "/");
  const res = await page.goto("/no/such/page");
  expect(res!.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("whoami")).toContainText(operator.username);
  await page.getByRole("link", { name: "Back to the dashboard" }).click();
  await expect(page.getByTestId("pair-row").first()).toBeVisible();
  const ico = await page.request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
});

test("the dialog's timeline follows every step as the page behind it does, step titles naming the hosts", async ({ page }) => {
  const pair = lab.pairs[0];
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, `/pairs/${pair.id}`);
  await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-mode", "primary");
  // When each step first reads "succeeded", in the dialog and in the page behind it.
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { __steps: Record<string, number> }).__steps = seen;
    const record = () => {
      for (const el of document.querySelectorAll('[data-testid="operation-step"]')) {
        const where = el.closest('[role="dialog"]') ? "dialog" : el.closest('[data-testid="pair-page"]') ? "page" : null;
        if (!where || el.getAttribute("data-status") !== "succeeded") continue;
        const key = `${where}:${el.getAttribute("data-action")}:${[...el.parentElement!.children].indexOf(el)}`;
        seen[key] ??= performance.now();
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
  });
  // A slow network: the POST's answer reaches the browser after the operation's live events (the
  // switchover itself takes tens of milliseconds), as it did on a busy demo.
  await page.route(/\/api\/pairs\/[^/]+\/switchover$/, async (route) => {
    const res = await route.fetch();
    await new Promise((r) => setTimeout(r, 600));
    await route.fulfill({ response: res });
  });
  await page.getByRole("button", { name: /Switchover/ }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Make sip-2 primary" }).click();
  const timeline = dialog.getByTestId("operation-timeline");
  await expect(timeline).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  const steps = timeline.getByTestId("operation-step");
  await expect(steps).toHaveCount(5);
  for (const s of await steps.all()) await expect(s).toHaveAttribute("data-status", "succeeded");
  const pageSteps = page.getByTestId("pair-page").getByTestId("operation-step");
  await expect(pageSteps).toHaveCount(5);
  for (const s of await pageSteps.all()) await expect(s).toHaveAttribute("data-status", "succeeded");

  // In step: each step was done in the dialog within 250 ms of the page behind it, although the POST's
  // answer came 600 ms late (the dialog that waited for it, and dropped the events before it, was 950 ms late).
  const seen = await page.evaluate(() => (window as unknown as { __steps: Record<string, number> }).__steps);
  for (const [i, action] of ["demote", "vip_disable", "promote", "vip_enable", "verify"].entries()) {
    const d = seen[`dialog:${action}:${i}`];
    const p = seen[`page:${action}:${i}`];
    expect(d, `step ${i + 1} (${action}) done in the dialog`).toBeDefined();
    expect(p, `step ${i + 1} (${action}) done in the page`).toBeDefined();
    expect(Math.abs(d - p), `step ${i + 1} (${action}): dialog vs page`).toBeLessThan(250);
  }

  // The source document's causality, with the hosts named.
  const [h1, h2] = pair.hostNames;
  await expect(steps.nth(0).getByTestId("step-title")).toHaveText(`1. Demote sip-1 on Host 1 (${h1}) to backup`);
  await expect(steps.nth(1).getByTestId("step-title")).toContainText(`VIP disabled on Host 1 (${h1})`);
  await expect(steps.nth(1)).toHaveAttribute("data-follows", "true");
  await expect(steps.nth(2).getByTestId("step-title")).toHaveText(`3. Promote sip-2 on Host 2 (${h2}) to primary`);
  await expect(steps.nth(3).getByTestId("step-title")).toContainText(`VIP enabled on Host 2 (${h2})`);
  await expect(steps.nth(3)).toHaveAttribute("data-follows", "true");
  await expect(page.getByTestId("pair-page").getByTestId("pair-status")).toHaveAttribute("data-status", "healthy", { timeout: 15_000 });
  await page.screenshot({ path: `${ART}/switchover-1440.png` });
  await dialog.getByRole("button", { name: "Close" }).first().click();
  await lab.waitHealthy(pair.id, 1);
});
