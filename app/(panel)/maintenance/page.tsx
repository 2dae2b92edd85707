import type { Metadata } from "next";
import { Suspense } from "react";
import { MaintenancePage } from "@/components/maintenance/MaintenancePage";

export const metadata: Metadata = { title: "Maintenance" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <MaintenancePage />
    </Suspense>
  );
}
