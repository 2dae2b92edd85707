import type { Metadata } from "next";
import Link from "next/link";
import { AppShell } from "@/components/AppShell";

export const metadata: Metadata = { title: "Page not found" };

/**
 * Every unknown address (and `notFound()` anywhere): the 404 inside the panel's header and navigation,
 * so the operator is one click from where they meant to go. The root not-found renders under the root
 * layout only, so it wraps itself in the shell the (panel) group's layout gives every page.
 */
export default function NotFound() {
  return (
    <AppShell>
      <div data-testid="not-found" className="mx-auto flex max-w-xl flex-col items-start gap-3 rounded-lg border border-line bg-surface p-6">
        <p className="font-mono text-sm text-muted">404</p>
        <h1 className="text-xl font-bold">This page does not exist.</h1>
        <p className="text-muted">
          The address may be mistyped, or what it pointed to (a pair, a host) was deleted. Nothing about the pairs has changed.
        </p>
        <div className="flex flex-wrap gap-3 text-sm">
          <Link href="/" className="rounded-md bg-accent px-3 py-1.5 font-semibold text-accent-fg">Back to the dashboard</Link>
          <Link href="/alarms" className="rounded-md border border-line px-3 py-1.5 font-semibold hover:bg-surface-2">Alarms</Link>
          <Link href="/audit" className="rounded-md border border-line px-3 py-1.5 font-semibold hover:bg-surface-2">Audit</Link>
        </div>
      </div>
    </AppShell>
  );
}
