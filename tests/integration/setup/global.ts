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
    templateDatabase: string;
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
  // A migrated template (migrating once per run), then the run's database as a copy of it.
  const name = testDatabaseName();
  const template = `${name}_tpl`;
  let url: string;
  try {
    await createDatabaseOn(adminUrl, template, { migrate: true });
    url = await createDatabaseOn(adminUrl, name, { template });
  } catch (e) {
    await dropDatabaseOn(adminUrl, template).catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  process.env.DATABASE_URL = url;
  process.env.SWITCHYARD_TEST_ADMIN_URL = adminUrl;
  process.env.SWITCHYARD_TEST_TEMPLATE_DB = template;
  project.provide("templateDatabase", template);
  project.provide("databaseUrl", url);
  project.provide("adminDatabaseUrl", adminUrl);
  console.log(`[integration] database ${name} on ${embedded ? `embedded Postgres (port ${embedded.port})` : "DATABASE_URL's server"}`);

  return async () => {
    try {
      await dropDatabaseOn(adminUrl, name);
      await dropDatabaseOn(adminUrl, template);
    } finally {
      if (embedded) await embedded.stop();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    }
  };
}
