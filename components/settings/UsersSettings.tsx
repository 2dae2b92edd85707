"use client";
/** Settings → Users and roles: add a user, change another user's role, delete. */
import { useEffect, useState } from "react";
import type { Role } from "@/lib/auth/roles";
import type { UserDto } from "@/lib/views";
import { api, errorText } from "../api";
import { useMe } from "../session";
import { Badge } from "../status";
import { Time } from "../Time";
import { Button, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, loadUsers, RoleOptions, toErrors, useList, type Errors } from "./common";

export function UsersSettings() {
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
                <span className="text-xs text-muted">since <Time iso={u.createdAt} /></span>
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
              <RoleOptions />
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
          <RoleOptions />
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

