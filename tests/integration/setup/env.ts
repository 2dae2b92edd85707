// Runs in every integration test worker before the test file: point DATABASE_URL at the run's database.
import { inject } from "vitest";

process.env.DATABASE_URL = inject("databaseUrl");
process.env.SWITCHYARD_TEST_ADMIN_URL = inject("adminDatabaseUrl");
process.env.SWITCHYARD_TEST_TEMPLATE_DB = inject("templateDatabase");
