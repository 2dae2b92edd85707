import type { Metadata } from "next";
import { Suspense } from "react";
import { SettingsPage } from "@/components/settings/SettingsPage";

export const metadata: Metadata = { title: "Settings" };

export default function Page() {
  return (
    <Suspense fallback={<p className="text-muted">Loading…</p>}>
      <SettingsPage />
    </Suspense>
  );
}
