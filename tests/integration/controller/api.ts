/** Calls the switchover and preflight route handlers in-process with a real operator API token. */
import { randomBytes } from "node:crypto";
import { createUser } from "@/lib/queries/users";
import { createToken } from "@/lib/queries/tokens";
import { POST as switchoverPOST } from "@/app/api/pairs/[id]/switchover/route";
import { GET as preflightGET } from "@/app/api/pairs/[id]/preflight/route";
import { POST as operationsPOST } from "@/app/api/pairs/[id]/operations/route";
import type { Preflight } from "@/lib/views";

let token: Promise<string> | null = null;

export function operatorToken(): Promise<string> {
  token ??= (async () => {
    const username = `op-${randomBytes(3).toString("hex")}`;
    const u = await createUser({ username, password: "correct horse battery staple 1", role: "operator" }, "test");
    const t = await createToken({ name: `t-${username}`, role: "operator" }, { kind: "user", userId: u.id, username, role: "operator", credentialId: "test" }, "test");
    return t.token;
  })();
  return token;
}

export async function switchover(pairId: string, body: unknown = { reason: "test" }) {
  const req = new Request(`http://localhost/api/pairs/${pairId}/switchover`, {
    method: "POST",
    headers: { authorization: `Bearer ${await operatorToken()}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const res = await switchoverPOST(req, { params: Promise.resolve({ id: pairId }) });
  return { status: res.status, body: (await res.json()) as { operation?: { id: string; status: string }; error?: { code: string; message: string } } };
}

export async function preflight(pairId: string) {
  const req = new Request(`http://localhost/api/pairs/${pairId}/preflight`, { headers: { authorization: `Bearer ${await operatorToken()}` } });
  const res = await preflightGET(req, { params: Promise.resolve({ id: pairId }) });
  return { status: res.status, body: (await res.json()) as { preflight: { ok: boolean; checks: { id: string; ok: boolean; detail: string }[] } } };
}

/** POST /api/pairs/:id/operations: a switchover or an override. */
export async function operate(pairId: string, body: unknown) {
  const req = new Request(`http://localhost/api/pairs/${pairId}/operations`, {
    method: "POST",
    headers: { authorization: `Bearer ${await operatorToken()}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const res = await operationsPOST(req, { params: Promise.resolve({ id: pairId }) });
  return {
    status: res.status,
    body: (await res.json()) as { operation?: { id: string; kind: string; status: string; steps: { action: string; target: string }[] }; error?: { code: string; message: string } },
  };
}

/** GET /api/pairs/:id/preflight with a query (e.g. "?kind=app_stop&serverId=…&graceful=true"). */
export async function preflightOf(pairId: string, query: string) {
  const req = new Request(`http://localhost/api/pairs/${pairId}/preflight${query}`, { headers: { authorization: `Bearer ${await operatorToken()}` } });
  const res = await preflightGET(req, { params: Promise.resolve({ id: pairId }) });
  return { status: res.status, body: (await res.json()) as { preflight: Preflight; error?: { code: string; message: string } } };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: Request, ctx: { params: Promise<any> }) => Promise<Response>;

/** Any route handler in-process, as the operator: `{ status, body }`. */
export async function callAs(handler: Handler, method: string, path: string, body?: unknown, params: Record<string, string> = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${await operatorToken()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await handler(new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), { params: Promise.resolve(params) });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
}
