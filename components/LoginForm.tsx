"use client";
import { useState } from "react";
import { safeNextPath } from "@/lib/validation/return-path";
import { api, ApiError } from "./api";
import { ThemeToggle } from "./ThemeToggle";
import { Button, inputClass } from "./ui";

export function LoginForm({ next: given }: { next: string }) {
  const next = safeNextPath(given);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    if (!username.trim() || !password) {
      setError(!username.trim() ? "Enter your username." : "Enter your password.");
      return;
    }
    setBusy(true);
    try {
      await api("POST /api/auth/login", { body: { username: username.trim(), password }, noAuthRedirect: true });
      window.location.assign(next);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError("Wrong username or password. Check both and try again.");
      else if (err instanceof ApiError && err.status === 429) setError("Too many failed sign-ins. Wait a minute before trying again.");
      else setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center justify-between">
          <h1 className="flex items-center gap-2 text-2xl font-bold">
            <svg viewBox="0 0 24 24" className="size-7 text-accent" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden>
              <path d="M3 7h12l-3-3M21 17H9l3 3" />
            </svg>
            Switchyard
          </h1>
          <ThemeToggle />
        </div>
        <form onSubmit={submit} noValidate className="flex flex-col gap-4 rounded-lg border border-line bg-surface p-6 shadow-sm" aria-describedby={error ? "login-error" : undefined}>
          <p className="text-sm text-muted">Sign in to the SIP Server HA control panel.</p>
          <div className="flex flex-col gap-1">
            <label htmlFor="username" className="text-sm font-semibold">Username</label>
            <input id="username" name="username" autoComplete="username" autoFocus className={inputClass} value={username} onChange={(e) => setUsername(e.target.value)} />
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="password" className="text-sm font-semibold">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" className={inputClass} value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          {error && (
            <p id="login-error" role="alert" className="rounded-md border border-bad/50 bg-bad-bg px-3 py-2 text-sm font-medium text-bad">
              ⚠ {error}
            </p>
          )}
          <Button type="submit" variant="primary" disabled={busy} className="py-2">
            {busy ? "Signing in…" : "Sign in"}
          </Button>
          {next !== "/" && <p className="text-xs text-muted">You will return to {next} after signing in.</p>}
        </form>
      </div>
    </main>
  );
}
