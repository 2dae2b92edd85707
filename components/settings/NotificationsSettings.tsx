"use client";
/**
 * Settings → Notifications (admins): channels (webhook, e-mail, SNMP trap; secrets write-only), rules, "Send
 * test", and the delivery log. docs/notifications.md.
 */
import { useCallback, useState } from "react";
import { api } from "../api";
import { useList } from "./common";
import { NotificationChannels } from "./NotificationChannels";
import { NotificationLog } from "./NotificationLog";
import { NotificationRules } from "./NotificationRules";

const loadChannels = async () => (await api("GET /api/notifications/channels")).channels;
const loadRules = async () => (await api("GET /api/notifications/rules")).rules;

export function NotificationsSettings() {
  const channels = useList(loadChannels);
  const rules = useList(loadRules);
  const [refresh, setRefresh] = useState(0);
  const reloadAll = useCallback(async () => {
    await Promise.all([channels.reload(), rules.reload()]);
  }, [channels, rules]);
  return (
    <div className="flex flex-col gap-4">
      <p className="text-sm text-muted">
        Alarms raised, cleared and acknowledged, and operations that end, go to the channels whose rules match them; a pair in maintenance sends
        nothing. Deliveries are retried with back-off and logged below.
      </p>
      <NotificationChannels channels={channels.items} error={channels.error} reload={reloadAll} onTest={() => setRefresh((n) => n + 1)} />
      <NotificationRules channels={channels.items} rules={rules.items} error={rules.error} reload={reloadAll} />
      <NotificationLog channels={channels.items} refresh={refresh} />
    </div>
  );
}
