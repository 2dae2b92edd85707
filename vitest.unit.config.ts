// Unit tier: pure logic, no I/O (no network, no database, no child processes). `npm run test:unit`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: { alias: [{ find: /^@\//, replacement: `${root}/` }] },
  test: {
    root,
    include: ["tests/unit/**/*.test.ts", "tests/unit/**/*.test.tsx"],
    environment: "node",
    testTimeout: 10_000,
    // 2 cores, other work on the machine: a small pool
    maxWorkers: 2,
  },
});
