// Runs in every integration test worker before the test file: point DATABASE_URL at the run's database,
// and the audit key and checkpoints at a folder of this file's own (servers it starts inherit them).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, inject } from "vitest";
import { removeTempDirs } from "../agent/helpers";

process.env.DATABASE_URL = inject("databaseUrl");
process.env.SWITCHYARD_TEST_ADMIN_URL = inject("adminDatabaseUrl");
process.env.SWITCHYARD_TEST_TEMPLATE_DB = inject("templateDatabase");
// Tests connect as the run's (superuser) DATABASE_URL unless they start a runtime role themselves.
delete process.env.DATABASE_APP_URL;

// The run's database is emptied between files (resetDatabase); the checkpoints of one file's chain must
// not be held against the next one's.
const auditDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-test-audit-"));
process.env.AUDIT_KEY_FILE = path.join(auditDir, "audit.key");
process.env.AUDIT_CHECKPOINT_FILE = path.join(auditDir, "audit-checkpoints.log");
// The controllers of this file keep their journal (records made while the database is away) here too.
process.env.SWITCHYARD_JOURNAL_DIR = path.join(auditDir, "journal");

// Every temp folder the agent helpers made for this file (bundles, agent configs and state) goes after it.
afterAll(() => {
  removeTempDirs();
  rmSync(auditDir, { recursive: true, force: true });
});
