// 1,000 pairs stay fluid: the dashboard renders only the rows in view (virtualised) and filters
// instantly. The pair data comes from the fake API in e2e/fixtures/mock-api.ts (pages are the real
// server's); building 2,000 real agents for this is not the point of the test.
import { expect, test } from "@playwright/test";
import { mockApi } from "../fixtures/mock-api";

test("dashboard with 1,000 pairs renders a window of rows and filters quickly", async ({ page, baseURL }) => {
  await mockApi(page, baseURL!, { pairs: 1000, role: "viewer" });
  const t0 = Date.now();
  await page.goto("/");
  await expect(page.getByTestId("count-pairs")).toContainText("1000");
  const rendered = await page.getByTestId("pair-row").count();
  expect(rendered).toBeGreaterThan(3);
  expect(rendered).toBeLessThan(80); // virtualised: not 1,000 DOM rows
  expect(Date.now() - t0).toBeLessThan(15_000);

  // Scrolling to the end brings the last rows in.
  await page.getByLabel("Order").selectOption("name");
  await page.mouse.wheel(0, 200_000);
  await expect(page.locator('[data-testid="pair-row"][data-pair="pair-1000"]')).toBeVisible();

  await page.getByLabel("Search").fill("pair-0777");
  await expect(page.getByTestId("pair-row")).toHaveCount(1);
  await expect(page.getByTestId("pair-row")).toHaveAttribute("data-pair", "pair-0777");
  await expect(page.getByText("1 of 1000 shown")).toBeVisible();
});
