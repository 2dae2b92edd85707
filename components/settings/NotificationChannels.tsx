"use client";
/**
 * Settings → Notifications, the channels: webhook, e-mail, SNMP trap. Create, edit, delete, "Send test".
 * The secret (HMAC key, SMTP password, community) is write-only: the panel only knows whether one is set,
 * and offers to set, replace or remove it.
 */
import { useState } from "react";
import type { ChannelJson } from "@/lib/queries/notifications";
import { TEMPLATE_VARIABLES } from "@/lib/notifications/events";
import { api, errorText } from "../api";
import { Badge } from "../status";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, num, toErrors, type Errors } from "./common";

type Type = ChannelJson["type"];
const SECRET_LABEL: Record<Type, string> = { webhook: "HMAC key", email: "SMTP password", snmp: "Community" };
const TYPE_LABEL: Record<Type, string> = { webhook: "Webhook", email: "E-mail (SMTP)", snmp: "SNMP v2c trap" };

/** The form's text fields, one set for every type (those of the chosen type are sent). */
const EMPTY = { url: "", format: "switchyard", host: "", port: "", security: "starttls", user: "", from: "", to: "", subject: "", body: "", enterpriseOid: "", timeoutMs: "" };
type Values = typeof EMPTY;
const FIELDS: Record<Type, (keyof Values)[]> = {
  webhook: ["url", "format", "timeoutMs"],
  email: ["host", "port", "security", "user", "from", "to", "subject", "body", "timeoutMs"],
  snmp: ["host", "port", "enterpriseOid", "timeoutMs"],
};

function valuesOf(c: ChannelJson | null): Values {
  if (!c) return EMPTY;
  const out = { ...EMPTY };
  for (const [k, v] of Object.entries(c.config)) if (k in out) out[k as keyof Values] = Array.isArray(v) ? v.join(", ") : String(v ?? "");
  return out;
}

function configOf(type: Type, v: Values): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const k of FIELDS[type]) {
    const s = v[k].trim();
    if (s === "") continue;
    if (k === "port" || k === "timeoutMs") config[k] = num(s);
    else if (k === "to") config[k] = s.split(/[,\s]+/).filter(Boolean);
    else config[k] = k === "subject" || k === "body" ? v[k] : s;
  }
  return config;
}

function ChannelForm({ channel, onDone }: { channel: ChannelJson | null; onDone: () => void }) {
  const [type, setType] = useState<Type>(channel?.type ?? "webhook");
  const [name, setName] = useState(channel?.name ?? "");
  const [enabled, setEnabled] = useState(channel?.enabled ?? true);
  const [v, setV] = useState<Values>(valuesOf(channel));
  // Secret: "keep" (edit, one is set), "set" (a new value typed below), "remove".
  const [secretMode, setSecretMode] = useState<"keep" | "set" | "remove">(channel?.hasSecret ? "keep" : "set");
  const [secret, setSecret] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const p = channel ? `ch-${channel.id}` : "ch-new";
  const set = (k: keyof Values) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) => setV({ ...v, [k]: e.target.value });
  const err = (k: string) => errors[`config.${k}`] ?? errors[k];
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const config = configOf(type, v);
      const secretBody = secretMode === "set" && secret ? { secret } : secretMode === "remove" ? { secret: null } : {};
      if (channel) await api("PATCH /api/notifications/channels/:id", { id: channel.id, body: { name, enabled, config, ...secretBody } });
      else await api("POST /api/notifications/channels", { body: { name, type, enabled, config, ...secretBody } });
      onDone();
    } catch (ex) {
      const known = ["name", "type", "secret", ...FIELDS[type].map((k) => `config.${k}`), ...FIELDS[type]];
      const r = toErrors(ex, known);
      setErrors(r.fields);
      setFormError(r.form);
    } finally {
      setBusy(false);
    }
  }
  const text = (k: keyof Values, label: string, hint?: string, placeholder?: string) => (
    <Field id={`${p}-${k}`} label={label} error={err(k)} hint={hint}>
      <input id={`${p}-${k}`} className={inputClass} value={v[k]} placeholder={placeholder} onChange={set(k)} aria-invalid={!!err(k)} />
    </Field>
  );
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-3" aria-label={channel ? `Edit channel ${channel.name}` : "New channel"}>
      <Field id={`${p}-name`} label="Channel name" error={errors.name}>
        <input id={`${p}-name`} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} />
      </Field>
      <Field id={`${p}-type`} label="Type" error={errors.type} hint={channel ? "the type of a channel does not change" : undefined}>
        <select id={`${p}-type`} className={inputClass} value={type} disabled={!!channel} onChange={(e) => setType(e.target.value as Type)}>
          {(Object.keys(TYPE_LABEL) as Type[]).map((t) => (
            <option key={t} value={t}>{TYPE_LABEL[t]}</option>
          ))}
        </select>
      </Field>
      {type === "webhook" && (
        <>
          {text("url", "URL", "http:// or https://; keep credentials out of it (use the HMAC key)", "https://noc.example.com/hooks/switchyard")}
          <Field id={`${p}-format`} label="Payload" error={err("format")}>
            <select id={`${p}-format`} className={inputClass} value={v.format} onChange={set("format")}>
              <option value="switchyard">Switchyard JSON</option>
              <option value="alertmanager">Alertmanager-compatible (webhook_config, version 4)</option>
            </select>
          </Field>
        </>
      )}
      {type === "email" && (
        <>
          {text("host", "SMTP server", undefined, "smtp.example.com")}
          {text("port", "Port", "587 (STARTTLS) or 465 (TLS); empty: 587")}
          <Field id={`${p}-security`} label="Security" error={err("security")}>
            <select id={`${p}-security`} className={inputClass} value={v.security} onChange={set("security")}>
              <option value="starttls">STARTTLS (required)</option>
              <option value="tls">TLS from the start</option>
              <option value="none">None (a local relay only)</option>
            </select>
          </Field>
          {text("user", "User", "empty: no authentication")}
          {text("from", "From", undefined, "switchyard@example.com")}
          {text("to", "To", "one or more addresses, separated by commas", "noc@example.com")}
          {text("subject", "Subject template", "empty: [{{severity}}] {{pair}}: {{kind}} ({{event}})")}
          <Field id={`${p}-body`} label="Body template" error={err("body")} hint={`empty: a line per field. Variables: ${Object.keys(TEMPLATE_VARIABLES).map((k) => `{{${k}}}`).join(" ")}`}>
            <textarea id={`${p}-body`} rows={5} className={inputClass} value={v.body} onChange={set("body")} aria-invalid={!!err("body")} />
          </Field>
        </>
      )}
      {type === "snmp" && (
        <>
          {text("host", "Trap receiver", "host name or IP address", "nms.example.com")}
          {text("port", "Port", "empty: 162")}
          {text("enterpriseOid", "Enterprise OID", "empty: 1.3.6.1.4.1.99999 (see deploy/snmp/SWITCHYARD-MIB.txt)")}
        </>
      )}
      {text("timeoutMs", "Timeout (ms)", "empty: the default")}
      <fieldset className="flex flex-col gap-2">
        {/* Creating: the field's own label says it (no second heading). */}
        <legend className={channel?.hasSecret ? "text-sm font-semibold" : "sr-only"}>{SECRET_LABEL[type]}</legend>
        {channel?.hasSecret && secretMode === "keep" && (
          <p className="flex items-center gap-2 text-sm">
            <Badge tone="ok">set</Badge>
            <span className="text-muted">write-only: it is never shown</span>
            <Button onClick={() => setSecretMode("set")}>Replace</Button>
            <Button onClick={() => setSecretMode("remove")}>Remove</Button>
          </p>
        )}
        {secretMode === "remove" && (
          <p className="flex items-center gap-2 text-sm">
            <Badge tone="warn">will be removed</Badge>
            <Button onClick={() => setSecretMode("keep")}>Keep it</Button>
          </p>
        )}
        {secretMode === "set" && (
          <Field id={`${p}-secret`} label={channel?.hasSecret ? `New ${SECRET_LABEL[type]}` : SECRET_LABEL[type]} error={errors.secret} hint={type === "snmp" ? "empty: public" : "optional; write-only"}>
            <input id={`${p}-secret`} type="password" autoComplete="new-password" className={inputClass} value={secret} onChange={(e) => setSecret(e.target.value)} aria-invalid={!!errors.secret} />
          </Field>
        )}
        {errors.secret && secretMode !== "set" && <ErrorNote>{errors.secret}</ErrorNote>}
      </fieldset>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      {formError && <ErrorNote>{formError}</ErrorNote>}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={busy}>{channel ? "Save channel" : "Create channel"}</Button>
        {channel && <Button onClick={onDone}>Cancel</Button>}
      </div>
    </form>
  );
}

function TestButton({ channel, onSent }: { channel: ChannelJson; onSent: () => void }) {
  const [note, setNote] = useState<string | null>(null);
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        disabled={!channel.enabled}
        onClick={async () => {
          try {
            await api("POST /api/notifications/channels/:id/test", { id: channel.id });
            setNote("queued: see the delivery log");
            onSent();
          } catch (e) {
            setNote(errorText(e));
          }
        }}
        aria-label={`Send test to ${channel.name}`}
      >
        Send test
      </Button>
      {note && <span role="status" className="text-xs text-muted">{note}</span>}
    </span>
  );
}

export function NotificationChannels({ channels, error, reload, onTest }: { channels: ChannelJson[]; error: string | null; reload: () => Promise<void>; onTest: () => void }) {
  const [editing, setEditing] = useState<ChannelJson | null>(null);
  const [formKey, setFormKey] = useState(0);
  const done = async () => {
    setEditing(null);
    setFormKey((k) => k + 1);
    await reload();
  };
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Panel title="Channels">
        <ErrorNote>{error}</ErrorNote>
        {channels.length === 0 && !error && <Empty>No channels: nothing is sent.</Empty>}
        <ul className="flex flex-col divide-y divide-line">
          {channels.map((c) => (
            <li key={c.id} className="flex flex-wrap items-center gap-2 py-2" data-testid={`channel-${c.name}`}>
              <span className="font-semibold">{c.name}</span>
              <Badge tone="info">{TYPE_LABEL[c.type]}</Badge>
              {!c.enabled && <Badge tone="idle">disabled</Badge>}
              {c.hasSecret && <Badge tone="ok">{SECRET_LABEL[c.type]} set</Badge>}
              <span className="w-full truncate text-xs text-muted">{c.type === "webhook" ? String(c.config.url) : c.type === "email" ? `${String(c.config.host)} → ${([] as unknown[]).concat(c.config.to ?? []).join(", ")}` : `${String(c.config.host)}:${String(c.config.port)}`}</span>
              <span className="flex flex-wrap items-center gap-2">
                <TestButton channel={c} onSent={onTest} />
                <Button onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>Edit</Button>
                <DeleteButton what={`channel ${c.name} (with its rules and delivery log)`} onDelete={async () => { await api("DELETE /api/notifications/channels/:id", { id: c.id }); await reload(); }} />
              </span>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title={editing ? `Edit channel ${editing.name}` : "New channel"}>
        <ChannelForm key={editing ? editing.id : `new-${formKey}`} channel={editing} onDone={done} />
      </Panel>
    </div>
  );
}
