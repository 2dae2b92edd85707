"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
import { api } from "./api";
import { MeProvider, useMe, canAdmin } from "./session";
import { ConnectionBanner, ControllerBanner, LiveProvider } from "./socket";
import { ThemeToggle } from "./ThemeToggle";

const NAV = [
  { href: "/", label: "Dashboard" },
  { href: "/alarms", label: "Alarms" },
  { href: "/maintenance", label: "Maintenance" },
  { href: "/operations", label: "Operations" },
  { href: "/hosts", label: "Hosts" },
  { href: "/audit", label: "Audit" },
  { href: "/settings", label: "Settings", admin: true },
];

function Header() {
  const pathname = usePathname();
  const { me } = useMe();
  const [busy, setBusy] = useState(false);
  return (
    <header className="sticky top-0 z-30 border-b border-line bg-surface/95 backdrop-blur">
      <div className="mx-auto flex max-w-[1600px] flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2">
        <Link href="/" className="flex items-center gap-2 text-lg font-bold tracking-tight">
          <svg viewBox="0 0 24 24" className="size-6 text-accent" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden>
            <path d="M3 7h12l-3-3M21 17H9l3 3" />
          </svg>
          Switchyard
        </Link>
        <nav aria-label="Main" className="flex flex-wrap gap-1">
          {NAV.filter((n) => !n.admin || canAdmin(me)).map((n) => {
            const active = n.href === "/" ? pathname === "/" || pathname.startsWith("/pairs") : pathname.startsWith(n.href);
            return (
              <Link
                key={n.href}
                href={n.href}
                aria-current={active ? "page" : undefined}
                className={`rounded-md px-3 py-1.5 text-sm font-medium ${active ? "bg-accent text-accent-fg" : "text-muted hover:bg-surface-2 hover:text-fg"}`}
              >
                {n.label}
              </Link>
            );
          })}
        </nav>
        <div className="ml-auto flex items-center gap-2 text-sm">
          {me && (
            <span className="text-muted" data-testid="whoami">
              <span className="font-semibold text-fg">{me.username}</span> · {me.role}
            </span>
          )}
          <ThemeToggle />
          <button
            type="button"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await api("POST /api/auth/logout", { noAuthRedirect: true });
              } catch {
                /* signed out anyway */
              }
              window.location.assign("/login");
            }}
            className="rounded-md border border-line px-2.5 py-1.5 hover:bg-surface-2"
          >
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}

export function AppShell({ children }: { children: React.ReactNode }) {
  return (
    <MeProvider>
      <LiveProvider>
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-accent focus:px-3 focus:py-2 focus:text-accent-fg">
          Skip to content
        </a>
        <Header />
        <ConnectionBanner />
        <ControllerBanner />
        <main id="main" className="mx-auto max-w-[1600px] px-4 py-4">
          {children}
        </main>
      </LiveProvider>
    </MeProvider>
  );
}
