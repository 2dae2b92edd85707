// The operator's tools end to end (issue 10): the alarm lifecycle, the manual overrides through their
// confirmation dialog, maintenance (bulk switch, windows) — against the real server, real host agents and
// simulated SIP Servers (e2e/fixtures/lab.ts), in Debian's Chromium. The overrides are driven from
// /pairs/:id/actions (components/overrides/PairActionsPage.tsx). Screenshots go to docs/img/.
import { mkdirSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { startUiLab, type UiLab } from "../fixtures/lab";

const IMG = "docs/img";
let lab: UiLab;
let operator: { username: string; password: string };
let viewer: { username: string; password: string };

test.describe.configure({ mode: "serial" });
test.setTimeout(90_000);

test.beforeAll(async ({ baseURL }) => {
  test.setTimeout(120_000);
  mkdirSync(IMG, { recursive: true });
  mkdirSync("artifacts", { recursive: true });
  lab = await startUiLab(baseURL!, 2);
  operator = await lab.createUser("opx", "operator");
  viewer = await lab.createUser("viewx", "viewer");
  for (const p of lab.pairs) await lab.waitHealthy(p.id, 0, 60_000);
});

test.afterAll(async () => {
  await lab?.cleanup();
});

async function signIn(page: Page, path: string, who = operator) {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Both widths, the same state: 1440 px, then 390 px (a phone), back to 1440. */
async function shoot(page: Page, name: string, fullPageAt390 = false) {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.screenshot({ path: `${IMG}/${name}-1440.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  const scrollX = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(scrollX, `${name} at 390 px scrolls sideways`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${IMG}/${name}-390.png`, fullPage: fullPageAt390 });
  await page.setViewportSize({ width: 1440, height: 900 });
}

async function pidOf(pairId: string, i: 0 | 1): Promise<number> {
  const v = await lab.pairView(pairId);
  const pid = v!.servers[i].pid!;
  expect(pid).toBeGreaterThan(0);
  return pid;
}

async function waitServer(pairId: string, i: 0 | 1, want: { mode?: string; processState?: string }) {
  await expect
    .poll(async () => {
      const v = (await lab.pairView(pairId)) as unknown as { servers: { mode: string; processState: string }[]; operation: unknown } | null;
      const s = v?.servers[i];
      return s && !v.operation && (!want.mode || s.mode === want.mode) && (!want.processState || s.processState === want.processState) ? "ok" : JSON.stringify(s);
    }, { timeout: 30_000, intervals: [200] })
    .toBe("ok");
}

/** Opens a server's menu on /pairs/:id/actions and picks one item; returns the dialog. */
async function serverAction(page: Page, server: string, item: string) {
  await page.getByRole("button", { name: `Actions for ${server}` }).click();
  await page.getByRole("menuitem", { name: item, exact: true }).click();
  const dialog = page.getByTestId("override-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("preflight")).toBeVisible();
  return dialog;
}

async function confirmAndFinish(page: Page, button: string, screenshot?: string) {
  const dialog = page.getByTestId("override-dialog");
  await dialog.getByRole("button", { name: button, exact: true }).click();
  const timeline = dialog.getByTestId("operation-timeline");
  await expect(timeline).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  if (screenshot) await page.screenshot({ path: screenshot });
  await dialog.getByTestId("override-footer").getByRole("button", { name: "Close" }).click();
  await expect(dialog).toHaveCount(0);
}

const alarmRow = (page: Page, kind: string, text: string) => page.locator(`[data-testid="alarm-row"][data-kind="${kind}"]`).filter({ hasText: text });

test("a killed primary leaves a cleared, unacknowledged critical alarm until an operator acknowledges it with a comment", async ({ page }) => {
  const pair = lab.pairs[0];
  await signIn(page, "/alarms");
  process.kill(await pidOf(pair.id, 0), "SIGKILL");
  await lab.waitHealthy(pair.id, 1);
  // The failover healed the pair, and the alarm stays in the default (open) view, waiting for a person.
  const row = alarmRow(page, "primary_failed", pair.name).first();
  await expect(row).toHaveAttribute("data-state", "cleared_unacknowledged", { timeout: 15_000 });
  await expect(row).toContainText("critical");
  await expect(row).toContainText(pair.hostNames[0]); // names, not ids
  await expect(page.getByTestId("unacked-count")).toContainText(/waiting for acknowledgement/);
  await row.getByRole("button", { name: /^Acknowledge:/ }).click();
  await row.getByLabel(/Comment/).fill("e2e: INC-42 seen");
  await row.getByRole("button", { name: "Acknowledge", exact: true }).click();
  await expect(alarmRow(page, "primary_failed", pair.name)).toHaveCount(0); // acknowledged and over: out of the open view
  await page.getByTestId("state-acknowledged").click();
  await expect(page).toHaveURL(/state=acknowledged/);
  const acked = alarmRow(page, "primary_failed", pair.name).first();
  await expect(acked.getByTestId("alarm-ack")).toContainText(operator.username);
  await expect(acked.getByTestId("alarm-ack")).toContainText("e2e: INC-42 seen");
});

test("two alarms acknowledged at once, with one comment", async ({ page }) => {
  const [a, b] = lab.pairs;
  // Each pair's backup fails (the agent restarts it): two major alarms that wait for a person.
  process.kill(await pidOf(a.id, 0), "SIGKILL"); // pair a's backup since the failover
  process.kill(await pidOf(b.id, 1), "SIGKILL");
  await signIn(page, "/alarms?severity=critical,major");
  const rows = [alarmRow(page, "backup_failed", a.name).first(), alarmRow(page, "backup_failed", b.name).first()];
  for (const r of rows) await expect(r).toHaveAttribute("data-state", /active|cleared_unacknowledged/, { timeout: 15_000 });
  await lab.waitHealthy(a.id, 1);
  await lab.waitHealthy(b.id, 0);
  for (const r of rows) await expect(r).toHaveAttribute("data-state", "cleared_unacknowledged", { timeout: 15_000 });
  for (const r of rows) await r.getByRole("checkbox").check();
  await shoot(page, "alarms");
  const bar = page.getByTestId("bulk-ack");
  await bar.getByLabel("Comment for the selected alarms").fill("e2e: patch night");
  await bar.getByRole("button", { name: "Acknowledge 2 alarms" }).click();
  await expect(page.getByTestId("bulk-note")).toHaveText("Acknowledged 2 alarms.");
  for (const pair of [a, b]) await expect(alarmRow(page, "backup_failed", pair.name)).toHaveCount(0);
  const res = await lab.admin.get(`/api/alarms?state=acknowledged&kind=backup_failed&pairId=${b.id}`);
  expect((await res.json()).alarms[0].acknowledgeComment).toBe("e2e: patch night");
});

test("a viewer reads the alarms with no way to acknowledge, and no override menus", async ({ page }) => {
  await signIn(page, "/alarms?state=all", viewer);
  await expect(page.getByTestId("alarm-row").first()).toBeVisible();
  await expect(page.getByRole("button", { name: /^Acknowledge(:| \d)/ })).toHaveCount(0); // not the "Acknowledged" filter
  await expect(page.getByRole("checkbox", { name: /^Select/ })).toHaveCount(0);
  await page.goto(`/pairs/${lab.pairs[0].id}/actions`);
  await expect(page.getByText(/can only view/)).toBeVisible();
  await expect(page.getByRole("button", { name: /^Actions for/ })).toHaveCount(0);
});

test("overrides through the dialog: stop the backup, start it, restart it, graceful stop of the primary", async ({ page }) => {
  const pair = lab.pairs[1]; // sip-1 primary, sip-2 backup
  await signIn(page, `/pairs/${pair.id}/actions`);

  let dialog = await serverAction(page, "sip-2", "Stop…");
  await expect(dialog.getByTestId("override-effect")).toContainText("sip-2");
  await confirmAndFinish(page, "Stop sip-2");
  await waitServer(pair.id, 1, { processState: "stopped" });

  dialog = await serverAction(page, "sip-2", "Start…");
  await expect(dialog.getByTestId("override-effect")).toContainText("starts in backup mode");
  await confirmAndFinish(page, "Start sip-2 as backup");
  await lab.waitHealthy(pair.id, 0);

  dialog = await serverAction(page, "sip-2", "Restart…");
  await expect(dialog.getByLabel("backup")).toBeChecked(); // its mode now
  await dialog.getByLabel("primary").check(); // the other choice: refused while sip-1 is primary
  await expect(dialog.locator('[data-check="peer_not_primary"]')).toHaveAttribute("data-ok", "false");
  await expect(dialog.getByRole("button", { name: "Restart sip-2 as primary" })).toBeDisabled();
  await expect(dialog.getByTestId("preflight").locator("li").first()).toHaveAttribute("data-ok", "false"); // failed checks first, shown
  await expect(dialog.getByTestId("preflight").locator("li").first()).toBeVisible();
  await dialog.getByLabel("backup").check();
  await confirmAndFinish(page, "Restart sip-2 as backup");
  await lab.waitHealthy(pair.id, 0);

  dialog = await serverAction(page, "sip-1", "Graceful stop…");
  await expect(dialog.getByTestId("override-effect")).toContainText("takes over first");
  await confirmAndFinish(page, "Gracefully stop sip-1", "artifacts/override-graceful-stop.png");
  await waitServer(pair.id, 1, { mode: "primary" });
  await waitServer(pair.id, 0, { processState: "stopped" });
  const started = await lab.admin.post(`/api/pairs/${pair.id}/operations`, { data: { kind: "app_start", serverId: (await serverIds(pair.id))[0] } });
  expect(started.status(), await started.text()).toBe(202);
  await lab.waitHealthy(pair.id, 1);
});

async function serverIds(pairId: string): Promise<[string, string]> {
  const r = await lab.admin.get(`/api/pairs/${pairId}`);
  const ids = (await r.json()).pair.servers.map((s: { id: string }) => s.id);
  return [ids[0], ids[1]];
}

test("clear the hold-down after a failover", async ({ page }) => {
  const pair = lab.pairs[1]; // sip-2 primary
  const patch = await lab.admin.patch(`/api/pairs/${pair.id}`, { data: { holdDownSeconds: 600 } });
  expect(patch.status(), await patch.text()).toBe(200);
  process.kill(await pidOf(pair.id, 1), "SIGKILL");
  await lab.waitHealthy(pair.id, 0);
  await signIn(page, `/pairs/${pair.id}/actions`);
  await page.getByRole("button", { name: "Clear hold-down…" }).click();
  const dialog = page.getByTestId("override-dialog");
  await expect(dialog.locator('[data-check="holddown"]')).toHaveAttribute("data-ok", "true");
  await confirmAndFinish(page, "Clear hold-down");
  const pf = await lab.admin.get(`/api/pairs/${pair.id}/preflight?kind=clear_holddown`);
  expect((await pf.json()).preflight.checks.find((c: { id: string }) => c.id === "holddown").ok).toBe(false);
});

test("maintenance: bulk on; a dark pair promoted by hand and a switchover, each only with the confirmation", async ({ page }) => {
  const pair = lab.pairs[1]; // sip-1 primary
  await signIn(page, "/maintenance");
  await page.getByLabel(`Select ${pair.name}`).check();
  await page.getByLabel("Reason (optional)").fill("e2e: by hand");
  await page.getByRole("button", { name: "Maintenance on" }).click();
  await expect(page.getByTestId("maintenance-note")).toContainText(`Maintenance on: ${pair.name}`);
  await expect(page.locator(`[data-testid="maintenance-pair"][data-pair="${pair.name}"] [data-testid="maintenance-badge"]`)).toHaveAttribute("data-state", "on");

  await page.getByRole("link", { name: `Act by hand on ${pair.name}` }).click();
  await expect(page.getByTestId("maintenance-badge")).toContainText("In maintenance");
  // Stop the primary: in maintenance the controller does not fail over, so the pair goes dark.
  let dialog = await serverAction(page, "sip-1", "Stop…");
  await expect(dialog.getByTestId("override-effect")).toContainText("does not fail over");
  await expect(dialog.getByRole("button", { name: "Stop sip-1", exact: true })).toBeDisabled();
  await dialog.getByLabel(/act by hand anyway/).check();
  await confirmAndFinish(page, "Stop sip-1");
  await expect(page.getByTestId("pair-status").first()).toHaveAttribute("data-status", "not_serving", { timeout: 15_000 });

  await page.getByRole("button", { name: "Promote sip-2…" }).click();
  dialog = page.getByTestId("override-dialog");
  await expect(dialog.locator('[data-check="not_maintenance"]')).toHaveAttribute("data-ok", "false");
  await expect(dialog.getByRole("button", { name: "Promote sip-2", exact: true })).toBeDisabled();
  await shoot(page, "overrides");
  await dialog.getByLabel("Reason").fill("e2e: dark pair in maintenance");
  await dialog.getByLabel(/act by hand anyway/).check();
  await expect(dialog.locator('[data-check="not_maintenance"]')).toHaveAttribute("data-ok", "true");
  await confirmAndFinish(page, "Promote sip-2");
  await waitServer(pair.id, 1, { mode: "primary" });

  // A manual switchover in maintenance: refused until confirmed, then runs.
  const [s1] = await serverIds(pair.id);
  const start = await lab.admin.post(`/api/pairs/${pair.id}/operations`, { data: { kind: "app_start", serverId: s1, confirmMaintenance: true } });
  expect(start.status(), await start.text()).toBe(202);
  await lab.waitHealthy(pair.id, 1);
  await page.getByRole("button", { name: "Switch over…" }).click();
  dialog = page.getByTestId("override-dialog");
  await expect(dialog.getByRole("button", { name: "Make sip-1 primary" })).toBeDisabled();
  await dialog.getByLabel(/act by hand anyway/).check();
  await confirmAndFinish(page, "Make sip-1 primary");
  await lab.waitHealthy(pair.id, 0);

  const off = await lab.admin.post("/api/pairs/maintenance", { data: { pairIds: [pair.id], maintenance: false } });
  expect(off.status()).toBe(200);
});

test("a maintenance window scheduled for a pair, shown on it, ended early", async ({ page }) => {
  const pair = lab.pairs[0];
  await signIn(page, "/maintenance");
  await page.getByLabel(`Select ${pair.name}`).check();
  await page.getByLabel("Reason", { exact: true }).fill("e2e: patching host 1");
  await page.getByRole("button", { name: "Schedule for 1 pair" }).click();
  await expect(page.getByTestId("maintenance-note")).toContainText(`Scheduled 1 window: ${pair.name}`);
  const win = page.locator(`[data-testid="window"][data-pair="${pair.name}"]`);
  await expect(win).toHaveAttribute("data-state", "current");
  await expect(win).toContainText("e2e: patching host 1");
  await expect(page.locator(`[data-testid="maintenance-pair"][data-pair="${pair.name}"] [data-testid="maintenance-badge"]`)).toContainText("In maintenance until", { timeout: 15_000 });
  await expect.poll(async () => ((await lab.pairView(pair.id)) as unknown as { maintenance: boolean }).maintenance, { timeout: 15_000 }).toBe(true);
  await page.getByLabel(`Select ${pair.name}`).uncheck();
  await shoot(page, "maintenance", true);
  await win.getByRole("button", { name: "End now" }).click();
  await expect(page.getByTestId("maintenance-note")).toContainText(`The window of ${pair.name} ended now.`);
  await expect(win).toHaveCount(0);
  await page.getByRole("tab", { name: "Past" }).click();
  await expect(page).toHaveURL(/tab=past/);
  await expect(page.locator(`[data-testid="window"][data-pair="${pair.name}"]`).first()).toHaveAttribute("data-state", "past");
  await expect.poll(async () => ((await lab.pairView(pair.id)) as unknown as { maintenance: boolean }).maintenance, { timeout: 15_000 }).toBe(false);
});
