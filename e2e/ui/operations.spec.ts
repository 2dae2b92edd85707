// The Operations page end to end: the real server, real agents and simulated SIP Servers
// (e2e/fixtures/lab.ts), Debian's Chromium. A manual switchover and a failover (a real kill -9 while the
// page is open) are listed with the right labels, live; the steps open in a click; filters live in the URL;
// the exports carry names. Screenshots at 1440 and 390 px go to docs/img/ (the README links them).
import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { startUiLab, type UiLab } from "../fixtures/lab";

let lab: UiLab;
let operator: { username: string; password: string };

test.describe.configure({ mode: "serial" });
test.setTimeout(90_000);

test.beforeAll(async ({ baseURL }) => {
  test.setTimeout(120_000);
  mkdirSync("docs/img", { recursive: true });
  lab = await startUiLab(baseURL!, 2);
  operator = await lab.createUser("opsop", "operator");
  for (const p of lab.pairs) await lab.waitHealthy(p.id, 0, 60_000);
  // A manual switchover with a reason on each pair, through the API as a person would through the dialog.
  for (const p of lab.pairs) {
    const r = await lab.admin.post(`/api/pairs/${p.id}/switchover`, { data: { reason: "patching host 1" } });
    expect(r.status(), await r.text()).toBe(202);
    await lab.waitHealthy(p.id, 1, 30_000);
  }
});

test.afterAll(async () => {
  await lab?.cleanup();
});

async function signIn(page: Page, path: string) {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username").fill(operator.username);
  await page.getByLabel("Password").fill(operator.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

const rows = (page: Page, pair: string) => page.getByTestId("operation-row").filter({ hasText: pair });

test("lists a switchover and, live, a failover with the right labels; the steps open in a click", async ({ page }) => {
  const p = lab.pairs[0];
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "/operations");
  await expect(page.getByRole("link", { name: "Operations" })).toHaveAttribute("aria-current", "page");
  const sw = rows(page, p.name).and(page.locator('[data-kind="manual_switchover"]'));
  await expect(sw).toHaveCount(1);
  await expect(sw.getByTestId("operation-kind")).toHaveText("Manual switchover");
  await expect(sw).toContainText("patching host 1");
  await expect(sw.getByTestId("operation-direction")).toContainText(`sip-1 on ${p.hostNames[0]}`);
  await expect(sw.getByTestId("operation-direction")).toContainText(`sip-2 on ${p.hostNames[1]}`);
  await expect(sw).toContainText("succeeded");
  await expect(sw.getByTestId("vip-moving")).toHaveText(/^\d+ ms$/);

  // The new primary dies while the page is open: the failover appears without a reload.
  const v = await lab.pairView(p.id);
  const pid = v!.servers[1].pid!;
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGKILL");
  const fo = rows(page, p.name).and(page.locator('[data-kind="failover"]'));
  await expect(fo).toHaveCount(1, { timeout: 15_000 });
  await expect(fo.getByTestId("operation-kind")).toHaveText("Failover");
  await expect(fo).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
  await expect(fo).toContainText("controller");
  await expect(fo).toContainText("exited with signal SIGKILL");
  await expect(fo.getByTestId("operation-direction")).toContainText(`sip-2 on ${p.hostNames[1]}`);
  await expect(fo.getByTestId("operation-direction")).toContainText(`sip-1 on ${p.hostNames[0]}`);
  await expect(fo.getByTestId("vip-moving")).toHaveText(/^\d+ ms$/);
  // Newest first: the failover above the switchover.
  const kinds = await rows(page, p.name).evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
  expect(kinds.slice(0, 2)).toEqual(["failover", "manual_switchover"]);
  // The start: relative, the exact local time on hover.
  await expect(fo.locator("time")).toHaveText(/ago|just now/);
  expect(await fo.locator("time").getAttribute("title")).toMatch(/UTC\)$/);

  await fo.getByRole("button", { name: /Steps \(4\)/ }).click();
  const steps = page.getByTestId("operation-steps").getByTestId("operation-step");
  await expect(steps).toHaveCount(4);
  expect(await steps.evaluateAll((els) => els.map((e) => `${e.getAttribute("data-action")}:${e.getAttribute("data-status")}`))).toEqual([
    "promote:succeeded",
    "vip_enable:succeeded",
    "vip_disable:succeeded",
    "verify:succeeded",
  ]);
  await lab.waitHealthy(p.id, 0, 30_000);
  await page.screenshot({ path: "docs/img/operations-1440.png", fullPage: true });

  // From the operation to its audit events (the audit's search covers the operation's id).
  await page.getByRole("link", { name: "Its audit events" }).click();
  await expect(page).toHaveURL(/\/audit\?q=[0-9a-f-]{36}$/);
  await expect(page.locator('[data-testid="audit-row"][data-action="operation.finished"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="audit-row"][data-action="operation.step.promote"]')).toHaveCount(1);
});

test("filters in the URL; exports of the same filters with names", async ({ page }) => {
  const p = lab.pairs[0];
  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, "/operations");
  await page.getByLabel("Kind").selectOption("failover");
  await page.getByLabel("Pair").selectOption(p.id);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/kind=failover/);
  await expect(page).toHaveURL(new RegExp(`pair=${p.id}`));
  await expect(page.getByTestId("operation-row")).toHaveCount(1);
  await expect(page.getByTestId("operation-row")).toHaveAttribute("data-kind", "failover");
  const href = await page.getByTestId("export-csv").getAttribute("href");
  expect(href).toBe(`/api/operations/export?pairId=${p.id}&kind=failover&format=csv`);
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split("\r\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`,failover,Failover,${p.name},succeeded,controller,`);
  expect(lines[1]).not.toContain(p.id);
  // A reload keeps the filters (they live in the URL).
  await page.reload();
  await expect(page.getByTestId("operation-row")).toHaveCount(1);
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/operations$/);
});

test("at 390 px: cards, no horizontal scrolling, steps in a click", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "/operations");
  const cards = page.getByTestId("operation-card");
  await expect(cards.first()).toBeVisible();
  await expect(page.getByTestId("operations-table")).toHaveCount(0);
  const card = cards.filter({ hasText: lab.pairs[0].name }).and(page.locator('[data-kind="failover"]'));
  await expect(card.getByTestId("operation-kind")).toHaveText("Failover");
  await card.getByRole("button", { name: /Steps/ }).click();
  await expect(card.getByTestId("operation-step")).toHaveCount(4);
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
  await page.screenshot({ path: "docs/img/operations-390.png", fullPage: true });
});
