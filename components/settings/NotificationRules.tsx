"use client";
/** Settings → Notifications, the rules: which events, severities, kinds and pairs go to which channel. */
import { useState } from "react";
import type { ChannelJson, RuleJson } from "@/lib/queries/notifications";
import { NOTIFICATION_EVENTS } from "@/lib/notifications/events";
import { api } from "../api";
import { Badge } from "../status";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, loadPairs, toErrors, useList, type Errors } from "./common";

const SEVERITIES = ["critical", "major", "minor", "warning"] as const;
const RULE_FIELDS = ["name", "channelId", "events", "severities", "kinds", "pairIds"];

function Checks<T extends string>({ legend, options, value, onChange, error, label = (o) => o }: { legend: string; options: readonly T[]; value: T[]; onChange: (v: T[]) => void; error?: string; label?: (o: T) => string }) {
  return (
    <fieldset className="flex flex-col gap-1">
      <legend className="text-sm font-semibold">{legend}</legend>
      <div className="flex flex-wrap gap-3">
        {options.map((o) => (
          <label key={o} className="flex items-center gap-1 text-sm">
            <input type="checkbox" checked={value.includes(o)} onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))} />
            {label(o)}
          </label>
        ))}
      </div>
      {error && <p role="alert" className="text-sm font-medium text-bad">⚠ {error}</p>}
    </fieldset>
  );
}

function RuleForm({ channels, onDone }: { channels: ChannelJson[]; onDone: () => Promise<void> }) {
  const pairs = useList(loadPairs);
  const [v, setV] = useState({ name: "", channelId: "", events: ["alarm.raised"] as string[], severities: [] as string[], kinds: "", pairIds: [] as string[] });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    try {
      const kinds = v.kinds.split(/[,\s]+/).filter(Boolean);
      await api("POST /api/notifications/rules", { body: { name: v.name, channelId: v.channelId || (channels[0]?.id ?? ""), events: v.events, severities: v.severities, kinds, pairIds: v.pairIds } });
      setV({ ...v, name: "", kinds: "", pairIds: [] });
      await onDone();
    } catch (ex) {
      const r = toErrors(ex, RULE_FIELDS);
      setErrors(r.fields);
      setFormError(r.form);
    }
  }
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-3" aria-label="New rule">
      <Field id="rule-name" label="Rule name" error={errors.name} hint="e.g. critical alarms to the NOC">
        <input id="rule-name" className={inputClass} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} aria-invalid={!!errors.name} />
      </Field>
      <Field id="rule-channel" label="Channel" error={errors.channelId}>
        <select id="rule-channel" className={inputClass} value={v.channelId || (channels[0]?.id ?? "")} onChange={(e) => setV({ ...v, channelId: e.target.value })}>
          {channels.map((c) => (
            <option key={c.id} value={c.id}>{c.name}</option>
          ))}
        </select>
      </Field>
      <Checks legend="Events" options={NOTIFICATION_EVENTS} value={v.events} onChange={(events) => setV({ ...v, events })} error={errors.events} />
      <Checks legend="Severities (none ticked: all; alarms only)" options={SEVERITIES} value={v.severities as (typeof SEVERITIES)[number][]} onChange={(severities) => setV({ ...v, severities })} error={errors.severities} />
      <Field id="rule-kinds" label="Kinds" error={errors.kinds} hint="alarm or operation kinds, separated by commas, e.g. primary_failed, failover; empty: all">
        <input id="rule-kinds" className={inputClass} value={v.kinds} onChange={(e) => setV({ ...v, kinds: e.target.value })} aria-invalid={!!errors.kinds} />
      </Field>
      <Checks legend="Pairs (none ticked: all)" options={pairs.items.map((p) => p.id)} label={(id) => pairs.items.find((p) => p.id === id)?.name ?? id} value={v.pairIds} onChange={(pairIds) => setV({ ...v, pairIds })} error={errors.pairIds} />
      {formError && <ErrorNote>{formError}</ErrorNote>}
      <Button type="submit" variant="primary" disabled={channels.length === 0}>Create rule</Button>
      {channels.length === 0 && <p className="text-xs text-muted">Create a channel first.</p>}
    </form>
  );
}

export function NotificationRules({ channels, rules, error, reload }: { channels: ChannelJson[]; rules: RuleJson[]; error: string | null; reload: () => Promise<void> }) {
  const pairs = useList(loadPairs);
  const pairName = (id: string) => pairs.items.find((p) => p.id === id)?.name ?? id.slice(0, 8);
  const [rowError, setRowError] = useState<string | null>(null);
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Panel title="Rules">
        <ErrorNote>{error ?? rowError}</ErrorNote>
        {rules.length === 0 && !error && <Empty>No rules: no event goes to any channel.</Empty>}
        <ul className="flex flex-col divide-y divide-line">
          {rules.map((r) => (
            <li key={r.id} className="flex flex-col gap-1 py-2" data-testid={`rule-${r.name}`}>
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-semibold">{r.name}</span>
                <span className="text-sm text-muted">→ {r.channelName}</span>
                {!r.enabled && <Badge tone="idle">disabled</Badge>}
                <span className="ml-auto flex items-center gap-2">
                  <Button
                    onClick={async () => {
                      try {
                        await api("PATCH /api/notifications/rules/:id", { id: r.id, body: { enabled: !r.enabled } });
                        setRowError(null);
                        await reload();
                      } catch (e) {
                        setRowError(e instanceof Error ? e.message : String(e));
                      }
                    }}
                  >
                    {r.enabled ? "Disable" : "Enable"}
                  </Button>
                  <DeleteButton what={`rule ${r.name}`} onDelete={async () => { await api("DELETE /api/notifications/rules/:id", { id: r.id }); await reload(); }} />
                </span>
              </div>
              <p className="text-xs text-muted">
                {r.events.join(", ")} · severities {r.severities.length ? r.severities.join(", ") : "all"} · kinds {r.kinds.length ? r.kinds.join(", ") : "all"} · pairs {r.pairIds.length ? r.pairIds.map(pairName).join(", ") : "all"}
              </p>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="New rule">
        <RuleForm channels={channels} onDone={reload} />
      </Panel>
    </div>
  );
}
