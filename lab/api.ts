/**
 * A small client of the panel's HTTP API for the lab: log in (session cookie, with the Origin header the
 * CSRF check expects), create the two hosts and the pair, request switchovers, read operations, pairs
 * and alarms. Response bodies are read leniently ({ host } or the object itself) and checked for the few
 * fields the lab needs.
 */
import type { HostNode, Lab } from "./harness";
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  ms: number;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

const unwrap = <T>(body: unknown, key: string): T => {
  if (body && typeof body === "object" && key in body) return (body as Record<string, T>)[key]!;
  return body as T;
};

export class PanelApi {
  private cookie: string | null = null;
  private bearer: string | null = null;
  /** A call that has not answered after this long fails (a panel that stopped answering is a finding, not a hang). */
  timeoutMs = 30_000;
  constructor(readonly base: string) {}

  useToken(token: string): void {
    this.bearer = token;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: "application/json", origin: new URL(this.base).origin };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    else if (this.cookie) headers.cookie = this.cookie;
    const t0 = performance.now();
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const ms = performance.now() - t0;
    const setCookie = res.headers.getSetCookie?.() ?? [];
    for (const c of setCookie) {
      const m = /^(sy_session)=([^;]*)/.exec(c);
      if (m) this.cookie = m[2] ? `${m[1]}=${m[2]}` : null;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, ms };
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown, expect: number[] = [200, 201]): Promise<T> {
    const r = await this.request<T>(method, path, body);
    if (!expect.includes(r.status)) throw new ApiError(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`, r.status, r.body);
    return r.body;
  }

  async login(username: string, password: string): Promise<void> {
    await this.ok("POST", "/api/auth/login", { username, password });
    if (!this.cookie) throw new Error("login answered without a session cookie");
  }

  async hosts(): Promise<{ id: string; name: string }[]> {
    return unwrap(await this.ok("GET", "/api/hosts"), "hosts");
  }

  async createHost(h: { name: string; address: string; agentUrl: string; agentToken: string }): Promise<{ id: string; name: string }> {
    return unwrap(await this.ok("POST", "/api/hosts", h), "host");
  }

  async updateHost(id: string, h: Partial<{ name: string; address: string; agentUrl: string; agentToken: string }>): Promise<void> {
    await this.ok("PATCH", `/api/hosts/${id}`, h);
  }

  async pairs(): Promise<{ id: string; name: string }[]> {
    return unwrap(await this.ok("GET", "/api/pairs"), "pairs");
  }

  async createPair(p: Record<string, unknown>): Promise<{ id: string; name: string }> {
    return unwrap(await this.ok("POST", "/api/pairs", p), "pair");
  }

  async deletePair(id: string): Promise<void> {
    await this.ok("DELETE", `/api/pairs/${id}`, undefined, [200, 204]);
  }

  async deleteHost(id: string): Promise<void> {
    await this.ok("DELETE", `/api/hosts/${id}`, undefined, [200, 204]);
  }

  /** The controller's latest view of the pair (PairView in lib/views.ts), null until it has observed it. */
  async pair(id: string): Promise<PairViewLite | null> {
    const dto = unwrap<{ view?: PairViewLite | null }>(await this.ok("GET", `/api/pairs/${id}`), "pair");
    return dto.view ?? null;
  }

  switchover(pairId: string, reason?: string): Promise<ApiResponse<unknown>> {
    return this.request("POST", `/api/pairs/${pairId}/switchover`, reason ? { reason } : {});
  }

  async operation<T = OperationLite>(id: string): Promise<T> {
    return unwrap(await this.ok("GET", `/api/operations/${id}`), "operation");
  }

  /** Newest first, without steps. */
  async operations(pairId: string, limit = 50): Promise<(Omit<OperationLite, "steps"> & { createdAt: string })[]> {
    return unwrap(await this.ok("GET", `/api/operations?pairId=${encodeURIComponent(pairId)}&limit=${limit}`), "operations");
  }

  async alarms(query = ""): Promise<AlarmLite[]> {
    return unwrap(await this.ok("GET", `/api/alarms${query}`), "alarms");
  }

  /** Registers the lab's two hosts (named host1 and host2, their running agents) and one pair (labPairBody). */
  async createLabPair(lab: Pick<Lab, "addr" | "agents">, agentToken: string, name: string, policy: Record<string, unknown>): Promise<{ hostIds: Record<HostNode, string>; pairId: string }> {
    const hostIds = { host1: "", host2: "" };
    for (const h of ["host1", "host2"] as const) {
      hostIds[h] = (await this.createHost({ name: h, address: lab.addr[h], agentUrl: lab.agents.get(h)!.url, agentToken })).id;
    }
    return { hostIds, pairId: (await this.createPair(labPairBody(lab, hostIds, name, policy))).id };
  }
}

/** The body of POST /api/pairs for the lab's pair: sip-1 on host1, sip-2 on host2 (app "sip"), the lab's VIP on eth0. */
export function labPairBody(lab: Pick<Lab, "addr">, hostIds: Record<HostNode, string>, name: string, policy: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    vipAddress: lab.addr.vip,
    vipPrefix: lab.addr.prefixLen,
    vipInterface: "eth0",
    servers: [
      { name: "sip-1", hostId: hostIds.host1, appName: "sip" },
      { name: "sip-2", hostId: hostIds.host2, appName: "sip" },
    ],
    ...policy,
  };
}

/** The fields of lib/views.ts that the lab reads (kept local: the lab never imports lib/). */
export interface ServerViewLite {
  id: string;
  name: string;
  hostName: string;
  agentConnected: boolean;
  processState: string;
  mode: string;
  vip: string;
  healthy: boolean;
}
export interface PairViewLite {
  id: string;
  name: string;
  status: string;
  statusReason: string;
  vipHolder: string | null;
  servers: [ServerViewLite, ServerViewLite];
  operation: { id: string; kind: string; status: string } | null;
}
export interface OperationLite {
  id: string;
  kind: string;
  status: string;
  error: string | null;
  decision: string | null;
  steps: { seq: number; action: string; status: string; target: string; startedAt: string | null; finishedAt: string | null; output: { action: string; ok: boolean }[] | null }[];
}
export interface AlarmLite {
  id: string;
  kind: string;
  message: string;
  pairId: string | null;
  hostId: string | null;
  clearedAt: string | null;
  raisedAt?: string;
}
