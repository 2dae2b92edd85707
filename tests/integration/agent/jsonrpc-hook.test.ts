/**
 * The jsonrpc mode hook (agent/hooks.ts) against a real HTTP server on 127.0.0.1 that plays a JSON-RPC
 * endpoint: the request it gets, one kept-alive connection, errors, a refusal, a timeout, and that a
 * header's secret never reaches the run record. (Against a real Kamailio: kamailio.test.ts, bench/mode-hook.ts.)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AppConfig, type ModeHook } from "../../../agent/config";
import { runModeHook } from "../../../agent/hooks";

interface Seen {
  method: string;
  url: string;
  body: { jsonrpc: string; method: string; params: unknown; id: number };
  auth: string | undefined;
  remotePort: number;
}
const seen: Seen[] = [];
let answer: (req: Seen) => { status?: number; body?: unknown; delayMs?: number } = () => ({ body: { result: "ok" } });
let server: http.Server;
let url: string;
const app = AppConfig.parse({ name: "kam", command: "kamailio" });
const SECRET = "Bearer s3cr3t-value-0123456789";
const hook = (extra: Partial<Extract<ModeHook, { type: "jsonrpc" }>> = {}): ModeHook => ({
  type: "jsonrpc",
  url,
  setMethod: "pv.shvSet",
  setParams: ["mode", "str", "{mode}"],
  getMethod: "pv.shvGet",
  getParams: ["mode"],
  headers: { Authorization: SECRET },
  timeoutMs: 500,
  ...extra,
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      const s: Seen = { method: req.method!, url: req.url!, body: JSON.parse(data), auth: req.headers.authorization, remotePort: req.socket.remotePort! };
      seen.push(s);
      const a = answer(s);
      setTimeout(() => {
        res.writeHead(a.status ?? 200, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: s.body.id, ...(a.body as object) }));
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/RPC`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("jsonrpc mode hook", () => {
  test("set: a JSON-RPC 2.0 POST with {mode} filled in and the configured headers, on one kept-alive connection", async () => {
    seen.length = 0;
    answer = () => ({ body: { result: "Ok. Variable set to new value." } });
    const a = await runModeHook(app, hook(), "primary");
    const b = await runModeHook(app, hook(), "backup");
    expect(a.confirmed).toBe("primary");
    expect(b.confirmed).toBe("backup");
    expect(a.run).toMatchObject({ kind: "mode-hook", driver: "jsonrpc", action: "set-mode", ok: true });
    expect(seen.map((s) => [s.method, s.url, s.body.jsonrpc, s.body.method, s.body.params])).toEqual([
      ["POST", "/RPC", "2.0", "pv.shvSet", ["mode", "str", "primary"]],
      ["POST", "/RPC", "2.0", "pv.shvSet", ["mode", "str", "backup"]],
    ]);
    expect(seen[0].auth).toBe(SECRET);
    expect(seen[1].remotePort).toBe(seen[0].remotePort); // the same TCP connection
    expect(JSON.stringify([a.run, b.run])).not.toContain("s3cr3t");
  });

  test("get: the mode named in the result (Kamailio's pv.shvGet shape); none or both named is not a mode", async () => {
    answer = () => ({ body: { result: { name: "mode", type: "string", value: "backup" } } });
    expect((await runModeHook(app, hook(), null)).confirmed).toBe("backup");
    answer = () => ({ body: { result: { name: "mode", value: 1 } } });
    const r = await runModeHook(app, hook(), null);
    expect(r.confirmed).toBe("unknown");
    expect(r.run.stderr).toMatch(/names no mode/);
    const none = await runModeHook(app, hook({ getMethod: undefined }), null);
    expect(none.confirmed).toBe("unknown");
    expect(none.run.stderr).toMatch(/no getMethod/);
  });

  test("a JSON-RPC error, an HTTP error, the other mode in the result, a timeout: not confirmed, said why", async () => {
    answer = () => ({ body: { error: { code: 500, message: "Method Not Found" } } });
    const e = await runModeHook(app, hook(), "primary");
    expect(e).toMatchObject({ confirmed: "unknown", run: { ok: false, stderr: "JSON-RPC error 500: Method Not Found" } });
    answer = () => ({ status: 403, body: {} });
    expect((await runModeHook(app, hook(), "primary")).run.stderr).toBe("HTTP 403");
    answer = () => ({ body: { result: { value: "backup" } } });
    const other = await runModeHook(app, hook(), "primary");
    expect(other).toMatchObject({ confirmed: "unknown", run: { ok: false, stderr: "the app answered backup, not primary" } });
    answer = () => ({ body: { result: "late" }, delayMs: 1000 });
    const t0 = performance.now();
    const slow = await runModeHook(app, hook({ timeoutMs: 200 }), "primary");
    expect(performance.now() - t0).toBeLessThan(600);
    expect(slow).toMatchObject({ confirmed: "unknown", run: { ok: false, timedOut: true } });
    expect(JSON.stringify([e.run, other.run, slow.run])).not.toContain("s3cr3t");
  });

  test("named params (OpenSIPS MI style)", async () => {
    seen.length = 0;
    answer = () => ({ body: { result: "OK" } });
    const r = await runModeHook(app, hook({ setMethod: "shv_set", setParams: { name: "mode", type: "str", value: "{mode}" } }), "primary");
    expect(r.confirmed).toBe("primary");
    expect(seen[0].body.params).toEqual({ name: "mode", type: "str", value: "primary" });
  });
});
