// The panel while its database is away: the real server (production build) reaches Postgres through a
// proxy the test cuts; a real Chromium page that was open keeps its live channel and shows that the
// controller runs on its journal; /api/health says so; when the database is back the banner goes.
import { chromium, type Browser } from "@playwright/test";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

let t: TestDatabase;
let proxy: TcpProxy;
let srv: StartedServer;
let browser: Browser;

beforeAll(async () => {
  ensureNextBuild();
  t = await createTestDatabase();
  proxy = await startTcpProxy(t.url);
  srv = await startServer({ databaseUrl: proxy.url, adminToken: false });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
  await proxy?.close();
  await t?.drop();
});

it("an open page shows the journal banner while the database is away, and loses it when it is back", async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${srv.url}/login`);
  await page.getByLabel(/username/i).fill(srv.adminUsername);
  await page.getByLabel(/password/i).fill(srv.adminPassword);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL(`${srv.url}/`);
  await page.getByRole("heading", { name: "Pairs" }).waitFor();
  expect(await page.getByTestId("journal-banner").count()).toBe(0);
  // The controller of this instance leads (it is the one that will run on its journal).
  for (let i = 0; i < 100; i++) {
    if (((await (await fetch(`${srv.url}/api/health`)).json()) as { controller: unknown }).controller) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await (await fetch(`${srv.url}/api/health`)).json()).toMatchObject({ controller: { writes: "database", pending: 0 } });

  proxy.down();
  const banner = page.getByTestId("journal-banner");
  await banner.waitFor({ timeout: 15_000 });
  expect(await banner.textContent()).toMatch(/Database unreachable — failover goes on\..*journal.* since .*written to the database when it is back/);
  const health = await fetch(`${srv.url}/api/health`);
  expect(health.status).toBe(503);
  expect(await health.json()).toMatchObject({ db: "error", controller: { writes: "journal", since: expect.any(String) } });
  // A request that needs the database is told to try again (503, Retry-After), not "internal error" (500).
  const pairs = await page.request.get(`${srv.url}/api/pairs`);
  expect(pairs.status()).toBe(503);
  expect(pairs.headers()["retry-after"]).toBe("5");
  expect(await pairs.json()).toEqual({ error: { code: "unavailable", message: "the database cannot be reached; try again shortly (failover goes on without it)" } });

  proxy.restore();
  await banner.waitFor({ state: "detached", timeout: 15_000 });
  expect(await (await fetch(`${srv.url}/api/health`)).json()).toMatchObject({ status: "ok", controller: { writes: "database", pending: 0 } });
  await page.close();
});
