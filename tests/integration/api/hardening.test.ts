// Issue 13's "small ones", met where a user meets them: the real server (server.ts, production build)
// on a database of its own, driven over HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";

let srv: StartedServer;

beforeAll(async () => {
  ensureNextBuild();
  srv = await startServer();
}, 300_000);

afterAll(async () => {
  await srv?.stop();
});

/** A request with the admin API token (JSON body when given). */
function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${srv.adminToken}`, ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  }
  return fetch(srv.url + path, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

const suffix = Math.random().toString(36).slice(2, 8);

async function createHost(name: string, n: number): Promise<string> {
  const r = await api("/api/hosts", { body: { name: `${name}-${suffix}`, address: `10.13.0.${n}`, agentUrl: `http://10.13.0.${n}:4999`, agentToken: "hardening-agent-secret-1" } });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()).host.id;
}

describe("VIPs are stored and compared in canonical form", () => {
  let hosts: string[] = [];
  const pairBody = (name: string, vipAddress: string) => ({
    name: `${name}-${suffix}`,
    vipAddress,
    vipPrefix: 64,
    vipInterface: "eth0",
    servers: [
      { name: "sip-1", hostId: hosts[0], appName: "SIPServer1" },
      { name: "sip-2", hostId: hosts[1], appName: "SIPServer2" },
    ],
  });

  beforeAll(async () => {
    hosts = [await createHost("vip-a", 1), await createHost("vip-b", 2)];
  });

  it("2001:db8::10 and 2001:DB8:0:0:0:0:0:10 are one VIP: the second pair is refused (409)", async () => {
    const first = await api("/api/pairs", { body: pairBody("v6-one", "2001:DB8:0:0:0:0:0:10") });
    expect(first.status, await first.clone().text()).toBe(201);
    expect((await first.json()).pair.vipAddress).toBe("2001:db8::10");

    const second = await api("/api/pairs", { body: pairBody("v6-two", "2001:db8::10") });
    expect(second.status).toBe(409);
    expect((await second.json()).error).toMatchObject({ code: "conflict", message: expect.stringContaining("2001:db8::10") });
  });

  it("a PATCH to another spelling of a used VIP is refused too; the stored spelling is canonical", async () => {
    const other = await api("/api/pairs", { body: pairBody("v6-three", "2001:db8::20") });
    expect(other.status).toBe(201);
    const id = (await other.json()).pair.id;
    const clash = await api(`/api/pairs/${id}`, { method: "PATCH", body: { vipAddress: "2001:0DB8:0000:0000:0000:0000:0000:0010" } });
    expect(clash.status).toBe(409);
    const moved = await api(`/api/pairs/${id}`, { method: "PATCH", body: { vipAddress: "2001:DB8::30" } });
    expect(moved.status).toBe(200);
    expect((await moved.json()).pair.vipAddress).toBe("2001:db8::30");
  });
});
