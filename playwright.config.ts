// End-to-end tier: the real server (production build) and Debian's Chromium. `npm run test:e2e`.
// Needs `next build` first. The server gets its own database: E2E_DATABASE_URL or DATABASE_URL if set
// (a fresh, migrated database there is the caller's job), else an embedded Postgres in a temp folder.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { defineConfig, devices } from "@playwright/test";

// Evaluated in the runner and again in each worker: the runner decides, workers inherit through env.
if (!process.env.SY_E2E_PORT) process.env.SY_E2E_PORT = String(20000 + Math.floor(Math.random() * 20000));
if (!process.env.SY_E2E_ADMIN_PASSWORD) process.env.SY_E2E_ADMIN_PASSWORD = `e2e-${randomBytes(9).toString("hex")}`;
if (!process.env.SY_E2E_DATA_DIR) {
  // Embedded Postgres runs as the `postgres` user when we are root: it must be able to enter the folder.
  process.env.SY_E2E_DATA_DIR = mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-"));
  chmodSync(process.env.SY_E2E_DATA_DIR, 0o755);
  // Only the process that made it (the runner; workers inherit the variable) removes it at exit.
  const made = process.env.SY_E2E_DATA_DIR;
  process.once("exit", () => rmSync(made, { recursive: true, force: true }));
}

const port = Number(process.env.SY_E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;
const databaseUrl = process.env.E2E_DATABASE_URL ?? process.env.DATABASE_URL;

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  // Per run: other runs on the machine clean their own output folder, never this one.
  outputDir: path.join("test-results", `e2e-${process.env.SY_E2E_PORT}`),
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: {
    // Through node_modules/.bin/tsx (not npx) so that Playwright's SIGTERM reaches the server itself.
    command: "node_modules/.bin/tsx server.ts",
    url: `${baseURL}/api/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: process.env.SY_E2E_SERVER_LOG === "1" ? "pipe" : "ignore",
    stderr: "pipe",
    // stdout carries the JSON log; shown when SY_E2E_SERVER_LOG=1.

    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    env: {
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      ADMIN_USERNAME: "admin",
      ADMIN_PASSWORD: process.env.SY_E2E_ADMIN_PASSWORD,
      SWITCHYARD_DATA_DIR: process.env.SY_E2E_DATA_DIR,
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
  },
});
