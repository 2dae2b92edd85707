import type { Metadata } from "next";
import { Suspense } from "react";
import { HostsPage } from "@/components/HostsPage";

export const metadata: Metadata = { title: "Hosts" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <HostsPage />
    </Suspense>
  );
}
