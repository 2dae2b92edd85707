/**
 * A small typed fetch helper for the panel. Every failure becomes an ApiError whose `message` is in
 * plain words (the API's own message when it has one, e.g. the field a 400 names), and whose `field`
 * names the form field to show it next to when the API says which one.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Json = Record<string, unknown> | unknown[] | string | number | boolean | null;

export interface ApiOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: Json;
  signal?: AbortSignal;
  /** Do not send the user to /login on a 401 (the login form itself). */
  noAuthRedirect?: boolean;
}

const PLAIN: Record<number, string> = {
  401: "Your session has ended. Please sign in again.",
  403: "Your role does not allow this action.",
  404: "Not found. It may have been deleted by someone else.",
  409: "This conflicts with the current state. Reload and try again.",
  429: "Too many attempts. Wait a minute and try again.",
};

/** Reads `{error:{code,message,field?}}`; falls back to a sentence for the status code. */
export function toApiError(status: number, payload: unknown): ApiError {
  const err = (payload && typeof payload === "object" && "error" in payload ? (payload as { error: unknown }).error : null) as
    | { code?: unknown; message?: unknown; field?: unknown; path?: unknown; details?: { field?: unknown } }
    | null;
  const code = typeof err?.code === "string" ? err.code : `http_${status}`;
  let message = typeof err?.message === "string" && err.message.trim() ? err.message : "";
  let field =
    typeof err?.field === "string"
      ? err.field
      : typeof err?.details?.field === "string"
        ? err.details.field
        : Array.isArray(err?.path)
          ? err.path.join(".")
          : typeof err?.path === "string"
            ? err.path
            : null;
  if (!message) {
    message =
      PLAIN[status] ??
      (status >= 500
        ? `The server hit a problem (HTTP ${status}). Try again; if it keeps happening, check the server log.`
        : `The request was refused (HTTP ${status}).`);
  }
  if (status >= 500 && !message.toLowerCase().includes("server")) message = `Server error: ${message}`;
  return new ApiError(message, status, code, field);
}

export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? "GET",
      headers: opts.body !== undefined ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: "same-origin",
      cache: "no-store",
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === "AbortError") throw e;
    throw new ApiError("Cannot reach the Switchyard server. Check the network connection; the page retries when it is back.", 0, "network");
  }
  const text = await res.text();
  let payload: unknown = null;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  }
  if (!res.ok) {
    const err = toApiError(res.status, payload);
    if (res.status === 401 && !opts.noAuthRedirect && typeof window !== "undefined") {
      const next = window.location.pathname + window.location.search;
      window.location.assign(`/login?next=${encodeURIComponent(next)}`);
    }
    throw err;
  }
  return payload as T;
}

/** Lists come back as an array or wrapped (`{items}`, `{pairs}`...): accept both. */
export function asList<T>(payload: unknown, ...keys: string[]): T[] {
  if (Array.isArray(payload)) return payload as T[];
  if (payload && typeof payload === "object") {
    for (const k of [...keys, "items", "data", "results"]) {
      const v = (payload as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v as T[];
    }
  }
  return [];
}

/** A single object, possibly wrapped (`{pair: {...}}`). */
export function asOne<T>(payload: unknown, ...keys: string[]): T {
  if (payload && typeof payload === "object" && !Array.isArray(payload)) {
    for (const k of keys) {
      const v = (payload as Record<string, unknown>)[k];
      if (v && typeof v === "object" && !Array.isArray(v)) return v as T;
    }
  }
  return payload as T;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
