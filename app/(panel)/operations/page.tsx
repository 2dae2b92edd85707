import type { Metadata } from "next";
import { Suspense } from "react";
import { OperationsPage } from "@/components/operations/OperationsPage";

export const metadata: Metadata = { title: "Operations" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <OperationsPage />
    </Suspense>
  );
}
