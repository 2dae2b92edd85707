"use client";
/**
 * Settings (admin): hosts and pairs (create, edit, delete, with the API's validation errors shown next
 * to the field they name), users and roles, API tokens (the secret is shown once).
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { Tabs } from "radix-ui";
import type { Role } from "@/lib/auth/roles";
import type { HostDto, PairDto, UserDto } from "@/lib/views";
import { api, ApiError, errorText } from "./api";
import { canAdmin, useMe } from "./session";
import { Badge } from "./status";
import { Time } from "./Time";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "./ui";

type Errors = Record<string, string>;

/** Splits an ApiError into a field error (its message without the "field: " prefix) or a form error. */
function toErrors(e: unknown, known: string[]): { fields: Errors; form: string | null } {
  if (e instanceof ApiError && e.field) {
    const msg = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
    const key = known.find((k) => k === e.field) ?? known.find((k) => e.field!.startsWith(`${k}.`) || k.startsWith(`${e.field}.`));
    if (key) return { fields: { [key]: msg }, form: null };
  }
  return { fields: {}, form: errorText(e) };
}

const TAB_CLASS =
  "rounded-t-md border border-b-0 border-transparent px-4 py-2 text-sm font-semibold text-muted data-[state=active]:border-line data-[state=active]:bg-surface data-[state=active]:text-fg hover:text-fg";

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
        <Tabs.List aria-label="Settings sections" className="flex gap-1 border-b border-line">
          <Tabs.Trigger value="pairs" className={TAB_CLASS}>Pairs</Tabs.Trigger>
          <Tabs.Trigger value="hosts" className={TAB_CLASS}>Hosts</Tabs.Trigger>
          <Tabs.Trigger value="users" className={TAB_CLASS}>Users and roles</Tabs.Trigger>
          <Tabs.Trigger value="tokens" className={TAB_CLASS}>API tokens</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="pairs" className="pt-4"><PairsSettings editId={sp.get("pair")} /></Tabs.Content>
        <Tabs.Content value="hosts" className="pt-4"><HostsSettings /></Tabs.Content>
        <Tabs.Content value="users" className="pt-4"><UsersSettings /></Tabs.Content>
        <Tabs.Content value="tokens" className="pt-4"><TokensSettings /></Tabs.Content>
      </Tabs.Root>
    </div>
  );
}

const loadHosts = async () => (await api("GET /api/hosts")).hosts;
const loadPairs = async () => (await api("GET /api/pairs")).pairs;
const loadUsers = async () => (await api("GET /api/users")).users;
const loadTokens = async () => (await api("GET /api/tokens")).tokens;

/** A list and its reload; `load` is one of the loaders above (stable: defined once). */
function useList<T>(load: () => Promise<T[]>) {
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setItems(await load());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, error, reload };
}

function DeleteButton({ what, onDelete }: { what: string; onDelete: () => Promise<void> }) {
  const [confirm, setConfirm] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  if (!confirm)
    return (
      <div className="flex flex-col items-end">
        <Button onClick={() => setConfirm(true)} aria-label={`Delete ${what}`}>Delete</Button>
        {err && <p role="alert" className="max-w-xs text-right text-xs text-bad">⚠ {err}</p>}
      </div>
    );
  return (
    <span className="inline-flex items-center gap-1">
      <span className="text-xs text-muted">Delete {what}?</span>
      <Button
        variant="danger"
        onClick={async () => {
          try {
            await onDelete();
          } catch (e) {
            setErr(errorText(e));
          }
          setConfirm(false);
        }}
      >
        Yes, delete
      </Button>
      <Button onClick={() => setConfirm(false)}>Cancel</Button>
    </span>
  );
}

/* ------------------------------------------------------------------ hosts */

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

function HostsSettings() {
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

/* ------------------------------------------------------------------ pairs */

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

/** Numbers stay numbers only when they look like one; anything else goes to the API as typed, to be named. */
const num = (s: string): number | string => (s.trim() !== "" && !Number.isNaN(Number(s)) ? Number(s) : s);

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

function PairsSettings({ editId }: { editId: string | null }) {
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

/* ------------------------------------------------------------------ users */

function UsersSettings() {
  const { items, error, reload } = useList(loadUsers);
  const { me } = useMe();
  const [v, setV] = useState({ username: "", password: "", role: "operator" });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    try {
      await api("POST /api/users", { body: v });
      setV({ username: "", password: "", role: "operator" });
      await reload();
    } catch (err) {
      const r = toErrors(err, ["username", "password", "role"]);
      setErrors(r.fields);
      setFormError(r.form);
    }
  }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Panel title="Users">
        <ErrorNote>{error}</ErrorNote>
        <p className="mb-2 text-sm text-muted">Viewer: read only. Operator: also switch over and acknowledge alarms. Admin: everything, including this page.</p>
        <ul className="flex flex-col divide-y divide-line">
          {items.map((u) => (
            <li key={u.id} className="flex flex-wrap items-center gap-3 py-2" data-testid="settings-user" data-user={u.username}>
              <div className="flex min-w-0 flex-col">
                <span className="font-semibold">
                  {u.username}
                  {u.username === me?.username && <span className="ml-1 text-xs font-normal text-muted">(you)</span>}
                </span>
                <span className="text-xs text-muted">since <Time iso={u.createdAt} withDate /></span>
              </div>
              <span className="ml-auto flex flex-wrap items-start gap-2">
                {u.username === me?.username ? (
                  <Badge tone={u.role === "admin" ? "info" : u.role === "operator" ? "ok" : "idle"} title="Another admin can change your role">{u.role}</Badge>
                ) : (
                  <RoleControl user={u} onSaved={reload} />
                )}
                {u.username !== me?.username && <DeleteButton what={u.username} onDelete={async () => { await api("DELETE /api/users/:id", { id: u.id }); await reload(); }} />}
              </span>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="Add a user">
        <form onSubmit={submit} noValidate className="flex flex-col gap-3">
          <Field id="user-username" label="New username" error={errors.username}>
            <input id="user-username" autoComplete="off" className={inputClass} value={v.username} onChange={(e) => setV({ ...v, username: e.target.value })} aria-invalid={!!errors.username} />
          </Field>
          <Field id="user-password" label="Initial password" error={errors.password} hint="at least 10 characters">
            <input id="user-password" type="password" autoComplete="new-password" className={inputClass} value={v.password} onChange={(e) => setV({ ...v, password: e.target.value })} aria-invalid={!!errors.password} />
          </Field>
          <Field id="user-role" label="Role" error={errors.role}>
            <select id="user-role" className={inputClass} value={v.role} onChange={(e) => setV({ ...v, role: e.target.value })}>
              <option value="viewer">viewer</option>
              <option value="operator">operator</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          {formError && <ErrorNote>{formError}</ErrorNote>}
          <Button type="submit" variant="primary">Create user</Button>
        </form>
      </Panel>
    </div>
  );
}

/** A user's role: pick another and save (PATCH /api/users/:id); the API's refusal (e.g. the last admin) is shown. */
function RoleControl({ user, onSaved }: { user: UserDto; onSaved: () => Promise<void> }) {
  const [role, setRole] = useState(user.role);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => setRole(user.role), [user.role]);
  const id = `role-${user.id}`;
  async function save() {
    setBusy(true);
    setErr(null);
    try {
      await api("PATCH /api/users/:id", { id: user.id, body: { role } });
      await onSaved();
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex items-center gap-2">
        <label htmlFor={id} className="sr-only">Role of {user.username}</label>
        <select id={id} className={`${inputClass} w-auto`} value={role} onChange={(e) => { setRole(e.target.value as Role); setErr(null); }} disabled={busy}>
          <option value="viewer">viewer</option>
          <option value="operator">operator</option>
          <option value="admin">admin</option>
        </select>
        {role !== user.role && (
          <>
            <Button variant="primary" onClick={save} disabled={busy} aria-label={`Save role of ${user.username}`}>Save role</Button>
            <Button onClick={() => { setRole(user.role); setErr(null); }} disabled={busy}>Cancel</Button>
          </>
        )}
      </div>
      {err && <p role="alert" className="max-w-xs text-right text-xs text-bad">⚠ {err}</p>}
    </div>
  );
}

/* ------------------------------------------------------------------ tokens */

function TokensSettings() {
  const { items, error, reload } = useList(loadTokens);
  const [v, setV] = useState({ name: "", role: "viewer", expiresInDays: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    try {
      const body: Record<string, unknown> = { name: v.name, role: v.role };
      if (v.expiresInDays.trim()) body.expiresInDays = num(v.expiresInDays);
      const { token } = await api("POST /api/tokens", { body });
      setSecret({ name: token.name, token: token.token });
      setCopied(false);
      setV({ name: "", role: "viewer", expiresInDays: "" });
      await reload();
    } catch (err) {
      const r = toErrors(err, ["name", "role", "expiresInDays"]);
      setErrors(r.fields);
      setFormError(r.form);
    }
  }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Panel title="API tokens">
        <ErrorNote>{error}</ErrorNote>
        {secret && (
          <div role="status" className="mb-3 flex flex-col gap-2 rounded-md border border-warn/60 bg-warn-bg p-3 text-sm" data-testid="token-secret">
            <p className="font-bold text-warn">Copy the token “{secret.name}” now: it is shown only once and cannot be recovered.</p>
            <code className="break-all rounded bg-bg p-2 font-mono text-xs text-fg">{secret.token}</code>
            <div className="flex gap-2">
              <Button
                onClick={async () => {
                  try {
                    await navigator.clipboard.writeText(secret.token);
                    setCopied(true);
                  } catch {
                    setCopied(false);
                  }
                }}
              >
                {copied ? "Copied ✓" : "Copy"}
              </Button>
              <Button onClick={() => setSecret(null)}>I have stored it</Button>
            </div>
          </div>
        )}
        {items.length === 0 && !error && <Empty>No tokens.</Empty>}
        <ul className="flex flex-col divide-y divide-line">
          {items.map((t) => (
            <li key={t.id} className="flex flex-wrap items-center gap-3 py-2">
              <span className="font-semibold">{t.name}</span>
              <code className="font-mono text-xs text-muted">{t.prefix}…</code>
              <Badge tone={t.role === "admin" ? "info" : t.role === "operator" ? "ok" : "idle"}>{t.role}</Badge>
              <span className="text-xs text-muted">
                last used {t.lastUsedAt ? <Time iso={t.lastUsedAt} relative /> : "never"}
                {t.expiresAt && <> · expires <Time iso={t.expiresAt} /></>}
              </span>
              <span className="ml-auto">
                <DeleteButton what={`token ${t.name}`} onDelete={async () => { await api("DELETE /api/tokens/:id", { id: t.id }); await reload(); }} />
              </span>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="Create a token">
        <form onSubmit={submit} noValidate className="flex flex-col gap-3">
          <Field id="token-name" label="Token name" error={errors.name} hint="what uses it, e.g. monitoring">
            <input id="token-name" className={inputClass} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} aria-invalid={!!errors.name} />
          </Field>
          <Field id="token-role" label="Token role" error={errors.role} hint="never more than your own role">
            <select id="token-role" className={inputClass} value={v.role} onChange={(e) => setV({ ...v, role: e.target.value })}>
              <option value="viewer">viewer</option>
              <option value="operator">operator</option>
              <option value="admin">admin</option>
            </select>
          </Field>
          <Field id="token-exp" label="Expires after (days)" error={errors.expiresInDays} hint="empty: never">
            <input id="token-exp" inputMode="numeric" className={inputClass} value={v.expiresInDays} onChange={(e) => setV({ ...v, expiresInDays: e.target.value })} aria-invalid={!!errors.expiresInDays} />
          </Field>
          {formError && <ErrorNote>{formError}</ErrorNote>}
          <Button type="submit" variant="primary">Create token</Button>
        </form>
      </Panel>
    </div>
  );
}
