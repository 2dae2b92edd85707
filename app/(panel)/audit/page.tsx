import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditPage } from "@/components/AuditPage";

export const metadata: Metadata = { title: "Audit" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <AuditPage />
    </Suspense>
  );
}
