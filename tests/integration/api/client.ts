/** Calls route handlers in-process with real Requests (no server): the API contract tests' client. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: Request, ctx: { params: Promise<any> }) => Promise<Response>;

export const ORIGIN = "http://panel.test";

export interface CallOpts {
  method?: string;
  path?: string;
  body?: unknown;
  cookie?: string;
  token?: string;
  params?: Record<string, string>;
  /** Origin header; defaults to the panel's own origin for cookie-authenticated writes. null: send none. */
  origin?: string | null;
  ip?: string;
  headers?: Record<string, string>;
}

export async function call(handler: Handler, o: CallOpts = {}) {
  const method = o.method ?? "GET";
  const headers: Record<string, string> = { host: "panel.test", "x-switchyard-client-ip": o.ip ?? "127.0.0.1", ...o.headers };
  if (o.cookie) headers.cookie = o.cookie;
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const origin = o.origin === undefined ? (method !== "GET" ? ORIGIN : null) : o.origin;
  if (origin) headers.origin = origin;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers["content-type"] = "application/json";
    body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
  }
  const res = await handler(new Request(ORIGIN + (o.path ?? "/api/test"), { method, headers, body }), { params: Promise.resolve(o.params ?? {}) });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The `sy_session=...` pair from a Set-Cookie header. */
export function cookieFrom(res: { headers: Headers }): string {
  const set = res.headers.get("set-cookie") ?? "";
  const m = /sy_session=([^;]*)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${set}`);
  return `sy_session=${m[1]}`;
}
