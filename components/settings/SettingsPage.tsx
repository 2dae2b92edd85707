"use client";
/**
 * Settings (admin), one tab a screen (`?tab=pairs|hosts|users|tokens|notifications`): hosts and pairs
 * (create, edit, delete, with the API's validation errors shown next to the field they name), users and
 * roles, API tokens (the secret is shown once), notifications (channels, rules, send test, delivery log).
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Tabs } from "radix-ui";
import { canAdmin, useMe } from "../session";
import { ErrorNote } from "../ui";
import { HostsSettings } from "./HostsSettings";
import { NotificationsSettings } from "./NotificationsSettings";
import { PairsSettings } from "./PairsSettings";
import { TokensSettings } from "./TokensSettings";
import { UsersSettings } from "./UsersSettings";

const TAB_CLASS =
  "shrink-0 whitespace-nowrap rounded-t-md border border-b-0 border-transparent px-3 py-2 text-sm sm:px-4 font-semibold text-muted data-[state=active]:border-line data-[state=active]:bg-surface data-[state=active]:text-fg hover:text-fg";

export function SettingsPage() {
  const { me, loading } = useMe();
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const tab = sp.get("tab") ?? (sp.get("pair") ? "pairs" : "pairs");
  if (loading) return <p className="text-muted">Loading…</p>;
  if (!canAdmin(me))
    return (
      <ErrorNote>
        Settings are for admins. You are signed in as {me?.username ?? "?"} ({me?.role ?? "no role"}); ask an admin to change hosts, pairs, users or tokens.
      </ErrorNote>
    );
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-bold">Settings</h1>
      <Tabs.Root value={tab} onValueChange={(v) => router.replace(`${pathname}?tab=${v}`, { scroll: false })}>
        <Tabs.List aria-label="Settings sections" className="flex gap-1 overflow-x-auto border-b border-line">
          <Tabs.Trigger value="pairs" className={TAB_CLASS}>Pairs</Tabs.Trigger>
          <Tabs.Trigger value="hosts" className={TAB_CLASS}>Hosts</Tabs.Trigger>
          <Tabs.Trigger value="users" className={TAB_CLASS}>Users and roles</Tabs.Trigger>
          <Tabs.Trigger value="tokens" className={TAB_CLASS}>API tokens</Tabs.Trigger>
          <Tabs.Trigger value="notifications" className={TAB_CLASS}>Notifications</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="pairs" className="pt-4"><PairsSettings editId={sp.get("pair")} /></Tabs.Content>
        <Tabs.Content value="hosts" className="pt-4"><HostsSettings /></Tabs.Content>
        <Tabs.Content value="users" className="pt-4"><UsersSettings /></Tabs.Content>
        <Tabs.Content value="tokens" className="pt-4"><TokensSettings /></Tabs.Content>
        <Tabs.Content value="notifications" className="pt-4"><NotificationsSettings /></Tabs.Content>
      </Tabs.Root>
    </div>
  );
}

