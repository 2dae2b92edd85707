// The audit detail drawer renders an operation's details for a person: steps with durations and
// expandable script output, the before → after state of each SIP Server, and older rows whose steps are
// short strings. Data from the fake API (e2e/fixtures/mock-api.ts); the pages are the real server's.
import { expect, test } from "@playwright/test";
import { mockApi, mockPair } from "../fixtures/mock-api";

test("operation.finished: steps with durations and script output, before → after table", async ({ page, baseURL }) => {
  await mockApi(page, baseURL!, { pairs: 12, role: "viewer" });
  await page.goto("/audit");
  const row = page.locator('[data-testid="audit-row"][data-action="operation.finished"]').first();
  await row.locator("td").nth(2).click(); // the action cell (the pair cell is a link)
  const drawer = page.getByTestId("audit-drawer");
  await expect(drawer).toBeVisible();
  await expect(drawer).toContainText("Manual switchover");
  const steps = drawer.getByTestId("operation-step");
  await expect(steps).toHaveCount(5);
  await expect(steps.first()).toContainText("Demote sip-1 on host-a to backup");
  await expect(steps.nth(1)).toContainText("VIP disabled on host-a");
  await expect(steps.nth(1)).toHaveAttribute("data-follows", "true");
  await expect(steps.first().getByTestId("step-duration")).toHaveText(/\d+ ms/);
  // Script output is folded away until asked for.
  await expect(drawer.getByText("demote sip-1 on host-a: ok")).toBeHidden();
  await steps.first().getByText(/Script output \(1 run\)/).click();
  await expect(drawer.getByText("demote sip-1 on host-a: ok")).toBeVisible();
  // Before → after: sip-1 went from primary to backup, the VIP moved.
  const table = drawer.getByTestId("audit-before-after");
  const sip1 = table.locator('[data-testid="audit-server-state"][data-server="sip-1"]');
  await expect(sip1.locator('td[data-changed="true"]')).toHaveCount(2);
  await expect(sip1).toContainText(/primary[\s\S]*→[\s\S]*backup/i);
  await expect(sip1.locator("td").first()).toContainText("unchanged");
  // Hashes are there, folded.
  await expect(drawer.getByText("Hash chain")).toBeVisible();
  await page.screenshot({ path: "artifacts/audit-drawer.png", fullPage: false });
});

test("older events whose steps are short strings still show their steps", async ({ page, baseURL }) => {
  const { pairs } = await mockApi(page, baseURL!, { pairs: 12, role: "viewer" });
  const legacy = {
    id: "77",
    at: new Date().toISOString(),
    actor: "controller",
    action: "operation.finished",
    targetType: "operation",
    targetId: "op-legacy",
    pairId: pairs[0].id,
    outcome: "failure",
    durationMs: 812,
    details: { kind: "failover", status: "failed", error: "promote timed out", epoch: 1, steps: ["1 demote succeeded", "2 promote failed", "3 vip_enable skipped"] },
    hash: "ab".repeat(32),
    prevHash: "cd".repeat(32),
  };
  await page.route((url) => url.pathname === "/api/audit", (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify({ items: [legacy], nextCursor: null }) }));
  await page.goto("/audit");
  await page.getByTestId("audit-row").first().locator("td").nth(2).click();
  const drawer = page.getByTestId("audit-drawer");
  await expect(drawer.getByTestId("audit-error")).toContainText("promote timed out");
  const steps = drawer.getByTestId("operation-step");
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(1)).toHaveAttribute("data-status", "failed");
  await expect(steps.nth(1)).toContainText("Promote to primary");
  await expect(drawer.getByTestId("audit-before-after")).toHaveCount(0);
});

test("the fixtures' VIPs are lab addresses (198.18.0.0/24)", () => {
  for (let i = 0; i < 1000; i++) expect(mockPair(i).vip.address).toMatch(/^198\.18\.0\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/);
});
