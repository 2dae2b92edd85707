"use client";
/** Settings → API tokens: create (the secret is shown once, with a copy button), list, revoke. */
import { useState } from "react";
import { api } from "../api";
import { Badge } from "../status";
import { Time } from "../Time";
import { Button, Empty, ErrorNote, Field, inputClass, Panel } from "../ui";
import { DeleteButton, loadTokens, num, RoleOptions, toErrors, useList, type Errors } from "./common";

export function TokensSettings() {
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
                last used {t.lastUsedAt ? <Time iso={t.lastUsedAt} /> : "never"}
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
              <RoleOptions />
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
