import type { Metadata } from "next";
import { Suspense } from "react";
import { AlarmsPage } from "@/components/AlarmsPage";

export const metadata: Metadata = { title: "Alarms" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <AlarmsPage />
    </Suspense>
  );
}
