/**
 * Scale benchmark: "1,000 pairs on one server" and "live state in every browser within 100 ms".
 *
 * Starts the real production server (tests/integration/helpers/server.ts, own throwaway database on the
 * local Postgres), one fake-agents process (bench/fake-agents.ts: the agent protocol, no SIP processes),
 * registers HOSTS hosts and 1,000 pairs through the HTTP API, connects socket.io "browsers" (token auth,
 * like the dashboard: `pairs` room, `pairs:snapshot`, `pair:state`) and measures:
 *   - server RSS / V8 heap after load (an --import probe in the server process writes memoryUsage,
 *     CPU time and event-loop delay to a file), GET /api/pairs with 1,000 pairs;
 *   - live-state latency: fake agent emits `app.state failed` (a backup dies) → each browser receives the
 *     `pair:state` showing it; 200 events on 200 different pairs, with 10 and with 50 browsers;
 *   - burst: 100 backups fail in one tick → time until every browser has all 100 updates;
 *   - 50 primaries fail at once → failovers run concurrently (from the Operation rows) and the time until
 *     all 50 pairs are healthy again (as the browsers see it).
 * Writes bench/results/scale.json and scale.md. Loopback only; bounded (< 3 min); stops everything.
 *
 * Usage: npm run bench:scale [-- --hosts 200 --events 200 --clients 10,50]
 *   The local Postgres (postgres://postgres@127.0.0.1:5432/postgres) hosts the throwaway database; set
 *   SWITCHYARD_TEST_ADMIN_URL to use another local server.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { io as connectIo, type Socket } from "socket.io-client";
import type { PairView } from "@/lib/views";
import { ensureNextBuild, startServer, REPO_ROOT, type StartedServer } from "../tests/integration/helpers/server";
import type { Layout } from "./fake-agents";

// ---------------------------------------------------------------- options

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const PAIRS = 1000;
const HOSTS = Number(arg("hosts", "200"));
const EVENTS = Number(arg("events", "200"));
const CLIENTS = arg("clients", "10,50").split(",").map(Number);
const EVENT_SPACING_MS = Number(arg("spacing", "50"));
const BURST = 100;
const FAILOVERS = 50;
const BUDGET_MS = Number(process.env.SCALE_BUDGET_MS ?? 170_000);
const REG_CONCURRENCY = Number(arg("concurrency", "4"));
/** The server's realtime adapter: "postgres" (its default) or "memory" (to isolate the adapter's cost). */
const ADAPTER = arg("adapter", "memory");
if (ADAPTER !== "postgres" && ADAPTER !== "memory") throw new Error("--adapter: postgres or memory");
if (!Number.isInteger(HOSTS) || HOSTS < 2 || (2 * PAIRS) % HOSTS !== 0) throw new Error(`--hosts must divide ${2 * PAIRS} (got ${HOSTS})`);
if (!Number.isInteger(EVENTS) || EVENTS < 1 || EVENTS * CLIENTS.length + 2 * BURST + FAILOVERS > PAIRS) throw new Error("--events too large for 1,000 distinct pairs");
if (CLIENTS.some((c) => !Number.isInteger(c) || c < 1 || c > 500) || CLIENTS.length > 3) throw new Error("--clients: up to 3 increasing counts, e.g. 10,50");
const APPS_PER_HOST = (2 * PAIRS) / HOSTS;

const t = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = t();
function note(msg: string) {
  process.stdout.write(`[${((t() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

function stats(xs: number[]) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const r = (x: number) => +x.toFixed(1);
  return { n: s.length, median: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), worst: r(s[s.length - 1]) };
}
type Stats = NonNullable<ReturnType<typeof stats>>;

// ---------------------------------------------------------------- layout: HOSTS hosts, 1,000 pairs

interface PairPlan {
  name: string;
  vip: string;
  primary: { host: string; app: string };
  backup: { host: string; app: string };
}

/**
 * Pair i = k·HOSTS/2... spread: slot k (0..APPS_PER_HOST/2-1), row r (0..HOSTS-1); primary on host r,
 * backup on host (r + 1 + 37k) mod HOSTS: every host runs APPS_PER_HOST/2 primaries and as many
 * backups, and its primaries' peers are on different hosts.
 */
function plan(): { pairs: PairPlan[]; layout: Omit<Layout, "token"> } {
  const hostName = (h: number) => `scale-h${String(h).padStart(3, "0")}`;
  const apps: Layout["hosts"][number]["apps"][] = Array.from({ length: HOSTS }, () => []);
  const pairs: PairPlan[] = [];
  const slots = APPS_PER_HOST / 2;
  for (let k = 0; k < slots; k++) {
    let shift = (1 + 37 * k) % HOSTS;
    if (shift === 0) shift = 1;
    for (let r = 0; r < HOSTS; r++) {
      const i = k * HOSTS + r;
      const vip = `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      const b = (r + shift) % HOSTS;
      apps[r].push({ name: `sip-p${k}`, vip: `vip-p${k}`, vipAddress: vip, mode: "primary" });
      apps[b].push({ name: `sip-b${k}`, vip: `vip-b${k}`, vipAddress: vip, mode: "backup" });
      pairs.push({ name: `scale-${String(i).padStart(4, "0")}`, vip, primary: { host: hostName(r), app: `sip-p${k}` }, backup: { host: hostName(b), app: `sip-b${k}` } });
    }
  }
  return { pairs, layout: { hosts: apps.map((a, h) => ({ name: hostName(h), apps: a })), hookDelayMs: 2, startDelayMs: 100, restartDelayMs: 500, heartbeatTimeoutMs: 5000 } };
}

// ---------------------------------------------------------------- the fake agents process

interface Agents {
  proc: ChildProcess;
  ports: Map<string, number>;
  call(msg: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startAgents(layoutFile: string): Promise<Agents> {
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "bench/fake-agents.ts"), "--config", layoutFile], {
    cwd: REPO_ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let errTail = "";
  proc.stderr!.on("data", (d) => (errTail = (errTail + d).slice(-4000)));
  const rl = readline.createInterface({ input: proc.stdout! });
  const waiting = new Map<string, (v: Record<string, unknown>) => void>();
  let ready: (v: Record<string, unknown>) => void;
  const readyP = new Promise<Record<string, unknown>>((r) => (ready = r));
  rl.on("line", (line) => {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.ready) return ready(m);
    const w = waiting.get(String(m.id));
    if (w) {
      waiting.delete(String(m.id));
      w(m);
    }
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const r = await Promise.race([readyP, exited.then(() => null), sleep(30_000).then(() => null)]);
  if (!r) {
    proc.kill("SIGKILL");
    throw new Error(`fake agents did not start:\n${errTail}`);
  }
  let n = 0;
  const call = (msg: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = `c${++n}`;
      const timer = setTimeout(() => (waiting.delete(id), reject(new Error(`fake agents: no answer to ${msg.op}`))), 10_000);
      waiting.set(id, (v) => (clearTimeout(timer), v.error ? reject(new Error(String(v.error))) : resolve(v)));
      proc.stdin!.write(JSON.stringify({ ...msg, id }) + "\n");
    });
  return {
    proc,
    ports: new Map((r.hosts as { name: string; port: number }[]).map((h) => [h.name, h.port])),
    call,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await Promise.race([call({ op: "stop" }).catch(() => undefined), sleep(4000)]);
      await Promise.race([exited, sleep(2000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}

// ---------------------------------------------------------------- the probe inside the server process

const PROBE = `
import { writeFileSync, readFileSync, renameSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
const dir = process.env.SCALE_PROBE_DIR;
if (dir && (process.argv[1] ?? "").endsWith("server.ts")) {
  let phase = "start", h = monitorEventLoopDelay({ resolution: 5 }), cpu0 = process.cpuUsage(), t0 = Date.now();
  const phases = {};
  h.enable();
  const close = () => {
    const c = process.cpuUsage(cpu0), ms = Math.max(1, Date.now() - t0);
    phases[phase] = { seconds: +(ms / 1000).toFixed(1), cpuPercent: +((100 * (c.user + c.system)) / 1000 / ms).toFixed(1),
      loopDelayMs: { p50: +(h.percentile(50) / 1e6).toFixed(1), p99: +(h.percentile(99) / 1e6).toFixed(1), max: +(h.max / 1e6).toFixed(1) } };
  };
  const tick = () => {
    let want = phase;
    try { want = readFileSync(dir + "/phase", "utf8").trim() || phase; } catch {}
    if (want !== phase) { close(); phase = want; h.reset(); cpu0 = process.cpuUsage(); t0 = Date.now(); }
    const m = process.memoryUsage();
    try {
      writeFileSync(dir + "/probe.tmp", JSON.stringify({ pid: process.pid, at: Date.now(), phase, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, phases }));
      renameSync(dir + "/probe.tmp", dir + "/probe.json");
    } catch {}
  };
  setInterval(tick, 100).unref();
}
`;

interface ProbeData {
  pid: number;
  at: number;
  phase: string;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  phases: Record<string, { seconds: number; cpuPercent: number; loopDelayMs: { p50: number; p99: number; max: number } }>;
}

// ---------------------------------------------------------------- browsers

interface Client {
  socket: Socket;
  /** pairId → receive time of the first pair:state that satisfied the current expectation */
  counts: { pairState: number; hostState: number; other: number };
}

type Expect = (v: PairView) => boolean;

class Browsers {
  clients: Client[] = [];
  /** pairId → predicate; receipts[pairId][clientIndex] = time */
  private expect = new Map<string, Expect>();
  receipts = new Map<string, (number | undefined)[]>();
  private listeners = new Set<() => void>();

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Connects n more clients at once; resolves with each one's connect → pairs:snapshot time (ms). */
  async add(n: number): Promise<{ ms: number[]; snapshotPairs: number }> {
    let snapshotPairs = 0;
    const ms = await Promise.all(
      Array.from({ length: n }, () => {
        const t0 = t();
        const socket = connectIo(this.url, { auth: { token: this.token }, transports: ["websocket"], reconnection: false, timeout: 20_000 });
        const c: Client = { socket, counts: { pairState: 0, hostState: 0, other: 0 } };
        const idx = this.clients.push(c) - 1;
        socket.on("pair:state", (v: PairView) => {
          const at = t();
          c.counts.pairState++;
          const e = this.expect.get(v.id);
          if (!e) return;
          const r = this.receipts.get(v.id)!;
          if (r[idx] === undefined && e(v)) {
            r[idx] = at;
            for (const l of this.listeners) l();
          }
        });
        socket.on("host:state", () => c.counts.hostState++);
        socket.onAny((ev) => {
          if (ev !== "pair:state" && ev !== "host:state") c.counts.other++;
        });
        return new Promise<number>((resolve, reject) => {
          socket.once("pairs:snapshot", (views: PairView[]) => {
            snapshotPairs = views.length;
            resolve(t() - t0);
          });
          socket.once("connect_error", (e) => reject(new Error(`browser connect: ${e.message}`)));
        });
      }),
    );
    return { ms, snapshotPairs };
  }

  watch(pairId: string, e: Expect) {
    this.expect.set(pairId, e);
    this.receipts.set(pairId, new Array(this.clients.length).fill(undefined));
  }

  complete(pairIds: string[]): boolean {
    return pairIds.every((id) => this.receipts.get(id)?.every((x) => x !== undefined));
  }

  /** Resolves when every client has every pair's expected state (true), or after timeoutMs (false). */
  waitAll(pairIds: string[], timeoutMs: number): Promise<boolean> {
    if (this.complete(pairIds)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(ok);
      };
      const check = () => this.complete(pairIds) && done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  resetCounts() {
    for (const c of this.clients) c.counts = { pairState: 0, hostState: 0, other: 0 };
  }

  close() {
    for (const c of this.clients) c.socket.disconnect();
  }
}

// ---------------------------------------------------------------- HTTP helpers

async function api<T>(srv: StartedServer, method: string, p: string, body?: unknown): Promise<{ status: number; json: T; bytes: number; ms: number }> {
  const t0 = t();
  const res = await fetch(`${srv.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${srv.adminToken}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const ms = t() - t0;
  let json: T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    throw new Error(`${method} ${p}: ${res.status} not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, json, bytes: Buffer.byteLength(text), ms };
}

async function pool<I, O>(items: I[], concurrency: number, fn: (x: I, i: number) => Promise<O>): Promise<O[]> {
  const out: O[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------- main

async function main() {
  const results: Record<string, unknown> = {
    benchmark: "scale",
    startedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, uptimeBefore: uptime() },
    layout: { adapter: ADAPTER, registrationConcurrency: REG_CONCURRENCY, pairs: PAIRS, hosts: HOSTS, appsPerHost: APPS_PER_HOST, clients: CLIENTS, events: EVENTS, eventSpacingMs: EVENT_SPACING_MS },
  };
  const tmp = mkdtempSync(path.join(os.tmpdir(), "switchyard-scale-"));
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(tmp, { recursive: true, force: true })];
  const watchdog = setTimeout(() => {
    console.error(`scale bench: over its ${BUDGET_MS / 1000} s budget: stopping (partial results written)`);
    results.incomplete = `stopped at the ${BUDGET_MS / 1000} s budget`;
    flush(results);
    void cleanup().finally(() => process.exit(2));
  }, BUDGET_MS);
  let cleaning: Promise<void> | null = null;
  /** Idempotent: every caller (watchdog, signal, the main flow's finally) awaits the same teardown. */
  function cleanup(): Promise<void> {
    cleaning ??= (async () => {
      for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch((e) => console.error("cleanup:", (e as Error).message));
    })();
    return cleaning;
  }
  process.once("SIGINT", () => void cleanup().finally(() => process.exit(130)));
  process.once("SIGTERM", () => void cleanup().finally(() => process.exit(143)));

  try {
    if (!process.env.SWITCHYARD_TEST_ADMIN_URL && !process.env.DATABASE_URL) process.env.SWITCHYARD_TEST_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";
    ensureNextBuild();

    // Fake agents first, so that the controller's links connect as soon as the hosts are registered.
    const { pairs: planned, layout } = plan();
    const token = randomBytes(24).toString("hex");
    const layoutFile = path.join(tmp, "layout.json");
    writeFileSync(layoutFile, JSON.stringify({ ...layout, token }), { mode: 0o600 });
    const agents = await startAgents(layoutFile);
    cleanups.push(() => agents.stop());
    note(`fake agents: ${HOSTS} hosts × ${APPS_PER_HOST} apps listening`);

    writeFileSync(path.join(tmp, "probe.mjs"), PROBE);
    const phase = (name: string) => writeFileSync(path.join(tmp, "phase"), name);
    const probe = (): ProbeData => JSON.parse(readFileSync(path.join(tmp, "probe.json"), "utf8"));
    latestProbe = probe;
    phase("start");
    const srv = await startServer({
      env: {
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${path.join(tmp, "probe.mjs")}`.trim(),
        SCALE_PROBE_DIR: tmp,
        REALTIME_ADAPTER: ADAPTER,
      },
    });
    cleanups.push(() => srv.stop());
    serverOutput = () => srv.output();
    await sleep(300);
    if (!existsSync(path.join(tmp, "probe.json"))) throw new Error("the memory probe did not start in the server process");
    const idle0 = probe();
    note(`server up at ${srv.url} (pid ${idle0.pid}, RSS ${mb(idle0.rss)} MB, heap ${mb(idle0.heapUsed)} MB)`);
    results.serverEmpty = { rssMB: mb(idle0.rss), heapUsedMB: mb(idle0.heapUsed), heapTotalMB: mb(idle0.heapTotal) };

    // ---- registration through the HTTP API
    phase("register");
    const tReg = t();
    const hostIds = new Map<string, string>();
    const hostMs = await pool(layout.hosts, REG_CONCURRENCY, async (h) => {
      const r = await api<{ host: { id: string } }>(srv, "POST", "/api/hosts", { name: h.name, address: "127.0.0.1", agentUrl: `http://127.0.0.1:${agents.ports.get(h.name)}`, agentToken: token });
      if (r.status !== 201) throw new Error(`POST /api/hosts ${h.name}: ${r.status} ${JSON.stringify(r.json)}`);
      hostIds.set(h.name, r.json.host.id);
      return r.ms;
    });
    const tHosts = t();
    const pairIds: string[] = [];
    const chunkMs: number[] = [];
    const pairMs = await pool(planned, REG_CONCURRENCY, async (p, i) => {
      const r = await api<{ pair: { id: string } }>(srv, "POST", "/api/pairs", {
        name: p.name,
        vipAddress: p.vip,
        vipPrefix: 24,
        vipInterface: "eth0",
        servers: [
          { name: "sip-1", hostId: hostIds.get(p.primary.host), appName: p.primary.app },
          { name: "sip-2", hostId: hostIds.get(p.backup.host), appName: p.backup.app },
        ],
      });
      if (r.status !== 201) throw new Error(`POST /api/pairs ${p.name}: ${r.status} ${JSON.stringify(r.json)}`);
      pairIds[i] = r.json.pair.id;
      chunkMs.push(r.ms);
      if (chunkMs.length % 100 === 0) note(`  ${chunkMs.length} pairs: POST /api/pairs median of the last 100 ${stats(chunkMs.slice(-100))!.median} ms`);
      return r.ms;
    });
    const tPairs = t();
    results.registration = { hostsSeconds: +((tHosts - tReg) / 1000).toFixed(2), pairsSeconds: +((tPairs - tHosts) / 1000).toFixed(2) };
    note(`registered ${HOSTS} hosts in ${((tHosts - tReg) / 1000).toFixed(1)} s and ${PAIRS} pairs in ${((tPairs - tHosts) / 1000).toFixed(1)} s`);

    // ---- every pair healthy (as persisted and served by GET /api/pairs)
    let healthyAt = 0;
    let lastCount = 0;
    for (const deadline = t() + 60_000; t() < deadline; ) {
      const r = await api<{ pairs: { view: PairView | null }[] }>(srv, "GET", "/api/pairs");
      lastCount = r.json.pairs.filter((p) => p.view?.status === "healthy").length;
      if (lastCount === PAIRS) {
        healthyAt = t();
        break;
      }
      await sleep(500);
    }
    if (!healthyAt) throw new Error(`only ${lastCount} of ${PAIRS} pairs became healthy within 60 s`);
    note(`all ${PAIRS} pairs healthy ${((healthyAt - tPairs) / 1000).toFixed(1)} s after the last registration`);
    results.registration = {
      hostsSeconds: +((tHosts - tReg) / 1000).toFixed(2),
      pairsSeconds: +((tPairs - tHosts) / 1000).toFixed(2),
      concurrency: REG_CONCURRENCY,
      postPairMsByHundred: Array.from({ length: PAIRS / 100 }, (_x, k) => stats(chunkMs.slice(k * 100, k * 100 + 100))!.median),
      postHostMs: stats(hostMs),
      postPairMs: stats(pairMs),
      allHealthyAfterLastPairSeconds: +((healthyAt - tPairs) / 1000).toFixed(2),
    };

    // ---- idle, no browsers: the background load of 1,000 pairs on HOSTS hosts
    phase("idle-no-browsers");
    await sleep(3000);

    // ---- GET /api/pairs with 1,000 pairs
    phase("get-pairs");
    const gets: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 10; i++) {
      const r = await api<{ pairs: unknown[] }>(srv, "GET", "/api/pairs");
      if (r.status !== 200 || r.json.pairs.length !== PAIRS) throw new Error(`GET /api/pairs: ${r.status}, ${r.json.pairs?.length} pairs`);
      gets.push(r.ms);
      bytes = r.bytes;
    }
    results.getPairs = { pairs: PAIRS, bytes, ms: stats(gets) };
    flush(results);
    note(`GET /api/pairs (${PAIRS} pairs, ${(bytes / 1024).toFixed(0)} kB): median ${stats(gets)!.median} ms, worst ${stats(gets)!.worst} ms`);

    // ---- browsers, latency, burst
    const browsers = new Browsers(srv.url, srv.adminToken!);
    cleanups.push(() => browsers.close());
    const live: Record<string, unknown>[] = [];
    let nextPair = 0;
    const take = (n: number) => {
      const out = planned.slice(nextPair, nextPair + n).map((p, j) => ({ p, id: pairIds[nextPair + j] }));
      nextPair += n;
      return out;
    };
    const backupFailed: Expect = (v) => v.servers[1].processState === "failed";

    for (const n of CLIENTS) {
      phase(`connect-${n}`);
      const conn = await browsers.add(n - browsers.clients.length);
      note(`${n} browsers connected (connect → pairs:snapshot of ${conn.snapshotPairs} pairs: median ${stats(conn.ms)!.median} ms, worst ${stats(conn.ms)!.worst} ms)`);

      // idle window with browsers: what reaches every browser without any change
      phase(`idle-${n}`);
      browsers.resetCounts();
      await sleep(2000);
      const idleMsgs = browsers.clients.map((c) => ({ ...c.counts }));
      const perClientPerSecond = {
        pairState: +(idleMsgs.reduce((a, c) => a + c.pairState, 0) / idleMsgs.length / 2).toFixed(1),
        hostState: +(idleMsgs.reduce((a, c) => a + c.hostState, 0) / idleMsgs.length / 2).toFixed(1),
      };

      // latency: EVENTS backups fail, one every EVENT_SPACING_MS, each on another pair
      phase(`latency-${n}`);
      browsers.resetCounts();
      const evs = take(EVENTS);
      for (const e of evs) browsers.watch(e.id, backupFailed);
      const sentAt: number[] = [];
      for (const e of evs) {
        const r = await agents.call({ op: "fail", targets: [e.p.backup] });
        sentAt.push((r.at as number[])[0]);
        await sleep(EVENT_SPACING_MS);
      }
      const allIn = await browsers.waitAll(evs.map((e) => e.id), 15_000);
      const perDelivery: number[] = [];
      const perEventAll: number[] = [];
      let missing = 0;
      evs.forEach((e, j) => {
        const r = browsers.receipts.get(e.id)!;
        for (const x of r) if (x === undefined) missing++;
        else perDelivery.push(x - sentAt[j]);
        if (r.every((x) => x !== undefined)) perEventAll.push(Math.max(...(r as number[])) - sentAt[j]);
      });
      const latMsgs = browsers.clients.reduce((a, c) => a + c.counts.pairState, 0) / browsers.clients.length;
      note(
        `live state, ${n} browsers, ${EVENTS} events: per delivery median ${stats(perDelivery)?.median} / p90 ${stats(perDelivery)?.p90} / p99 ${stats(perDelivery)?.p99} / worst ${stats(perDelivery)?.worst} ms; every browser: median ${stats(perEventAll)?.median}, worst ${stats(perEventAll)?.worst} ms${allIn ? "" : `; ${missing} deliveries missing`}`,
      );

      // burst: BURST backups fail in one tick
      await sleep(1500); // let the restarts of the latency phase finish
      phase(`burst-${n}`);
      const burst = take(BURST);
      for (const e of burst) browsers.watch(e.id, backupFailed);
      const br = await agents.call({ op: "fail", targets: burst.map((e) => e.p.backup) });
      const b0 = (br.at as number[])[0];
      const burstOk = await browsers.waitAll(burst.map((e) => e.id), 15_000);
      const perClientAll = browsers.clients.map((_c, ci) => Math.max(...burst.map((e) => browsers.receipts.get(e.id)![ci] ?? Infinity)) - b0);
      const firstUpdate = Math.min(...burst.flatMap((e) => browsers.receipts.get(e.id)!.filter((x): x is number => x !== undefined))) - b0;
      note(`burst of ${BURST} with ${n} browsers: every browser has all ${BURST} after ${Math.max(...perClientAll).toFixed(1)} ms (first update ${firstUpdate.toFixed(1)} ms)${burstOk ? "" : " (INCOMPLETE)"}`);

      live.push({
        clients: n,
        connectToSnapshotMs: stats(conn.ms),
        idleMessagesPerBrowserPerSecond: perClientPerSecond,
        latency: {
          events: EVENTS,
          event: "app.state failed (backup server exits)",
          perDeliveryMs: stats(perDelivery),
          everyBrowserMs: stats(perEventAll),
          missingDeliveries: missing,
          pairStateMessagesPerBrowser: Math.round(latMsgs),
          pairStateMessagesPerEvent: +(latMsgs / EVENTS).toFixed(1),
        },
        burst: {
          pairs: BURST,
          complete: burstOk,
          firstUpdateMs: +firstUpdate.toFixed(1),
          allUpdatesEveryBrowserMs: +Math.max(...perClientAll).toFixed(1),
          allUpdatesPerBrowserMs: stats(perClientAll.filter(Number.isFinite)),
        },
      });
      results.live = live;
      flush(results);
      await sleep(1500);
    }

    // ---- 50 primaries fail at once
    phase("failover");
    const fo = take(FAILOVERS);
    const healthyAgain: Expect = (v) =>
      v.status === "healthy" && !v.operation && v.servers[1].mode === "primary" && v.servers[0].mode === "backup" && v.servers[0].processState === "running";
    for (const e of fo) browsers.watch(e.id, healthyAgain);
    const fr = await agents.call({ op: "fail", targets: fo.map((e) => e.p.primary) });
    const f0 = (fr.at as number[])[0];
    const foOk = await browsers.waitAll(fo.map((e) => e.id), 30_000);
    const perPair = fo.map((e) => Math.max(...browsers.receipts.get(e.id)!.map((x) => x ?? Infinity)) - f0);
    const db = new pg.Client({ connectionString: srv.databaseUrl });
    await db.connect();
    const ops = (
      await db.query<{ pairId: string; status: string; startedAt: Date; finishedAt: Date | null; promoted: Date | null }>(
        `SELECT o."pairId", o.status, o."startedAt", o."finishedAt",
                (SELECT s."finishedAt" FROM "OperationStep" s WHERE s."operationId" = o.id AND s.action = 'promote') AS promoted
           FROM "Operation" o WHERE o.kind = 'failover' AND o."pairId" = ANY($1::uuid[])`,
        [fo.map((e) => e.id)],
      )
    ).rows;
    await db.end();
    const offs = (d: Date | null) => (d ? d.getTime() - f0 : NaN);
    const edges = ops.flatMap((o) => [
      { at: offs(o.startedAt), d: 1 },
      { at: o.finishedAt ? offs(o.finishedAt) : Infinity, d: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.d - b.d);
    let cur = 0;
    let maxConcurrent = 0;
    for (const x of edges) maxConcurrent = Math.max(maxConcurrent, (cur += x.d));
    results.failover = {
      primariesFailed: FAILOVERS,
      operations: ops.length,
      succeeded: ops.filter((o) => o.status === "succeeded").length,
      maxConcurrentOperations: maxConcurrent,
      operationStartAfterFailureMs: stats(ops.map((o) => offs(o.startedAt))),
      promotedAfterFailureMs: stats(ops.map((o) => offs(o.promoted)).filter(Number.isFinite)),
      operationDurationMs: stats(ops.filter((o) => o.finishedAt).map((o) => o.finishedAt!.getTime() - o.startedAt.getTime())),
      healthyInEveryBrowserMs: stats(perPair.filter(Number.isFinite)),
      allHealthyEveryBrowserMs: foOk ? +Math.max(...perPair).toFixed(1) : null,
      complete: foOk,
    };
    note(
      `${FAILOVERS} primaries failed at once: ${ops.filter((o) => o.status === "succeeded").length}/${ops.length} failovers succeeded, up to ${maxConcurrent} concurrently; all promoted after ${stats(ops.map((o) => offs(o.promoted)).filter(Number.isFinite))?.worst} ms; all ${FAILOVERS} healthy in every browser after ${foOk ? Math.max(...perPair).toFixed(0) : "(timed out)"} ms`,
    );
    await sleep(1000);
    phase("end");
    await sleep(300);

    // ---- memory, CPU, agents, server log
    const end = probe();
    results.serverAfterLoad = { rssMB: mb(end.rss), heapUsedMB: mb(end.heapUsed), heapTotalMB: mb(end.heapTotal), externalMB: mb(end.external), pid: end.pid };
    results.serverPhases = end.phases;
    const ag = await agents.call({ op: "stats" });
    results.fakeAgents = ag.stats;
    results.serverLog = summariseLog(srv.output());
    results.machine = { ...(results.machine as object), uptimeAfter: uptime() };
    if ((ag.stats as { invalidOutgoing: number }).invalidOutgoing > 0) throw new Error("the fake agents sent frames that fail the protocol schema");

    flush(results);
    note(`server after load: RSS ${mb(end.rss)} MB, heap ${mb(end.heapUsed)} / ${mb(end.heapTotal)} MB`);
    note("wrote bench/results/scale.json and scale.md");
  } catch (e) {
    if (cleaning) await cleaning; // stopped by the watchdog or a signal: the exit follows the teardown
    const errs = serverOutput().split("\n").filter((l) => /"level":"(error|warn)"/.test(l));
    if (errs.length) console.error(`--- server warnings/errors (last 15 of ${errs.length}) ---\n${errs.slice(-15).map((l) => l.slice(0, 1500)).join("\n")}`);
    throw e;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

let serverOutput = () => "";
let latestProbe: (() => ProbeData) | null = null;

/** Writes what is known so far (also on a budget stop): bench/results/scale.json and scale.md. */
function flush(results: Record<string, unknown>) {
  try {
    if (latestProbe && !results.serverAfterLoad) {
      const p = latestProbe();
      results.serverPhases = p.phases;
      results.serverLatest = { rssMB: mb(p.rss), heapUsedMB: mb(p.heapUsed), heapTotalMB: mb(p.heapTotal) };
    }
    results.serverLog ??= summariseLog(serverOutput());
    results.durationSeconds = +((t() - started) / 1000).toFixed(1);
    mkdirSync(path.join(REPO_ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, "bench/results/scale.json"), JSON.stringify(results, null, 2) + "\n");
    writeFileSync(path.join(REPO_ROOT, "bench/results/scale.md"), markdown(results));
  } catch (e) {
    console.error("could not write the results:", (e as Error).message);
  }
}

function summariseLog(out: string) {
  const lines = out.split("\n").filter((l) => l.startsWith("{"));
  const levels: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  const examples: Record<string, string> = {};
  for (const l of lines) {
    try {
      const j = JSON.parse(l) as { level?: string; msg?: string; err?: { message?: string }; error?: unknown };
      levels[j.level ?? "?"] = (levels[j.level ?? "?"] ?? 0) + 1;
      if (j.level === "warn" || j.level === "error") {
        const k = String(j.msg);
        warnings[k] = (warnings[k] ?? 0) + 1;
        examples[k] ??= String(j.err?.message ?? JSON.stringify(j.error ?? "")).replace(/\s+/g, " ").slice(0, 400);
      }
    } catch {}
  }
  return { lines: lines.length, levels, warningsAndErrors: warnings, examples };
}

function mb(x: number) {
  return +(x / 1048576).toFixed(1);
}

function uptime(): string {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return `loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`;
  }
}

// ---------------------------------------------------------------- report

function markdown(r: Record<string, unknown>): string {
  const s = (x: Stats | null | undefined) => (x ? `${x.median} / ${x.p90} / ${x.p99} / ${x.worst}` : "n/a");
  const m = r.machine as Record<string, string>;
  const reg = (r.registration ?? {}) as Record<string, unknown>;
  const live = (r.live ?? []) as Record<string, any>[];
  const fo = (r.failover ?? {}) as Record<string, any>;
  const ph = (r.serverPhases ?? {}) as ProbeData["phases"];
  const after = (r.serverAfterLoad ?? r.serverLatest ?? {}) as Record<string, number>;
  const get = (r.getPairs ?? { bytes: 0, ms: null }) as { bytes: number; ms: Stats | null };
  const lines = [
    `# Scale benchmark (npm run bench:scale)`,
    ``,
    `Run ${r.startedAt}, ${r.durationSeconds} s. ${m.cpus} cores (${m.model}), ${m.memGB} GB, Node ${m.node}.`,
    `Load before: \`${m.uptimeBefore}\`; after: \`${m.uptimeAfter}\` (other engineers share the machine).`,
    ``,
    ...(r.incomplete ? [`**Incomplete: ${r.incomplete}.** The sections below hold what was measured before.`, ``] : []),
    `Realtime adapter: ${(r.layout as { adapter: string }).adapter}.`,
    ``,
    `Layout: ${PAIRS} pairs on ${HOSTS} hosts (${APPS_PER_HOST} SIP Servers per host), fake agents in one process, real production server, own database on the local Postgres. Everything on one 2-core machine: server, Postgres, fake agents and the browsers compete for the CPU.`,
    ``,
    `Times in ms as median / p90 / p99 / worst.`,
    ``,
    `| target | measured | |`,
    `|---|---|---|`,
    ...live.map((l) => `| live state in every browser within 100 ms (${l.clients} browsers) | every browser: ${s(l.latency.everyBrowserMs)}; per delivery ${s(l.latency.perDeliveryMs)} | ${(l.latency.everyBrowserMs?.p99 ?? Infinity) <= 100 ? "met (p99)" : (l.latency.everyBrowserMs?.median ?? Infinity) <= 100 ? "median met, tail not" : "NOT met"} |`),
    `| 1,000 pairs on one server | ${PAIRS} pairs registered and healthy; RSS ${after.rssMB} MB, heap ${after.heapUsedMB} MB; GET /api/pairs ${s(get.ms)} (${(get.bytes / 1024).toFixed(0)} kB) | ${fo.complete && fo.succeeded === fo.primariesFailed && !((r.serverLog as { levels?: Record<string, number> })?.levels?.error) ? "met" : "NOT met under change load: the controller loses its records (errors in the server log, failovers not recorded as succeeded)"} |`,
    ``,
    `## Registration (HTTP API, ${reg.concurrency} requests in flight)`,
    `- ${HOSTS} hosts in ${reg.hostsSeconds} s (POST /api/hosts ${s(reg.postHostMs as Stats)})`,
    `- ${PAIRS} pairs in ${reg.pairsSeconds} s (POST /api/pairs ${s(reg.postPairMs as Stats)})`,
    `- median POST /api/pairs per hundred registered: ${(reg.postPairMsByHundred as number[] | undefined)?.join(", ") ?? "n/a"} ms`,
    `- all ${PAIRS} healthy ${reg.allHealthyAfterLastPairSeconds} s after the last POST`,
    `- server: empty ${(r.serverEmpty as Record<string, number>).rssMB} MB RSS; after the whole run ${after.rssMB} MB RSS, heap ${after.heapUsedMB} MB used of ${after.heapTotalMB} MB`,
    ``,
    `## Live state (event: a backup's \`app.state failed\` from its agent → \`pair:state\` showing it in the browser)`,
    `| browsers | connect → snapshot | idle msgs/browser/s (pair:state, host:state) | per delivery | every browser | deliveries missing after 15 s | pair:state per event | burst of ${BURST}: all in every browser | first |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...live.map(
      (l) =>
        `| ${l.clients} | ${l.connectToSnapshotMs.median} (worst ${l.connectToSnapshotMs.worst}) | ${l.idleMessagesPerBrowserPerSecond.pairState}, ${l.idleMessagesPerBrowserPerSecond.hostState} | ${s(l.latency.perDeliveryMs)} | ${s(l.latency.everyBrowserMs)} | ${l.latency.missingDeliveries} of ${l.latency.events * l.clients} | ${l.latency.pairStateMessagesPerEvent} | ${l.burst.complete ? l.burst.allUpdatesEveryBrowserMs : "not all within 15 s"} | ${l.burst.firstUpdateMs} |`,
    ),
    ``,
    `## ${fo.primariesFailed} primaries fail at once`,
    `- ${fo.succeeded}/${fo.operations} failover operations succeeded; up to **${fo.maxConcurrentOperations}** ran concurrently`,
    `- operation started after the failure: ${s(fo.operationStartAfterFailureMs)}`,
    `- backup promoted (promote step done) after the failure: ${s(fo.promotedAfterFailureMs)}`,
    `- operation duration (promote … verify): ${s(fo.operationDurationMs)}`,
    `- pair healthy again in every browser: ${s(fo.healthyInEveryBrowserMs)}; all ${fo.primariesFailed}: **${fo.allHealthyEveryBrowserMs ?? "timed out"} ms**`,
    ``,
    `## Server process per phase (CPU % of one core, event-loop delay p50 / p99 / max ms)`,
    `| phase | s | CPU % | loop delay |`,
    `|---|---|---|---|`,
    ...Object.entries(ph).map(([k, v]) => `| ${k} | ${v.seconds} | ${v.cpuPercent} | ${v.loopDelayMs.p50} / ${v.loopDelayMs.p99} / ${v.loopDelayMs.max} |`),
    ``,
    `Fake agents: ${JSON.stringify(r.fakeAgents)}`,
    ``,
    `Server log (warnings and errors, one example each): \n\n\`\`\`\n${JSON.stringify(r.serverLog, null, 1)}\n\`\`\``,
    ``,
  ];
  return lines.join("\n");
}

const renderIdx = process.argv.indexOf("--render");
if (renderIdx >= 0) {
  // Re-renders scale.md from a results file (e.g. after a change of this report's layout).
  const r = JSON.parse(readFileSync(process.argv[renderIdx + 1], "utf8")) as Record<string, unknown>;
  process.stdout.write(markdown(r));
  process.exit(0);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
