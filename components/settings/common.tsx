"use client";
/** What the Settings screens share: the API's field errors, a list with its reload, a confirmed delete. */
import { useCallback, useEffect, useState } from "react";
import { ROLES } from "@/lib/auth/roles";
import { api, ApiError, errorText } from "../api";
import { Button } from "../ui";

export type Errors = Record<string, string>;

/** Splits an ApiError into a field error (its message without the "field: " prefix) or a form error. */
export function toErrors(e: unknown, known: string[]): { fields: Errors; form: string | null } {
  if (e instanceof ApiError && e.field) {
    const msg = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
    const key = known.find((k) => k === e.field) ?? known.find((k) => e.field!.startsWith(`${k}.`) || k.startsWith(`${e.field}.`));
    if (key) return { fields: { [key]: msg }, form: null };
  }
  return { fields: {}, form: errorText(e) };
}

/** Numbers stay numbers only when they look like one; anything else goes to the API as typed, to be named. */
export const num = (s: string): number | string => (s.trim() !== "" && !Number.isNaN(Number(s)) ? Number(s) : s);

/** The role choices of every form, from the server's declaration (lib/auth/roles.ts). */
export function RoleOptions() {
  return (
    <>
      {ROLES.map((r) => (
        <option key={r} value={r}>{r}</option>
      ))}
    </>
  );
}

export const loadHosts = async () => (await api("GET /api/hosts")).hosts;
export const loadPairs = async () => (await api("GET /api/pairs")).pairs;
export const loadUsers = async () => (await api("GET /api/users")).users;
export const loadTokens = async () => (await api("GET /api/tokens")).tokens;

/** A list and its reload; `load` is one of the loaders above (stable: defined once). */
export function useList<T>(load: () => Promise<T[]>) {
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

export function DeleteButton({ what, onDelete }: { what: string; onDelete: () => Promise<void> }) {
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

