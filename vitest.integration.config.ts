// Integration tier: real Postgres, real processes. `npm run test:integration`.
// globalSetup creates ONE throwaway database (switchyard_test_<random>, migrated) per run, on the server of
// DATABASE_URL when set (local hosts only), else on an embedded Postgres started for the run; every test
// file sees it as process.env.DATABASE_URL. It is dropped at the end. See docs/testing.md.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: { alias: [{ find: /^@\//, replacement: `${root}/` }] },
  test: {
    root,
    include: ["tests/integration/**/*.test.ts"],
    environment: "node",
    globalSetup: ["tests/integration/setup/global.ts"],
    setupFiles: ["tests/integration/setup/env.ts"],
    // Files share one database and the machine has 2 cores: one file at a time.
    fileParallelism: false,
    maxWorkers: 1,
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
