import type { ApiErrorBody, ApiResponse, ApiRoute } from "@/lib/api-types";
import { loginPath } from "@/lib/validation/return-path";

/**
 * The panel's typed client of the HTTP API (routes and their answers: lib/api-types.ts). Every failure
 * becomes an ApiError whose `message` is in plain words (the API's own message when it has one, e.g. the
 * field a 400 names), and whose `field` names the form field to show it next to when the API names one.
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

interface Options {
  /** Query string; undefined and "" values are left out. */
  query?: Record<string, string | number | undefined>;
  body?: Json;
  signal?: AbortSignal;
  /** Do not send the user to /login on a 401 (the login form itself). */
  noAuthRedirect?: boolean;
}

/** `id` is required exactly when the route's path has `:id`. */
export type CallOptions<R extends ApiRoute> = Options & (R extends `${string}:id${string}` ? { id: string } : { id?: never });

const PLAIN: Record<number, string> = {
  401: "Your session has ended. Please sign in again.",
  403: "Your role does not allow this action.",
  404: "Not found. It may have been deleted by someone else.",
  409: "This conflicts with the current state. Reload and try again.",
  429: "Too many attempts. Wait a minute and try again.",
};

function isErrorBody(p: unknown): p is ApiErrorBody {
  const e = p && typeof p === "object" && "error" in p ? p.error : null;
  return !!e && typeof e === "object" && "code" in e && typeof e.code === "string" && "message" in e && typeof e.message === "string";
}

/** Reads the API's `{ error: { code, message, field? } }`; anything else (a proxy's page) gets a sentence for the status. */
export function toApiError(status: number, payload: unknown): ApiError {
  const err = isErrorBody(payload) ? payload.error : null;
  let message = err?.message.trim() ? err.message : "";
  if (!message) {
    message =
      PLAIN[status] ??
      (status >= 500
        ? `The server hit a problem (HTTP ${status}). Try again; if it keeps happening, check the server log.`
        : `The request was refused (HTTP ${status}).`);
  }
  if (status >= 500 && !message.toLowerCase().includes("server")) message = `Server error: ${message}`;
  return new ApiError(message, status, err?.code ?? `http_${status}`, err?.field ?? null);
}

/**
 * Calls one route of lib/api-types.ts and returns its typed answer:
 *   api("GET /api/pairs")                                            -> { pairs: PairDto[] }
 *   api("PATCH /api/pairs/:id", { id, body: { maintenance: true } }) -> { pair: PairDto }
 *   api("GET /api/operations", { query: { pairId, limit: 30 } })      -> { operations: OperationView[] }
 * Routes with `:id` take the id (encoded into the path); 204 answers are null.
 */
export async function api<R extends ApiRoute>(
  route: R,
  ...[opts]: {} extends CallOptions<R> ? [CallOptions<R>?] : [CallOptions<R>]
): Promise<ApiResponse<R>> {
  const o: Options & { id?: string } = opts ?? {};
  const [method, pattern] = route.split(" ");
  const path = o.id === undefined ? pattern : pattern.replace(":id", encodeURIComponent(o.id));
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined && v !== "") query.set(k, String(v));
  let res: Response;
  try {
    res = await fetch(query.size ? `${path}?${query}` : path, {
      method,
      headers: o.body !== undefined ? { "content-type": "application/json", accept: "application/json" } : { accept: "application/json" },
      body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
      credentials: "same-origin",
      cache: "no-store",
      signal: o.signal,
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
    if (res.status === 401 && !o.noAuthRedirect && typeof window !== "undefined") {
      window.location.assign(loginPath(window.location.pathname + window.location.search));
    }
    throw err;
  }
  return payload as ApiResponse<R>;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
