import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditPage } from "@/components/audit/AuditPage";
import { AUDIT_ACTION_GROUPS } from "@/lib/audit-actions";

export const metadata: Metadata = { title: "Audit" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      {/* The catalogue travels as data: zod (lib/audit-actions.ts) stays on the server. */}
      <AuditPage actions={AUDIT_ACTION_GROUPS} />
    </Suspense>
  );
}
