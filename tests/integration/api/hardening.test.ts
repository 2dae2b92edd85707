// Issue 13's "small ones", met where a user meets them: the real server (server.ts, production build)
// on a database of its own, driven over HTTP.
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureNextBuild, REPO_ROOT, startServer, type StartedServer } from "../helpers/server";

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

/** Signs in as the admin with username and password; the `sy_session=...` pair and the Set-Cookie line. */
async function adminSession(server: StartedServer, headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, ...headers },
    body: JSON.stringify({ username: server.adminUsername, password: server.adminPassword }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
  const setCookie = r.headers.get("set-cookie") ?? "";
  return { cookie: setCookie.split(";")[0], setCookie };
}

describe("forwarded headers are believed only with TRUST_PROXY", () => {
  const spoofed = { origin: "https://evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" };
  /** A cookie-authenticated write from another site that claims, in forwarded headers, to be that site. */
  const crossSiteWrite = (server: StartedServer, cookie: string) =>
    fetch(`${server.url}/api/tokens`, { method: "POST", headers: { "content-type": "application/json", cookie, ...spoofed }, body: JSON.stringify({ name: `xs-${suffix}`, role: "viewer" }) });

  it("TRUST_PROXY unset: X-Forwarded-Host/Proto do not make a foreign Origin our own (403), nor the cookie Secure", async () => {
    const { cookie } = await adminSession(srv);
    const r = await crossSiteWrite(srv, cookie);
    expect(r.status).toBe(403);
    expect((await r.json()).error).toMatchObject({ code: "forbidden", message: expect.stringContaining("origin https://evil.example is not allowed") });
    const login = await adminSession(srv, { "x-forwarded-proto": "https" });
    expect(login.setCookie).toMatch(/^sy_session=/);
    expect(login.setCookie).not.toMatch(/Secure/i);
  });

  it("TRUST_PROXY=1: the proxy's X-Forwarded-Host/Proto are the request's origin, and https marks the cookie Secure", async () => {
    const proxied = await startServer({ env: { TRUST_PROXY: "1", SWITCHYARD_CONTROLLER: "off" }, adminToken: false });
    try {
      const { cookie } = await adminSession(proxied);
      expect((await crossSiteWrite(proxied, cookie)).status).toBe(201);
      const viaHttps = { "x-forwarded-proto": "https", origin: proxied.url.replace(/^http:/, "https:") };
      expect((await adminSession(proxied, viaHttps)).setCookie).toMatch(/; Secure$/);
    } finally {
      await proxied.stop();
    }
  });
});

describe("a host's agent URL changes only together with its agent token", () => {
  it("PATCH with a new agentUrl and no agentToken: 400 naming agentToken, nothing changed; with the token: 200", async () => {
    const id = await createHost("moving", 9);
    const before = await (await api(`/api/hosts/${id}`)).json();
    const r = await api(`/api/hosts/${id}`, { method: "PATCH", body: { agentUrl: "http://listener.example:4999" } });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toEqual({ code: "invalid_input", field: "agentToken", message: "agentToken: re-enter the agent token when changing the agent URL" });
    expect((await (await api(`/api/hosts/${id}`)).json()).host.agentUrl).toBe(before.host.agentUrl);

    // The same URL again (a client sending the whole form) and other fields need no token.
    const same = await api(`/api/hosts/${id}`, { method: "PATCH", body: { agentUrl: before.host.agentUrl, address: "10.13.0.10" } });
    expect(same.status, await same.clone().text()).toBe(200);

    const moved = await api(`/api/hosts/${id}`, { method: "PATCH", body: { agentUrl: "http://10.13.0.10:4999", agentToken: "hardening-agent-secret-2" } });
    expect(moved.status, await moved.clone().text()).toBe(200);
    expect((await moved.json()).host).toMatchObject({ agentUrl: "http://10.13.0.10:4999", hasAgentToken: true });
  });
});

describe("input the database cannot take is a 400 naming the field, never a 500", () => {
  const expect400 = async (r: Response, field: string, message: RegExp) => {
    const text = await r.text();
    expect(r.status, text).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: { code: "invalid_input", field, message: expect.stringMatching(message) } });
  };
  const NUL = "\u0000";

  it("NUL in a JSON string: the login's username, a switchover reason, a nested field", async () => {
    const login = await fetch(`${srv.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: srv.url },
      body: JSON.stringify({ username: `ad${NUL}min`, password: "x" }),
    });
    await expect400(login, "username", /^username: must not contain NUL characters$/);

    const hosts = [await createHost("nul-a", 21), await createHost("nul-b", 22)];
    const pair = await api("/api/pairs", {
      body: { name: `nul-pair-${suffix}`, vipAddress: "192.0.2.99", vipPrefix: 24, vipInterface: "eth0", servers: [{ name: "sip-1", hostId: hosts[0], appName: "a" }, { name: "sip-2", hostId: hosts[1], appName: "b" }] },
    });
    expect(pair.status).toBe(201);
    const id = (await pair.json()).pair.id;
    await expect400(await api(`/api/pairs/${id}/switchover`, { body: { reason: `patching${NUL}host 1` } }), "reason", /^reason: must not contain NUL/);
    await expect400(await api(`/api/pairs/${id}`, { method: "PATCH", body: { servers: [{ name: "sip-1", hostId: hosts[0], appName: `a${NUL}` }, { name: "sip-2", hostId: hosts[1], appName: "b" }] } }), "servers.0.appName", /NUL/);
    await expect400(await api("/api/users", { body: { username: "nul-user", password: `long-enough${NUL}password`, role: "viewer" } }), "password", /NUL/);
  });

  it("NUL in a query value; cursors and dates out of range", async () => {
    await expect400(await api("/api/audit?actor=%00"), "actor", /^actor: must not contain NUL characters$/);
    await expect400(await api("/api/audit?cursor=9999999999999999999"), "cursor", /^cursor: must be a cursor from a previous page$/);
    await expect400(await api("/api/audit?from=-271821-04-20T00:00:00Z"), "from", /^from: must be between the years 1 and 9999$/);
    await expect400(await api("/api/audit?to=%2B275760-09-13T00:00:00Z"), "to", /^to: must be between the years 1 and 9999$/);
    await expect400(await api("/api/operations?pairId=%00"), "pairId", /NUL/);
    // The edges still work.
    expect((await api("/api/audit?cursor=9223372036854775807&from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z")).status).toBe(200);
  });

  it("the export refuses a bad filter before the first byte: 400 in the error shape, not a 200 that stops", async () => {
    await expect400(await api("/api/audit/export?format=csv&actor=%00"), "actor", /NUL/);
    await expect400(await api("/api/audit/export?format=json&from=-271821-04-20T00:00:00Z"), "from", /years/);
    const ok = await api("/api/audit/export?format=csv");
    expect(ok.status).toBe(200);
    expect((await ok.text()).split("\r\n")[0]).toBe("id,at,actor,action,targetType,targetId,pairId,outcome,durationMs,details,prevHash,hash,operationId,sentence");
  });
});

describe("every method a route does not implement: 405 in the error shape, with Allow", () => {
  const API = path.join(REPO_ROOT, "app", "api");
  const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];
  const ID = "00000000-0000-4000-8000-000000000000";
  /** Every app/api route file: its URL (dynamic segments filled with an id) and the methods it exports itself. */
  const routes = readdirSync(API, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith("route.ts"))
    .map((f) => {
      const source = readFileSync(path.join(API, f), "utf8");
      const exported = [...source.matchAll(/^export const (GET|HEAD|OPTIONS|POST|PUT|PATCH|DELETE) = /gm)].map((m) => m[1]);
      return { url: "/api/" + path.dirname(f).split(path.sep).map((s) => (/^\[.+\]$/.test(s) ? ID : s)).join("/"), exported };
    });

  it("finds the routes", () => {
    expect(routes.length).toBeGreaterThanOrEqual(21);
    expect(routes.find((r) => r.url === `/api/hosts/${ID}`)?.exported).toEqual(["GET", "PATCH", "DELETE"]);
  });

  /** Every method Node's HTTP parser accepts (fetch refuses some, e.g. TRACE), except CONNECT (a tunnel, not a request). */
  const ALL_METHODS = http.METHODS.filter((m) => m !== "CONNECT");

  function send(method: string, url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(srv.url + url, { method, headers: { authorization: `Bearer ${srv.adminToken}` } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("answers each route/method pair by the route's own exports", async () => {
    expect(ALL_METHODS).toEqual(expect.arrayContaining([...METHODS, "TRACE", "PROPFIND", "PURGE", "QUERY"]));
    let checked = 0;
    for (const { url, exported } of routes) {
      const allowed = new Set([...exported, "OPTIONS", ...(exported.includes("GET") ? ["HEAD"] : [])]);
      const allow = [...allowed].sort().join(", ");
      for (const method of ALL_METHODS) {
        const r = await send(method, url);
        const text = r.text;
        const where = `${method} ${url}: ${r.status} ${text}`;
        if (method === "OPTIONS") {
          expect(r.status, where).toBe(204);
          expect(r.headers.allow, where).toBe(allow);
        } else if (allowed.has(method)) {
          expect(r.status, where).not.toBe(405);
        } else {
          checked++;
          expect(r.status, where).toBe(405);
          expect(r.headers.allow, where).toBe(allow);
          expect(r.headers["x-request-id"], where).toBeTruthy();
          if (method !== "HEAD") {
            expect(JSON.parse(text), where).toEqual({ error: { code: "method_not_allowed", message: `${method} is not allowed on ${url}; allowed: ${allow}` } });
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(600);
  });

  it("a client cannot pass an OPTIONS off as another method (the marker header is the server's own)", async () => {
    const r = await api("/api/hosts", { method: "OPTIONS", headers: { "x-switchyard-method": "PROPFIND" } });
    expect(r.status).toBe(204);
    expect(r.headers.get("allow")).toBe("GET, HEAD, OPTIONS, POST");
  });
});
