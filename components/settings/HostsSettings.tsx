"use client";
/** Settings → Hosts: create, edit (a new agent URL needs its token again) and delete. */
import { useState } from "react";
import type { HostDto } from "@/lib/views";
import { api } from "../api";
import { Badge } from "../status";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, loadHosts, toErrors, useList, type Errors } from "./common";

const HOST_FIELDS = ["name", "address", "agentUrl", "agentToken"];

function HostForm({ host, onDone }: { host: HostDto | null; onDone: () => void }) {
  const [v, setV] = useState({ name: host?.name ?? "", address: host?.address ?? "", agentUrl: host?.agentUrl ?? "", agentToken: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof v) => (e: React.ChangeEvent<HTMLInputElement>) => setV({ ...v, [k]: e.target.value });
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const body: Record<string, string> = {};
      for (const k of HOST_FIELDS as (keyof typeof v)[]) {
        if (k === "agentToken" && host && !v.agentToken) continue;
        if (!host || v[k] !== (host as unknown as Record<string, string>)[k]) body[k] = v[k];
      }
      await (host ? api("PATCH /api/hosts/:id", { id: host.id, body }) : api("POST /api/hosts", { body }));
      onDone();
    } catch (err) {
      const r = toErrors(err, HOST_FIELDS);
      setErrors(r.fields);
      setFormError(r.form);
    } finally {
      setBusy(false);
    }
  }
  const p = host ? `host-${host.id}` : "host-new";
  // The API refuses a new agent URL without the token (the controller would send the token there).
  const urlChanged = !!host && v.agentUrl.trim() !== host.agentUrl;
  return (
    <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2" aria-label={host ? `Edit host ${host.name}` : "New host"}>
      <Field id={`${p}-name`} label="Host name" error={errors.name}>
        <input id={`${p}-name`} className={inputClass} value={v.name} onChange={set("name")} aria-invalid={!!errors.name} />
      </Field>
      <Field id={`${p}-address`} label="Address" error={errors.address} hint="IP address or DNS name of the host">
        <input id={`${p}-address`} className={inputClass} value={v.address} onChange={set("address")} aria-invalid={!!errors.address} />
      </Field>
      <Field id={`${p}-agentUrl`} label="Agent URL" error={errors.agentUrl} hint="e.g. http://10.0.0.11:4999">
        <input id={`${p}-agentUrl`} className={inputClass} value={v.agentUrl} onChange={set("agentUrl")} aria-invalid={!!errors.agentUrl} />
      </Field>
      <Field id={`${p}-agentToken`} label="Agent token" error={errors.agentToken} hint={!host ? "The credential in the agent's configuration" : urlChanged ? "Required: re-enter the agent token for the new agent URL" : "Leave empty to keep the current token"}>
        <input id={`${p}-agentToken`} type="password" autoComplete="off" className={inputClass} value={v.agentToken} onChange={set("agentToken")} aria-invalid={!!errors.agentToken} />
      </Field>
      <div className="flex items-center gap-2 sm:col-span-2">
        <Button type="submit" variant="primary" disabled={busy}>{host ? "Save host" : "Create host"}</Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
      {formError && <ErrorNote className="sm:col-span-2">{formError}</ErrorNote>}
    </form>
  );
}

export function HostsSettings() {
  const { items, error, reload } = useList(loadHosts);
  const [editing, setEditing] = useState<string | "new" | null>(null);
  return (
    <Panel title="Hosts" actions={<Button variant="primary" onClick={() => setEditing("new")}>Add host</Button>}>
      <ErrorNote>{error}</ErrorNote>
      {editing === "new" && (
        <div className="mb-4 rounded-md border border-accent/50 p-3">
          <HostForm host={null} onDone={() => { setEditing(null); void reload(); }} />
        </div>
      )}
      {items.length === 0 && !error && <Empty>No hosts yet.</Empty>}
      <ul className="flex flex-col divide-y divide-line">
        {items.map((h) => (
          <li key={h.id} className="py-2">
            {editing === h.id ? (
              <HostForm host={h} onDone={() => { setEditing(null); void reload(); }} />
            ) : (
              <div className="flex flex-wrap items-center gap-3">
                <span className="font-semibold">{h.name}</span>
                <span className="font-mono text-xs text-muted">{h.address} · {h.agentUrl}</span>
                {!h.hasAgentToken && <Badge tone="warn" icon="warn">no agent token</Badge>}
                <span className="ml-auto flex gap-2">
                  <Button onClick={() => setEditing(h.id)}>Edit</Button>
                  <DeleteButton what={h.name} onDelete={async () => { await api("DELETE /api/hosts/:id", { id: h.id }); await reload(); }} />
                </span>
              </div>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

