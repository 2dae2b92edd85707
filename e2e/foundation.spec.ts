// Foundation end to end: sign in, a forbidden action as a viewer, a validation error shown for bad input.
// Fixtures create their own data through the API (as the admin the server was started with).
import { expect, request as pwRequest, test, type APIRequestContext, type Page } from "@playwright/test";

const ADMIN = { username: "admin", password: process.env.SY_E2E_ADMIN_PASSWORD ?? "" };
const suffix = Date.now().toString(36);
const VIEWER = { username: `viewer-${suffix}`, password: "viewer-password-123" };

let admin: APIRequestContext;

test.beforeAll(async ({ baseURL }) => {
  admin = await pwRequest.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
  const login = await admin.post("/api/auth/login", { data: ADMIN });
  expect(login.status(), await login.text()).toBe(200);
  const created = await admin.post("/api/users", { data: { ...VIEWER, role: "viewer" } });
  expect(created.status(), await created.text()).toBe(201);
});

test.afterAll(async () => {
  await admin?.dispose();
});

async function signIn(page: Page, who: { username: string; password: string }, loginUrl = "/login") {
  await page.goto(loginUrl);
  await page.getByLabel("Username").fill(who.username);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("sign in as the first admin; a wrong password is refused", async ({ page }) => {
  await signIn(page, { username: ADMIN.username, password: "not-the-password" });
  await expect(page.getByText(/wrong username or password/i)).toBeVisible();
  await expect(page).toHaveURL(/\/login/);

  await signIn(page, ADMIN);
  await expect(page).not.toHaveURL(/\/login/);
  const me = await page.request.get("/api/auth/me");
  expect(await me.json()).toMatchObject({ user: { username: "admin", role: "admin" } });
});

test("sign in with a return path that would leave the panel: the browser stays on it", async ({ page, baseURL }) => {
  // The probe's case first: %09 is a tab, which Chromium drops from /\t/evil.example, leaving //evil.example.
  for (const next of ["%2F%09%2Fevil.example%2Fphish", "%2F%0A%2Fevil.example", "%2F%5Cevil.example", "%2F%2Fevil.example", "https%3A%2F%2Fevil.example"]) {
    await signIn(page, ADMIN, `/login?next=${next}`);
    await expect(page, next).toHaveURL(`${baseURL}/`);
    await expect(page.getByRole("heading", { name: "Pairs" })).toBeVisible();
  }
  // A path of the panel is still where the user returns to.
  await signIn(page, ADMIN, `/login?next=${encodeURIComponent("/audit?outcome=success")}`);
  await expect(page).toHaveURL(`${baseURL}/audit?outcome=success`);
});

test("a viewer is refused a state change (403) and cannot see admin settings", async ({ page, baseURL }) => {
  await signIn(page, VIEWER);
  await expect(page).not.toHaveURL(/\/login/);
  // The browser's own session, as the UI would send it.
  const res = await page.request.post("/api/hosts", {
    headers: { origin: baseURL! },
    data: { name: `h-${suffix}`, address: "10.0.0.1", agentUrl: "http://10.0.0.1:4999", agentToken: "agent-secret-0123456789" },
  });
  expect(res.status()).toBe(403);
  expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
  await page.goto("/settings");
  await expect(page.getByText(/settings are for admins/i)).toBeVisible();
  await expect(page.getByLabel("VIP address")).toHaveCount(0);
});

test("admin settings: an invalid VIP address shows a clear validation error", async ({ page }) => {
  // Two hosts for the pair form to choose from.
  for (const n of ["a", "b"]) {
    const r = await admin.post("/api/hosts", {
      data: { name: `e2e-${n}-${suffix}`, address: `10.0.9.${n === "a" ? 1 : 2}`, agentUrl: `http://10.0.9.${n === "a" ? 1 : 2}:4999`, agentToken: "agent-secret-0123456789" },
    });
    expect(r.status(), await r.text()).toBe(201);
  }
  await signIn(page, ADMIN);
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto("/settings?tab=pairs");
  const vip = page.getByLabel("VIP address");
  // The new-pair form is either shown inline or opened with "Add pair".
  const add = page.getByRole("button", { name: "Add pair" });
  await expect(vip.or(add).first()).toBeVisible();
  if (!(await vip.isVisible())) await add.click();
  await expect(vip).toBeVisible();
  // Everything valid except the VIP, so the error must be about the VIP.
  await page.getByLabel("Pair name").fill(`e2e-pair-${suffix}`);
  await page.getByLabel("Server 1 host").selectOption({ label: `e2e-a-${suffix}` });
  await page.getByLabel("Server 2 host").selectOption({ label: `e2e-b-${suffix}` });
  await vip.fill("999.1.1.1");
  await page.getByRole("button", { name: "Create pair" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /IPv4 or IPv6 address/i })).toBeVisible();
  const pairs = await admin.get("/api/pairs");
  expect((await pairs.json()).pairs.some((p: { vipAddress: string }) => p.vipAddress === "999.1.1.1")).toBe(false);
});

test("admin settings: a host's new agent URL asks for its agent token again", async ({ page }) => {
  const name = `e2e-move-${suffix}`;
  const created = await admin.post("/api/hosts", { data: { name, address: "10.0.9.3", agentUrl: "http://10.0.9.3:4999", agentToken: "agent-secret-0123456789" } });
  expect(created.status(), await created.text()).toBe(201);
  await signIn(page, ADMIN);
  await expect(page).not.toHaveURL(/\/login/);
  await page.goto("/settings?tab=hosts");
  await page.getByRole("listitem").filter({ hasText: name }).getByRole("button", { name: "Edit" }).click();
  const form = page.getByRole("form", { name: `Edit host ${name}` });
  await expect(form.getByText("Leave empty to keep the current token")).toBeVisible();
  await form.getByLabel("Agent URL").fill("http://10.0.9.33:4999");
  await expect(form.getByText(/required: re-enter the agent token/i)).toBeVisible();
  await form.getByRole("button", { name: "Save host" }).click();
  await expect(form.getByRole("alert").filter({ hasText: /re-enter the agent token when changing the agent URL/i })).toBeVisible();
  await expect(form.getByLabel("Agent token")).toHaveAttribute("aria-invalid", "true");

  await form.getByLabel("Agent token").fill("agent-secret-9876543210");
  await form.getByRole("button", { name: "Save host" }).click();
  await expect(form).toHaveCount(0);
  await expect(page.getByText("10.0.9.3 · http://10.0.9.33:4999")).toBeVisible();
});
