// The real server: an audited change through HTTP reaches a connected socket.io client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connect, type Socket } from "socket.io-client";
import type { AuditSummary, ClientToServerEvents, ServerToClientEvents } from "@/lib/realtime/events";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let srv: StartedServer;
const sockets: Client[] = [];

function open(auth: Record<string, string> = {}, extra: Record<string, unknown> = {}): Client {
  const s: Client = connect(srv.url, { transports: ["websocket"], reconnection: false, auth, ...extra });
  sockets.push(s);
  return s;
}

function connected(s: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("connect_error", (e) => reject(e));
  });
}

function api(path: string, init: RequestInit & { token?: string } = {}) {
  return fetch(srv.url + path, {
    ...init,
    headers: { "content-type": "application/json", authorization: `Bearer ${init.token ?? srv.adminToken}`, ...(init.headers ?? {}) },
  });
}

beforeAll(async () => {
  ensureNextBuild();
  srv = await startServer();
}, 300_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  if (srv) {
    const code = await srv.stop();
    // Graceful shutdown on SIGTERM exits 0 and says so in the JSON log.
    expect(code).toBe(0);
    expect(srv.output()).toContain('"msg":"stopped"');
  }
});

describe("live channel", () => {
  it("refuses sockets without credentials or with a bad token", async () => {
    await expect(connected(open())).rejects.toThrow(/unauthenticated/);
    await expect(connected(open({ token: "sy_wrong" }))).rejects.toThrow(/unauthenticated/);
  });

  it("delivers audit:new for an audited HTTP change, and a pairs snapshot on connect", async () => {
    const s = open({ token: srv.adminToken! });
    const snapshot = new Promise<unknown[]>((resolve) => s.once("pairs:snapshot", resolve));
    await connected(s);
    expect(Array.isArray(await snapshot)).toBe(true);

    const got = new Promise<AuditSummary>((resolve) => {
      s.on("audit:new", (e) => {
        if (e.action === "host.create") resolve(e);
      });
    });
    const res = await api("/api/hosts", {
      method: "POST",
      body: JSON.stringify({ name: "live-host", address: "10.1.0.1", agentUrl: "http://10.1.0.1:4999", agentToken: "live-agent-secret-123" }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()).host;
    const ev = await got;
    expect(ev).toMatchObject({ action: "host.create", targetId: created.id, outcome: "success", actor: expect.stringMatching(/^token:/) });
    expect(ev.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(ev)).not.toContain("live-agent-secret");
  });

  it("validates client messages with zod and acknowledges", async () => {
    const s = open({ token: srv.adminToken! });
    await connected(s);
    const bad = await s.timeout(5000).emitWithAck("pair:subscribe", { pairId: "not-a-uuid" } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    const missing = await s.timeout(5000).emitWithAck("pair:subscribe", { pairId: "00000000-0000-4000-8000-000000000000" });
    expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await s.timeout(5000).emitWithAck("pair:unsubscribe", { pairId: "00000000-0000-4000-8000-000000000000" })).toEqual({ ok: true });
  });

  it("authenticates from the session cookie too, and revoking a token disconnects its sockets", async () => {
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: srv.url },
      body: JSON.stringify({ username: srv.adminUsername, password: srv.adminPassword }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const viaCookie = open({}, { extraHeaders: { cookie } });
    await connected(viaCookie);
    expect(viaCookie.connected).toBe(true);

    const t = await (await api("/api/tokens", { method: "POST", body: JSON.stringify({ name: "short-lived", role: "viewer" }) })).json();
    const s = open({ token: t.token.token });
    await connected(s);
    const gone = new Promise<string>((resolve) => s.once("disconnect", resolve));
    expect((await api(`/api/tokens/${t.token.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await gone).toBe("io server disconnect");
  });

  it("answers with a request id and JSON request logs", async () => {
    const r = await fetch(`${srv.url}/api/health`, { headers: { "x-request-id": "live-test-1" } });
    expect(r.headers.get("x-request-id")).toBe("live-test-1");
    const logged = () =>
      srv
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .find((l) => l.requestId === "live-test-1" && l.msg === "http");
    // The log line is written when the response has finished: wait for it, not for a fixed time.
    for (const t0 = Date.now(); !logged() && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 10));
    const line = logged();
    expect(line).toMatchObject({ level: "info", method: "GET", path: "/api/health", status: 200 });
    expect(srv.output()).not.toContain(srv.adminPassword);
  });
});
