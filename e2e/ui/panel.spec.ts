// The operator's panel end to end: the real server (Playwright's web server), real host agents and
// simulated SIP Servers (e2e/fixtures/lab.ts), Debian's Chromium. Screenshots go to artifacts/.
import { mkdirSync } from "node:fs";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { ADMIN, startUiLab, type UiLab } from "../fixtures/lab";

const ART = "artifacts";
let lab: UiLab;
let operator: { username: string; password: string };
let operator2: { username: string; password: string };
let viewer: { username: string; password: string };

test.describe.configure({ mode: "serial" });
test.setTimeout(90_000);

test.beforeAll(async ({ baseURL }) => {
  test.setTimeout(120_000);
  mkdirSync(ART, { recursive: true });
  lab = await startUiLab(baseURL!, 2);
  // Project rule for lab addresses: every VIP the fixture configures is in 198.18.0.0/24.
  for (const p of lab.pairs) expect(p.vip).toMatch(/^198\.18\.0\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/);
  operator = await lab.createUser("op", "operator");
  operator2 = await lab.createUser("op2", "operator");
  viewer = await lab.createUser("view", "viewer");
  for (const p of lab.pairs) await lab.waitHealthy(p.id, 0, 60_000);
});

test.afterAll(async () => {
  await lab?.cleanup();
});

async function signIn(page: Page, who: { username: string; password: string }, path = "/") {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

async function newSignedIn(browser: Browser, who: { username: string; password: string }, path = "/") {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, who, path);
  return { ctx, page };
}

const row = (page: Page, name: string) => page.locator(`[data-testid="pair-row"][data-pair="${name}"]`);

test("login: clear error, then back to where the user was going", async ({ page }) => {
  await page.goto("/audit?outcome=success");
  await expect(page).toHaveURL(/\/login\?next=%2Faudit%3Foutcome%3Dsuccess/);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill("definitely-wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /wrong username or password/i })).toBeVisible();
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/audit\?outcome=success$/);
  await expect(page.getByRole("heading", { name: "Audit history" })).toBeVisible();
});

test("dashboard renders the demo pairs with counts, search and status filter", async ({ page }) => {
  await signIn(page, operator);
  for (const p of lab.pairs) {
    await expect(row(page, p.name)).toHaveAttribute("data-status", "healthy");
    await expect(row(page, p.name)).toContainText(p.vip);
    await expect(row(page, p.name)).toContainText(p.hostNames[0]);
    await expect(row(page, p.name).getByText("Healthy", { exact: true })).toBeVisible(); // status in words, not colour alone
  }
  expect(Number(await page.getByTestId("count-healthy").locator("span").nth(1).textContent())).toBeGreaterThanOrEqual(2);
  await page.getByLabel("Search").fill(lab.pairs[1].name);
  await expect(row(page, lab.pairs[0].name)).toHaveCount(0);
  await expect(row(page, lab.pairs[1].name)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`q=${lab.pairs[1].name}`));
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Status").selectOption("split_brain");
  await expect(row(page, lab.pairs[0].name)).toHaveCount(0);
  await page.getByLabel("Status").selectOption("all");
  await expect(row(page, lab.pairs[0].name)).toBeVisible();
  await page.screenshot({ path: `${ART}/dashboard.png`, fullPage: true });
});

test("a viewer sees the Switchover button disabled, with the reason", async ({ page }) => {
  await signIn(page, viewer, `/pairs/${lab.pairs[0].id}`);
  const button = page.getByRole("button", { name: /Switchover/ });
  await expect(button).toBeDisabled();
  await expect(page.getByTestId("switchover-disabled-reason")).toContainText(/operator or admin/);
  const res = await page.request.post(`/api/pairs/${lab.pairs[0].id}/switchover`, { headers: { origin: new URL(page.url()).origin }, data: {} });
  expect(res.status()).toBe(403);
});

test("switchover through the dialog completes; pair view and a second browser's dashboard change live", async ({ page, browser }) => {
  const pair = lab.pairs[0];
  const watcher = await newSignedIn(browser, operator2, "/");
  await expect(row(watcher.page, pair.name)).toContainText(pair.hostNames[0]);

  await signIn(page, operator, `/pairs/${pair.id}`);
  await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-mode", "primary");
  await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-vip", "enabled");
  await expect(page.getByTestId("topology-host-2")).toHaveAttribute("data-vip", "disabled");
  await page.getByRole("button", { name: /Switchover/ }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByTestId("preflight")).toBeVisible();
  await expect(dialog.getByTestId("preflight")).toHaveAttribute("data-failed", "0");
  await expect(dialog.locator('[data-testid="preflight"] li[data-ok="false"]')).toHaveCount(0);
  await dialog.getByLabel(/Reason/).fill("e2e: patching host 1");
  await dialog.getByRole("button", { name: "Make sip-2 primary" }).click();

  const timeline = dialog.getByTestId("operation-timeline");
  await expect(timeline).toBeVisible();
  await page.screenshot({ path: `${ART}/pair-switchover.png`, fullPage: true });
  await expect(timeline).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  const actions = await timeline.getByTestId("operation-step").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
  expect(actions).toEqual(expect.arrayContaining(["demote", "vip_disable", "promote", "vip_enable", "verify"]));
  for (const d of await timeline.getByTestId("step-duration").allTextContents()) expect(d).toMatch(/\d+(\.\d+)? (ms|s)/);
  await expect(dialog.getByTestId("operation-result")).toContainText("sip-2");
  await page.screenshot({ path: `${ART}/pair-switchover-done.png`, fullPage: true });
  await dialog.getByRole("button", { name: "Close" }).first().click();

  // Without reload: the pair view and the other browser's dashboard.
  await expect(page.getByTestId("topology-host-2")).toHaveAttribute("data-mode", "primary", { timeout: 15_000 });
  await expect(page.getByTestId("topology-host-2")).toHaveAttribute("data-vip", "enabled");
  await expect(page.getByTestId("vip-holder")).toHaveText(pair.hostNames[1]);
  await expect(row(watcher.page, pair.name).getByText(pair.hostNames[1], { exact: true }).first()).toBeVisible({ timeout: 15_000 });
  await expect(row(watcher.page, pair.name)).toHaveAttribute("data-status", "healthy", { timeout: 15_000 });
  await watcher.ctx.close();
  await lab.waitHealthy(pair.id, 1);
});

test("two operators confirm at the same moment: one runs, the other is told a switchover is already running", async ({ browser }) => {
  const pair = lab.pairs[1];
  const a = await newSignedIn(browser, operator, `/pairs/${pair.id}`);
  const b = await newSignedIn(browser, operator2, `/pairs/${pair.id}`);
  for (const s of [a, b]) {
    await s.page.getByRole("button", { name: /Switchover/ }).click();
    await expect(s.page.getByRole("button", { name: "Make sip-2 primary" })).toBeEnabled();
  }
  await Promise.all([a, b].map((s) => s.page.getByRole("button", { name: "Make sip-2 primary" }).click()));
  const outcome = async (s: typeof a) =>
    (await s.page.getByTestId("switchover-error").count()) ? await s.page.getByTestId("switchover-error").innerText() : (await s.page.getByTestId("operation-timeline").count()) ? "timeline" : "";
  await expect.poll(async () => [await outcome(a), await outcome(b)].filter(Boolean).length, { timeout: 15_000 }).toBe(2);
  const results = [await outcome(a), await outcome(b)];
  expect(results.filter((r) => r === "timeline")).toHaveLength(1);
  expect(results.find((r) => r !== "timeline")).toMatch(/refused.*(already|running|in progress)/i);
  await a.ctx.close();
  await b.ctx.close();
  await lab.waitHealthy(pair.id, 1);
});

test("killing the primary SIP Server: the pair goes failing over, then healthy with the other primary, live", async ({ page }) => {
  const pair = lab.pairs[1]; // sip-2 (server index 1) is primary after the previous test
  await signIn(page, operator, `/pairs/${pair.id}`);
  await expect(page.getByTestId("topology-host-2")).toHaveAttribute("data-mode", "primary");
  // Record every status the badge shows, however briefly.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __seen: string[] }).__seen = seen;
    const record = () => {
      const s = document.querySelector('[data-testid="pair-page"] [data-testid="pair-status"]')?.getAttribute("data-status");
      if (s && seen[seen.length - 1] !== s) seen.push(s);
    };
    record();
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
  });
  const v = await lab.pairView(pair.id);
  const pid = v!.servers[1].pid!;
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGKILL");
  await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-mode", "primary", { timeout: 30_000 });
  await expect(page.getByTestId("pair-status").first()).toHaveAttribute("data-status", "healthy", { timeout: 30_000 });
  const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
  expect(seen[0]).toBe("healthy");
  expect(seen).toContain("failing_over");
  expect(seen[seen.length - 1]).toBe("healthy");
  await expect(page.locator('[data-testid="recent-op"]').first()).toContainText(/Failover/, { timeout: 15_000 });
});

test("audit page shows the switchover with its steps; filters in the URL; exports", async ({ page }) => {
  const pair = lab.pairs[0];
  await signIn(page, operator, `/audit?pair=${pair.id}&action=operation.finished`);
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toBeVisible();
  for (const a of await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-action")))) expect(a).toBe("operation.finished");
  await rows.first().locator("td").nth(2).click();
  const drawer = page.getByTestId("audit-drawer");
  await expect(drawer).toBeVisible();
  await expect(drawer).toContainText("manual_switchover");
  const steps = await drawer.getByTestId("operation-step").allInnerTexts();
  expect(steps.join("\n")).toMatch(/Demote sip-1[\s\S]*VIP disabled on[\s\S]*Promote sip-2[\s\S]*VIP enabled on/);
  await page.screenshot({ path: `${ART}/audit.png`, fullPage: false });
  await page.keyboard.press("Escape");

  // Filter through the form: outcome and free text, reflected in the URL (deep link).
  await page.getByLabel("Search").fill("e2e: patching");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/q=e2e/);
  await page.getByLabel("Action").selectOption("operation.requested"); // the catalogue, by label
  await expect(page.getByLabel("Action").locator("option:checked")).toHaveText("Operation requested (switchover or override)");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/action=operation.requested/);
  await expect(rows).toHaveCount(1);

  const csvHref = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
  expect(csvHref).toContain(`pairId=${pair.id}`);
  expect(csvHref).toContain("q=e2e"); // the server applies the search, to the export as well
  const csv = await page.request.get(csvHref!);
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain("operation.requested");
  const json = await page.request.get((await page.getByRole("link", { name: "Export JSON" }).getAttribute("href"))!);
  expect(json.status()).toBe(200);
  expect(await json.text()).toContain(pair.id);

  await page.getByRole("button", { name: "Verify integrity" }).click();
  await expect(page.getByTestId("verify-result")).toContainText(/Integrity verified/);
  await page.screenshot({ path: `${ART}/audit-filtered.png`, fullPage: false });
});

test("alarm acknowledge: a cut-off host raises an alarm the operator acknowledges, live", async ({ page }) => {
  const pair = lab.pairs[0];
  await signIn(page, operator, "/alarms");
  await pair.agents[0].stop("SIGKILL"); // host 1's agent goes away: the controller loses its link
  try {
    const alarm = page.locator('[data-testid="alarm-row"][data-kind="host_disconnected"]').filter({ hasText: pair.hostNames[0] }).first();
    await expect(alarm).toBeVisible({ timeout: 30_000 }); // arrives live, no reload
    await alarm.getByRole("button", { name: /^Acknowledge:/ }).click();
    await alarm.getByRole("button", { name: "Acknowledge", exact: true }).click(); // no comment: it is optional
    await expect(alarm.getByTestId("alarm-ack")).toContainText(`Acknowledged by ${operator.username}`);
    await expect(alarm).toHaveAttribute("data-acked", "true");
    // The pair view draws the cut-off host disconnected.
    await page.goto(`/pairs/${pair.id}`);
    await expect(page.getByTestId("topology-host-1")).toHaveAttribute("data-connected", "false");
    await expect(page.getByTestId("topology")).toContainText("DISCONNECTED");
    await page.screenshot({ path: `${ART}/pair-host-cut.png`, fullPage: false });
  } finally {
    await pair.restartAgent(0);
  }
});

test("hosts page shows each agent's apps and VIPs as the API reports them", async ({ page }) => {
  const pair = lab.pairs[1];
  await signIn(page, viewer, "/hosts");
  const card = page.locator(`[data-testid="host-card"][data-host="${pair.hostNames[0]}"]`);
  await expect(card).toHaveAttribute("data-connected", "true");
  await expect(card).toContainText("sip");
  await expect(card).toContainText(pair.vip);
  await expect(card).toContainText(/ms/); // round-trip time
  await page.screenshot({ path: `${ART}/hosts.png`, fullPage: false });
});

test("settings: an admin changes a user's role; their own role is shown, not offered", async ({ page }) => {
  const who = await lab.createUser("promote", "viewer");
  await signIn(page, ADMIN, "/settings?tab=users");
  const entry = page.locator(`[data-testid="settings-user"][data-user="${who.username}"]`);
  const select = entry.getByLabel(`Role of ${who.username}`);
  await expect(select).toHaveValue("viewer");
  await select.selectOption("operator");
  await entry.getByRole("button", { name: `Save role of ${who.username}` }).click();
  await expect(entry.getByRole("button", { name: `Save role of ${who.username}` })).toHaveCount(0);
  await expect(select).toHaveValue("operator");
  const users = await lab.admin.get("/api/users");
  expect((await users.json()).users.find((u: { username: string }) => u.username === who.username).role).toBe("operator");
  // The signed-in admin's own role is shown, not offered for change.
  await expect(page.locator(`[data-testid="settings-user"][data-user="${ADMIN.username}"]`).getByRole("combobox")).toHaveCount(0);
});
