"use client";
/** Settings → Pairs: create, edit and delete pairs, their two SIP Servers and their policy. */
import { useState } from "react";
import type { HostDto, PairDto } from "@/lib/views";
import { api } from "../api";
import { Badge } from "../status";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, loadHosts, loadPairs, num, toErrors, useList, type Errors } from "./common";

const PAIR_FIELDS = [
  "name",
  "vipAddress",
  "vipPrefix",
  "vipInterface",
  "servers.0.name",
  "servers.0.hostId",
  "servers.0.appName",
  "servers.1.name",
  "servers.1.hostId",
  "servers.1.appName",
  "servers",
  "disconnectGraceSeconds",
  "heartbeatTimeoutMs",
  "holdDownSeconds",
  "autoFailover",
  "maintenance",
];

interface PairFormValues {
  name: string;
  vipAddress: string;
  vipPrefix: string;
  vipInterface: string;
  servers: { name: string; hostId: string; appName: string }[];
  autoFailover: boolean;
  maintenance: boolean;
  disconnectGraceSeconds: string;
  heartbeatTimeoutMs: string;
  holdDownSeconds: string;
}

function initial(p: PairDto | null): PairFormValues {
  return {
    name: p?.name ?? "",
    vipAddress: p?.vipAddress ?? "",
    vipPrefix: String(p?.vipPrefix ?? 24),
    vipInterface: p?.vipInterface ?? "eth0",
    servers: [0, 1].map((i) => ({ name: p?.servers[i]?.name ?? `sip-${i + 1}`, hostId: p?.servers[i]?.hostId ?? "", appName: p?.servers[i]?.appName ?? `sip${i + 1}` })),
    autoFailover: p?.autoFailover ?? true,
    maintenance: p?.maintenance ?? false,
    disconnectGraceSeconds: String(p?.disconnectGraceSeconds ?? 2),
    heartbeatTimeoutMs: String(p?.heartbeatTimeoutMs ?? 1500),
    holdDownSeconds: String(p?.holdDownSeconds ?? 60),
  };
}


function PairForm({ pair, hosts, onDone, suggestedName }: { pair: PairDto | null; hosts: HostDto[]; onDone: () => void; suggestedName?: string }) {
  const [v, setV] = useState<PairFormValues>(() => {
    const init = initial(pair);
    if (!pair) {
      // A new pair starts from a free name and the first two hosts: fewer fields to fill, all editable.
      init.name = suggestedName ?? "";
      init.servers = init.servers.map((s, i) => ({ ...s, hostId: hosts[i]?.id ?? "" }));
    }
    return init;
  });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const p = pair ? `pair-${pair.id}` : "pair-new";

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(null);
    const full: Record<string, unknown> = {
      name: v.name.trim(),
      vipAddress: v.vipAddress.trim(),
      vipPrefix: num(v.vipPrefix),
      vipInterface: v.vipInterface.trim(),
      servers: v.servers.map((s) => ({ name: s.name.trim(), hostId: s.hostId, appName: s.appName.trim() })),
      autoFailover: v.autoFailover,
      maintenance: v.maintenance,
      disconnectGraceSeconds: num(v.disconnectGraceSeconds),
      heartbeatTimeoutMs: num(v.heartbeatTimeoutMs),
      holdDownSeconds: num(v.holdDownSeconds),
    };
    let body = full;
    if (pair) {
      const before = { ...initial(pair) } as unknown as Record<string, unknown>;
      const b: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(full)) {
        const old = k === "servers" ? (before.servers as unknown[]) : typeof val === "number" ? num(String(before[k])) : before[k];
        if (JSON.stringify(old) !== JSON.stringify(val)) b[k] = val;
      }
      body = b;
      if (Object.keys(body).length === 0) {
        setBusy(false);
        onDone();
        return;
      }
    }
    try {
      await (pair ? api("PATCH /api/pairs/:id", { id: pair.id, body }) : api("POST /api/pairs", { body }));
      onDone();
    } catch (err) {
      const r = toErrors(err, PAIR_FIELDS);
      setErrors(r.fields);
      setFormError(r.form);
    } finally {
      setBusy(false);
    }
  }

  const text = (k: "name" | "vipAddress" | "vipPrefix" | "vipInterface" | "disconnectGraceSeconds" | "heartbeatTimeoutMs" | "holdDownSeconds", label: string, hint?: string, inputMode?: "numeric") => (
    <Field id={`${p}-${k}`} label={label} error={errors[k]} hint={hint}>
      <input id={`${p}-${k}`} inputMode={inputMode} className={inputClass} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} aria-invalid={!!errors[k]} />
    </Field>
  );
  const server = (i: 0 | 1) => {
    const s = v.servers[i];
    const upd = (patch: Partial<typeof s>) => setV({ ...v, servers: v.servers.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
    const e = (f: string) => errors[`servers.${i}.${f}`] ?? (f === "hostId" && i === 1 ? errors.servers : undefined);
    return (
      <fieldset className="grid gap-3 rounded-md border border-line p-3 sm:grid-cols-3">
        <legend className="px-1 text-sm font-bold">SIP Server {i + 1} ({i === 0 ? "configured primary" : "configured backup"})</legend>
        <Field id={`${p}-s${i}-name`} label={`Server ${i + 1} name`} error={e("name")}>
          <input id={`${p}-s${i}-name`} className={inputClass} value={s.name} onChange={(ev) => upd({ name: ev.target.value })} aria-invalid={!!e("name")} />
        </Field>
        <Field id={`${p}-s${i}-host`} label={`Server ${i + 1} host`} error={e("hostId")}>
          <select id={`${p}-s${i}-host`} className={inputClass} value={s.hostId} onChange={(ev) => upd({ hostId: ev.target.value })} aria-invalid={!!e("hostId")}>
            <option value="">Choose a host…</option>
            {hosts.map((h) => (
              <option key={h.id} value={h.id}>{h.name}</option>
            ))}
          </select>
        </Field>
        <Field id={`${p}-s${i}-app`} label={`Server ${i + 1} application`} error={e("appName")} hint="its name in the agent's configuration">
          <input id={`${p}-s${i}-app`} className={inputClass} value={s.appName} onChange={(ev) => upd({ appName: ev.target.value })} aria-invalid={!!e("appName")} />
        </Field>
      </fieldset>
    );
  };
  const check = (k: "autoFailover" | "maintenance", label: string) => (
    <label className="flex items-center gap-2 text-sm">
      <input type="checkbox" className="size-4 accent-[var(--accent)]" checked={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.checked })} />
      {label}
      {errors[k] && <span role="alert" className="text-bad">⚠ {errors[k]}</span>}
    </label>
  );

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-3" aria-label={pair ? `Edit pair ${pair.name}` : "New pair"}>
      <div className="grid gap-3 sm:grid-cols-4">
        {text("name", "Pair name")}
        {text("vipAddress", "VIP address", "IPv4 or IPv6, e.g. 10.0.0.10")}
        {text("vipPrefix", "VIP prefix length", "e.g. 24", "numeric")}
        {text("vipInterface", "VIP interface", "e.g. eth0")}
      </div>
      {server(0)}
      {server(1)}
      <fieldset className="grid gap-3 rounded-md border border-line p-3 sm:grid-cols-3">
        <legend className="px-1 text-sm font-bold">Policy</legend>
        {text("disconnectGraceSeconds", "Disconnect grace (s)", "wait before promoting when a host disconnects", "numeric")}
        {text("heartbeatTimeoutMs", "Heartbeat timeout (ms)", "silence after which an agent counts as disconnected", "numeric")}
        {text("holdDownSeconds", "Hold-down (s)", "no new automatic failover for this long", "numeric")}
        <div className="flex flex-col gap-2 sm:col-span-3">
          {check("autoFailover", "Automatic failover when the primary fails or disconnects")}
          {check("maintenance", "Maintenance mode (observe only, no automatic action)")}
        </div>
      </fieldset>
      {formError && <ErrorNote>{formError}</ErrorNote>}
      <div className="flex items-center gap-2">
        <Button type="submit" variant="primary" disabled={busy}>{pair ? "Save pair" : "Create pair"}</Button>
        {pair && <Button onClick={onDone}>Cancel</Button>}
      </div>
    </form>
  );
}

export function PairsSettings({ editId }: { editId: string | null }) {
  const { items, error, reload } = useList(loadPairs);
  const hosts = useList(loadHosts);
  const [editing, setEditing] = useState<string | null>(editId);
  const [formKey, setFormKey] = useState(0);
  return (
    <div className="flex flex-col gap-4">
      <Panel title="Add a pair">
        {hosts.items.length < 2 && <p className="mb-2 text-sm text-warn">A pair needs two hosts: add them on the Hosts tab first.</p>}
        <PairForm
          key={`new-${formKey}-${hosts.items.length}-${items.length}`}
          pair={null}
          hosts={hosts.items}
          suggestedName={nextName(items.map((p) => p.name))}
          onDone={() => { setFormKey((k) => k + 1); void reload(); }}
        />
      </Panel>
      <Panel title={`Pairs (${items.length})`}>
        <ErrorNote>{error}</ErrorNote>
        {items.length === 0 && !error && <Empty>No pairs yet.</Empty>}
        <ul className="flex flex-col divide-y divide-line">
          {items.map((pr) => (
            <li key={pr.id} className="py-2" data-testid="settings-pair" data-pair={pr.name}>
              {editing === pr.id ? (
                <PairForm pair={pr} hosts={hosts.items} onDone={() => { setEditing(null); void reload(); }} />
              ) : (
                <div className="flex flex-wrap items-center gap-3">
                  <span className="font-semibold">{pr.name}</span>
                  <span className="font-mono text-xs text-muted">VIP {pr.vipAddress}/{pr.vipPrefix} {pr.vipInterface}</span>
                  <span className="text-xs text-muted">{pr.servers.map((s) => `${s.name}@${s.hostName}`).join(" · ")}</span>
                  {pr.maintenance && <Badge tone="warn" icon="clock">maintenance</Badge>}
                  <span className="ml-auto flex gap-2">
                    <Button onClick={() => setEditing(pr.id)} aria-label={`Edit ${pr.name}`}>Edit</Button>
                    <DeleteButton what={pr.name} onDelete={async () => { await api("DELETE /api/pairs/:id", { id: pr.id }); await reload(); }} />
                  </span>
                </div>
              )}
            </li>
          ))}
        </ul>
      </Panel>
    </div>
  );
}

/** A free "pair-N" name to start from. */
function nextName(names: string[]): string {
  const taken = new Set(names);
  for (let i = names.length + 1; ; i++) if (!taken.has(`pair-${i}`)) return `pair-${i}`;
}

