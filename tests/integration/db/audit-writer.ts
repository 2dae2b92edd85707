/**
 * Appends N audit rows and exits at once, without closing anything (for audit-anchor.test.ts: the
 * process's exit must still write the checkpoint of its newest row). DATABASE_URL and AUDIT_* are set.
 */
import { audited } from "@/lib/queries/tx";

const n = Number(process.argv[2] ?? "1");
for (let i = 0; i < n; i++) {
  await audited(async (_tx, audit) => audit({ actor: "writer-process", action: "user.create", outcome: "success", details: { i } }));
}
process.exit(0);
