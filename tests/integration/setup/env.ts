// Runs in every integration test worker before the test file: point DATABASE_URL at the run's database.
import { afterAll, inject } from "vitest";
import { removeTempDirs } from "../agent/helpers";

process.env.DATABASE_URL = inject("databaseUrl");
process.env.SWITCHYARD_TEST_ADMIN_URL = inject("adminDatabaseUrl");
process.env.SWITCHYARD_TEST_TEMPLATE_DB = inject("templateDatabase");

// Every temp folder the agent helpers made for this file (bundles, agent configs and state) goes after it.
afterAll(() => removeTempDirs());
