import { loadConfig } from "@/lib/config";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError, badRequest, conflict, fromPrismaError, notFound } from "@/lib/http/errors";
import { parseWith } from "@/lib/http/validate";
import { route } from "@/lib/http/route";
import { configuredOrigins, originProblem, selfOrigin } from "@/lib/http/origin";
import { isSecureRequest } from "@/lib/auth/cookies";
import { log, redact, setLogLevel, setLogSink } from "@/lib/log";

let restore: (() => void) | undefined;
afterEach(() => restore?.());

function capture(): string[] {
  const lines: string[] = [];
  restore = setLogSink((l) => lines.push(l));
  return lines;
}

const call = (h: (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>, init?: RequestInit & { url?: string }) =>
  h(new Request(init?.url ?? "http://localhost/api/x", init), { params: Promise.resolve({}) });

describe("error shape", () => {
  it.each([
    [badRequest("name: must not be empty", "name"), 400, "invalid_input"],
    [notFound("pair"), 404, "not_found"],
    [conflict("a pair named x already exists"), 409, "conflict"],
    [new ApiError(401, "unauthenticated", "sign in"), 401, "unauthenticated"],
    [new ApiError(403, "forbidden", "no"), 403, "forbidden"],
  ])("%s -> %i", async (err, status, code) => {
    capture();
    const res = await call(route({ allow: "public" }, async () => { throw err; }));
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error.code).toBe(code);
    expect(body.error.message).toBe(err.message);
    expect(Object.keys(body)).toEqual(["error"]);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("400 names the field", async () => {
    capture();
    const h = route({ allow: "public" }, async ({ body }) => body(z.object({ vipPrefix: z.number().max(32) })));
    const res = await call(h, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vipPrefix: 40 }) });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.field).toBe("vipPrefix");
    expect(error.message).toMatch(/^vipPrefix: /);
  });

  it("bad JSON and wrong content type are clear 400/415", async () => {
    capture();
    const h = route({ allow: "public" }, async ({ body }) => body(z.object({})));
    const bad = await call(h, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/not valid JSON/);
    const form = await call(h, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
    expect(form.status).toBe(415);
  });

  it("500 hides internals but logs them with the request id", async () => {
    const lines = capture();
    const h = route({ allow: "public" }, async () => { throw new Error("connection to 10.1.2.3 refused; password=hunter2"); });
    const res = await call(h, { headers: { "x-request-id": "req-123" } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("10.1.2.3");
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error; see the server log" } });
    expect(res.headers.get("x-request-id")).toBe("req-123");
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "request failed");
    expect(logged).toMatchObject({ level: "error", requestId: "req-123", path: "/api/x" });
  });

  it("maps Prisma unique violations to 409 and not-found to 404", () => {
    expect(fromPrismaError({ code: "P2002", meta: { modelName: "Pair", target: ["name"] } })).toMatchObject({ status: 409, message: "a pair with this name already exists" });
    expect(fromPrismaError({ code: "P2025", meta: { modelName: "Host" } })).toMatchObject({ status: 404 });
    expect(fromPrismaError(new Error("x"))).toBeNull();
  });

  it("parseWith throws a 400 ApiError naming a nested field", () => {
    try {
      parseWith(z.object({ servers: z.array(z.object({ hostId: z.uuid() })) }), { servers: [{ hostId: "x" }] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).extra.field).toBe("servers.0.hostId");
    }
  });
});

describe("origin check", () => {
  const req = (headers: Record<string, string>) => new Request("http://panel.local:3000/api/hosts", { method: "POST", headers: { host: "panel.local:3000", ...headers } });
  it("allows the request's own origin and configured ones, refuses others", () => {
    expect(originProblem(req({ origin: "http://panel.local:3000" }))).toBeNull();
    expect(originProblem(req({ origin: "http://evil.example" }))).toMatch(/not allowed/);
    expect(originProblem(req({}))).toMatch(/missing Origin/);
    expect(originProblem(req({ referer: "http://panel.local:3000/settings" }))).toBeNull();
    const allowed = configuredOrigins(loadConfig({ ALLOWED_ORIGINS: "https://ops.example.com, http://other:8080" }));
    expect(allowed).toEqual(["https://ops.example.com", "http://other:8080"]);
    expect(originProblem(req({ origin: "https://ops.example.com" }), allowed)).toBeNull();
    expect(originProblem(req({ origin: "https://ops.example.com" }))).toMatch(/not allowed/);
  });

  it("believes X-Forwarded-Host and X-Forwarded-Proto only with TRUST_PROXY", () => {
    const spoofed = req({ origin: "https://evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
    expect(loadConfig({}).TRUST_PROXY).toBe(false); // the unit tier's environment: the default
    expect(selfOrigin(spoofed.headers, spoofed.url)).toBe("http://panel.local:3000");
    expect(originProblem(spoofed)).toMatch(/not allowed/);
    expect(selfOrigin(spoofed.headers, spoofed.url, true)).toBe("https://evil.example");
    const viaProxy = new Request("http://panel.local:3000/x", { headers: { "x-forwarded-proto": "https" } });
    expect(isSecureRequest(viaProxy)).toBe(false);
    expect(isSecureRequest(viaProxy, true)).toBe(true);
  });
});

describe("log", () => {
  it("writes JSON lines with time, level, msg and redacts secrets", () => {
    const lines = capture();
    log.child({ requestId: "r1" }).info("login", { username: "a", password: "p", nested: { agentToken: "t", authorization: "Bearer x", Cookie: "c" }, tokenPrefix: "sy_abc" });
    const e = JSON.parse(lines[0]);
    expect(e).toMatchObject({ level: "info", msg: "login", requestId: "r1", username: "a", password: "[redacted]", tokenPrefix: "sy_abc" });
    expect(e.nested).toEqual({ agentToken: "[redacted]", authorization: "[redacted]", Cookie: "[redacted]" });
    expect(Date.parse(e.time)).not.toBeNaN();
    expect(JSON.stringify(redact({ newPassword: "x", apiKey: "y" }))).not.toMatch(/"x"|"y"/);
  });

  it("setLogLevel overrides LOG_LEVEL until reset (the agent sets its configuration's logLevel)", () => {
    const lines = capture();
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = "error";
    try {
      log.info("hidden by LOG_LEVEL");
      setLogLevel("debug");
      log.debug("shown");
      setLogLevel("warn");
      log.info("hidden by the override");
      log.warn("warned");
      expect(() => setLogLevel("loud" as never)).toThrow(/log level/);
      setLogLevel(null);
      log.warn("hidden again by LOG_LEVEL");
    } finally {
      setLogLevel(null);
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown", "warned"]);
  });
});
