// Settings → Notifications end to end: an admin creates a webhook channel (with its write-only HMAC key) to a
// receiver this test starts, sends a test, and sees it "sent" in the delivery log; the receiver got it,
// signed. A template with an unknown variable is refused next to its field. Real server, Debian's Chromium.
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN } from "../fixtures/lab";

let server: Server;
let url = "";
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/noc`;
});

test.afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function signIn(page: Page, path: string) {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

test("a webhook channel, Send test, and the delivery says sent", async ({ page }) => {
  const name = `noc-${Date.now().toString(36)}`;
  await signIn(page, "/settings?tab=notifications");
  await expect(page.getByRole("tab", { name: "Notifications" })).toHaveAttribute("data-state", "active");

  const form = page.getByRole("form", { name: "New channel" });
  await form.getByLabel("Channel name").fill(name);
  await form.getByLabel("URL").fill("ftp://nowhere/x");
  await form.getByLabel("HMAC key").fill("e2e-hmac-key");
  await form.getByRole("button", { name: "Create channel" }).click();
  await expect(form.getByRole("alert")).toContainText("http:// or https://");
  await form.getByLabel("URL").fill(url);
  await form.getByRole("button", { name: "Create channel" }).click();

  const row = page.getByTestId(`channel-${name}`);
  await expect(row).toContainText("HMAC key set");
  await expect(page.getByText("e2e-hmac-key")).toHaveCount(0);
  await row.getByRole("button", { name: `Send test to ${name}` }).click();
  await expect(row.getByRole("status")).toContainText("queued");

  const log = page.getByRole("table", { name: "Delivery log" });
  const delivery = log.getByRole("row").filter({ hasText: name }).first();
  await expect(delivery).toContainText("test");
  await expect(delivery.getByTestId("delivery-status")).toHaveText("sent", { timeout: 10_000 });

  await page.setViewportSize({ width: 1440, height: 900 });
  await page.screenshot({ path: "docs/img/settings-notifications.png", fullPage: true });
  expect(received).toHaveLength(1);
  const [got] = received;
  expect(got.headers["x-switchyard-event"]).toBe("test");
  expect(got.headers["x-switchyard-signature"]).toBe("sha256=" + createHmac("sha256", "e2e-hmac-key").update(got.body).digest("hex"));
  expect(JSON.parse(got.body)).toMatchObject({ event: "test", deliveryId: got.headers["x-switchyard-delivery"] });

  // The secret is write-only: editing shows "set" with Replace / Remove, never the value.
  await row.getByRole("button", { name: `Edit ${name}` }).click();
  const edit = page.getByRole("form", { name: `Edit channel ${name}` });
  await expect(edit.getByRole("button", { name: "Replace" })).toBeVisible();
  await expect(edit.locator('input[type="password"]')).toHaveCount(0);
  await edit.getByRole("button", { name: "Cancel" }).click();

  // An e-mail template naming an unknown variable: refused, next to its field.
  const mailForm = page.getByRole("form", { name: "New channel" });
  await mailForm.getByLabel("Channel name").fill(`${name}-mail`);
  await mailForm.getByLabel("Type").selectOption("email");
  await mailForm.getByLabel("SMTP server").fill("smtp.example.com");
  await mailForm.getByLabel("From").fill("switchyard@example.com");
  await mailForm.getByLabel("To", { exact: true }).fill("noc@example.com");
  await mailForm.getByLabel("Subject template").fill("[{{severity}}] {{pear}}");
  await mailForm.getByRole("button", { name: "Create channel" }).click();
  await expect(mailForm.getByRole("alert")).toContainText("unknown variable {{pear}}");

  // Clean up: delete the webhook channel (with its rules and log).
  await row.getByRole("button", { name: `Delete channel ${name} (with its rules and delivery log)` }).click();
  await row.getByRole("button", { name: "Yes, delete" }).click();
  await expect(page.getByTestId(`channel-${name}`)).toHaveCount(0);
});
