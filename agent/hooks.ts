/** Mode hooks (tell an app its mode, read it back) and health probes (command, HTTP GET, SIP OPTIONS). */
import http from "node:http";
import https from "node:https";
import type { DriverRun, Mode, ObservedMode } from "../protocol/agent";
import { sipOptions } from "../protocol/sip";
import type { AppConfig, ModeHook, ProbeConfig } from "./config";
import { boundText, nowIso, runCommand, syntheticRun } from "./util";

interface HttpResult {
  status: number | null;
  body: string;
  error: string | null;
  timedOut: boolean;
}

/**
 * Keep-alive agents for mode hooks and HTTP probes: the connection to the app's control endpoint stays
 * open (warmed by the get-mode call after start), so a set-mode call is one write and one read, without a
 * TCP handshake. Nagle off: a request is one small write and nothing may wait for a delayed ACK.
 */
const keepAlive = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 4, maxFreeSockets: 2, scheduling: "lifo" as const };
const httpAgent = new http.Agent(keepAlive);
const httpsAgent = new https.Agent(keepAlive);

/** Errors of a pooled connection the server closed meanwhile: the request never reached it. */
const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

function httpRequest(url: string, method: "GET" | "PUT" | "POST", body: string | null, timeoutMs: number, onSent?: () => void, extraHeaders: Record<string, string> = {}): Promise<HttpResult> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: HttpResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const u = new URL(url);
    const isHttps = u.protocol === "https:";
    const mod = isHttps ? https : http;
    const attempt = (retry: boolean) => {
      let gotResponse = false;
      const req = mod.request(
        u,
        {
          method,
          agent: isHttps ? httpsAgent : httpAgent,
          headers: { ...extraHeaders, ...(body !== null ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          gotResponse = true;
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            if (data.length < 8192) data += c;
          });
          res.on("end", () => finish({ status: res.statusCode ?? null, body: data, error: null, timedOut: false }));
          res.on("error", (e) => finish({ status: res.statusCode ?? null, body: data, error: e.message, timedOut: false }));
        },
      );
      req.on("socket", (sock) => sock.setNoDelay(true));
      if (onSent) req.once("finish", onSent); // the whole request has been handed to the kernel
      clearTimeout(timer);
      timer = setTimeout(
        () => {
          req.destroy();
          finish({ status: null, body: "", error: `timed out after ${timeoutMs} ms`, timedOut: true });
        },
        Math.max(1, deadline - performance.now()),
      );
      req.on("error", (e: NodeJS.ErrnoException) => {
        if (done) return;
        // A kept-alive connection closed by the server (idle timeout, app restarted) just as we reused it:
        // the request did not get an answer; send it once more on a new connection (GET and PUT of the
        // same mode, and a JSON-RPC set or get of it, are idempotent).
        if (retry && !gotResponse && req.reusedSocket && STALE_SOCKET.has(e.code ?? "")) return attempt(false);
        finish({ status: null, body: "", error: e.message, timedOut: false });
      });
      req.end(body ?? undefined);
    };
    attempt(true);
  });
}

function modeFromText(s: string): Mode | null {
  try {
    const j = JSON.parse(s) as { mode?: unknown };
    if (j.mode === "primary" || j.mode === "backup") return j.mode;
  } catch {}
  const lines = s.trim().split(/\r?\n/).reverse();
  for (const l of lines) {
    const m = l.trim().toLowerCase().match(/\b(primary|backup)\b/);
    if (m) return m[1] as Mode;
  }
  return null;
}

/** The one mode a JSON-RPC result names (a string value "primary" or "backup" anywhere in it), else null. */
export function modeFromRpcResult(result: unknown): Mode | null {
  const found = new Set<Mode>();
  const walk = (v: unknown, depth: number) => {
    if (depth > 8) return;
    if (typeof v === "string") {
      const t = v.trim().toLowerCase();
      if (t === "primary" || t === "backup") found.add(t);
    } else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v && typeof v === "object") for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(result, 0);
  return found.size === 1 ? [...found][0] : null;
}

let rpcId = 0;
type RpcValue = string | number | boolean | null;
/**
 * A JSON-RPC 2.0 request body: every "{mode}" in a string param (positional or named) becomes the mode (an
 * enum value).
 */
export function rpcBody(method: string, params: RpcValue[] | Record<string, RpcValue>, mode: Mode | null): string {
  const fill = (v: RpcValue) => (typeof v === "string" && mode ? v.replaceAll("{mode}", mode) : v);
  const p = Array.isArray(params) ? params.map(fill) : Object.fromEntries(Object.entries(params).map(([k, v]) => [k, fill(v)]));
  return JSON.stringify({ jsonrpc: "2.0", method, params: p, id: ++rpcId });
}

type JsonRpcHook = Extract<ModeHook, { type: "jsonrpc" }>;

async function runRpcHook(app: AppConfig, hook: JsonRpcHook, mode: Mode | null, onSent?: () => void): Promise<HookResult> {
  const action = mode ? "set-mode" : "get-mode";
  const t0 = performance.now();
  const startedAt = nowIso();
  const base = { kind: "mode-hook" as const, driver: "jsonrpc", action, target: app.name };
  const method = mode ? hook.setMethod : hook.getMethod;
  if (!method) return { run: syntheticRun(base, t0, startedAt, false, "", "no getMethod configured"), confirmed: "unknown" };
  const r = await httpRequest(hook.url, "POST", rpcBody(method, mode ? hook.setParams : hook.getParams, mode), hook.timeoutMs, onSent, hook.headers);
  let said: Mode | null = null;
  let error = r.error ?? "";
  const ok2xx = r.status !== null && r.status >= 200 && r.status < 300;
  if (ok2xx) {
    try {
      const j = JSON.parse(r.body) as { result?: unknown; error?: { code?: unknown; message?: unknown } };
      if (j.error) error = `JSON-RPC error ${String(j.error.code)}: ${String(j.error.message)}`;
      else if (!("result" in j)) error = "not a JSON-RPC response (no result)";
      else said = modeFromRpcResult(j.result);
    } catch {
      error = "not a JSON-RPC response (not JSON)";
    }
  } else if (!error && r.status !== null) error = `HTTP ${r.status}`;
  const ok = ok2xx && !error && (mode === null ? said !== null : said === null || said === mode);
  if (ok2xx && !error && !ok) error = mode ? `the app answered ${said}, not ${mode}` : "the result names no mode (primary or backup)";
  const run = syntheticRun(base, t0, startedAt, ok, r.status !== null ? `HTTP ${r.status} ${boundText(r.body, 1000)}` : "", error, { timedOut: r.timedOut });
  return { run, confirmed: ok ? (said ?? mode ?? "unknown") : "unknown" };
}

export interface HookResult {
  run: DriverRun;
  /** What the app confirmed (null when it did not answer with a mode). */
  confirmed: ObservedMode;
}

/**
 * Runs the app's mode hook. `mode` null = read the current mode (get-mode). The mode never comes from
 * the wire as a string to execute: it is one of two enum values, passed as SWITCHYARD_MODE or JSON.
 */
/** `onSent`: called once the request is on its way (http: written to the socket; command: spawned). */
export async function runModeHook(app: AppConfig, hook: ModeHook, mode: Mode | null, onSent?: () => void): Promise<HookResult> {
  const action = mode ? "set-mode" : "get-mode";
  if (hook.type === "jsonrpc") return runRpcHook(app, hook, mode, onSent);
  if (hook.type === "command") {
    const run = await runCommand({
      kind: "mode-hook",
      driver: "command",
      action,
      target: app.name,
      file: hook.command,
      args: hook.args,
      env: { SWITCHYARD_APP: app.name, SWITCHYARD_ACTION: action, ...(mode ? { SWITCHYARD_MODE: mode } : {}) },
      cwd: app.cwd,
      timeoutMs: hook.timeoutMs,
      onSpawn: onSent ? (child) => child.once("spawn", onSent) : undefined,
    });
    const said = modeFromText(run.stdout);
    const confirmed: ObservedMode = !run.ok ? "unknown" : (said ?? mode ?? "unknown");
    return { run, confirmed };
  }
  const t0 = performance.now();
  const startedAt = nowIso();
  const r = await httpRequest(hook.url, mode ? "PUT" : "GET", mode ? JSON.stringify({ mode }) : null, hook.timeoutMs, onSent);
  const ok2xx = r.status !== null && r.status >= 200 && r.status < 300;
  const said = ok2xx ? modeFromText(r.body) : null;
  const ok = ok2xx && (mode === null ? said !== null : said === null || said === mode);
  const run = syntheticRun({ kind: "mode-hook", driver: "http", action, target: app.name }, t0, startedAt, ok, r.status !== null ? `HTTP ${r.status} ${boundText(r.body, 1000)}` : "", r.error ?? "", {
    timedOut: r.timedOut,
  });
  return { run, confirmed: ok ? (said ?? mode ?? "unknown") : "unknown" };
}

export interface ProbeOutcome {
  ok: boolean;
  error: string | null;
}

export async function runProbe(app: AppConfig, probe: ProbeConfig): Promise<ProbeOutcome> {
  if (probe.type === "command") {
    const run = await runCommand({
      kind: "probe",
      driver: "command",
      action: "probe",
      target: app.name,
      file: probe.command,
      args: probe.args,
      env: { SWITCHYARD_APP: app.name },
      cwd: app.cwd,
      timeoutMs: probe.timeoutMs,
    });
    return run.ok ? { ok: true, error: null } : { ok: false, error: run.timedOut ? `probe command timed out after ${probe.timeoutMs} ms` : `probe command exit ${run.exitCode ?? run.signal}: ${run.stderr.trim().slice(0, 200)}` };
  }
  if (probe.type === "http") {
    const r = await httpRequest(probe.url, "GET", null, probe.timeoutMs);
    if (r.status !== null && r.status >= 200 && r.status < 300) return { ok: true, error: null };
    return { ok: false, error: r.error ?? `HTTP ${r.status}` };
  }
  try {
    const r = await sipOptions({ host: probe.host, port: probe.port, timeoutMs: probe.timeoutMs });
    // 200 (primary) and 503 (backup) both prove the SIP stack is alive.
    if (r.status === 200 || r.status === 503) return { ok: true, error: null };
    return { ok: false, error: `SIP ${r.status} ${r.reason}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
