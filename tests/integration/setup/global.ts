// Vitest globalSetup for the integration tier: one throwaway, migrated database per run.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedHandle } from "../../../lib/db/embedded";
import { adminUrlFor, createDatabaseOn, dropDatabaseOn, assertLocalDatabase, testDatabaseName } from "../helpers/db";

const quiet = {
  info: (msg: string, fields?: Record<string, unknown>) => {
    if (process.env.SWITCHYARD_TEST_VERBOSE) console.log(JSON.stringify({ level: "info", msg, ...fields }));
  },
  warn: (msg: string, fields?: Record<string, unknown>) => console.warn(JSON.stringify({ level: "warn", msg, ...fields })),
};

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedHandle | undefined;
  let tmp: string | undefined;
  let adminUrl: string;
  const given = process.env.DATABASE_URL?.trim();
  if (given) {
    assertLocalDatabase(given);
    adminUrl = adminUrlFor(given);
  } else {
    tmp = await mkdtemp(path.join(os.tmpdir(), "switchyard-test-pg-"));
    embedded = await startEmbeddedPostgres({ dataDir: tmp, log: quiet, persistent: false, database: "postgres" });
    adminUrl = embedded.adminUrl;
  }
  const name = testDatabaseName();
  const url = await createDatabaseOn(adminUrl, name, { migrate: true });
  process.env.DATABASE_URL = url;
  process.env.SWITCHYARD_TEST_ADMIN_URL = adminUrl;
  project.provide("databaseUrl", url);
  project.provide("adminDatabaseUrl", adminUrl);
  console.log(`[integration] database ${name} on ${embedded ? `embedded Postgres (port ${embedded.port})` : "DATABASE_URL's server"}`);

  return async () => {
    try {
      await dropDatabaseOn(adminUrl, name);
    } finally {
      if (embedded) await embedded.stop();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  };
}
