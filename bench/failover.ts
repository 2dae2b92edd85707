/**
 * Failover and switchover benchmark on loopback (simulated VIP driver; the lab engineer's real-network
 * version lives in lab/). Measures, N runs each:
 *   (a) kill -9 of the primary's simulated SIP Server → first SIP 200 from the former backup
 *   (b) switchover API call (the route handler, in this process) → first SIP 200 from the new primary
 * The former backup's SIP port is probed continuously with one connected UDP socket (an OPTIONS every
 * 0.5 ms). The controller runs in this process; Postgres is a throwaway embedded instance unless
 * DATABASE_URL is set. Usage: npm run bench [-- --runs 20]
 */
import dgram from "node:dgram";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { initDatabase } from "@/lib/db/bootstrap";
import { runController, type ControllerHandle } from "@/lib/controller";
import { createUser } from "@/lib/queries/users";
import { createToken } from "@/lib/queries/tokens";
import type { PairView } from "@/lib/views";
import { POST as switchoverPOST } from "@/app/api/pairs/[id]/switchover/route";
import pg from "pg";
import { buildBinaries, closeDbQuietly, configureLab, db, startSimHost, type SimHost } from "./simlab";

/**
 * BENCH_COUNT_QUERIES=1: print the SQL statements sent while the first switchover API call is in flight
 * (the database round trips on the API path; the controller's own background writes may interleave).
 */
const countQueries = !!process.env.BENCH_COUNT_QUERIES;
let sqlLog: string[] | null = null;
if (countQueries) {
  const orig = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  (pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: pg.Client, ...a: unknown[]) {
    const q = a[0];
    const text = typeof q === "string" ? q : ((q as { text?: string })?.text ?? "?");
    sqlLog?.push(`${performance.now().toFixed(2)} ${text.replace(/\s+/g, " ").slice(0, 110)}`);
    return orig.apply(this, a);
  };
}

/** Lab addresses come from 198.18.0.0/24 only (simulated driver: nothing touches the network). */
const BENCH_VIP = "198.18.0.190";
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 10;
const verbose = !!process.env.BENCH_VERBOSE;
const quiet = { info: (m: string, f?: object) => verbose && console.log(performance.now().toFixed(1), m, JSON.stringify(f)), warn: () => {}, error: (m: string, f?: object) => console.error(m, f) };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Sends OPTIONS every `everyMs` to 127.0.0.1:port; resolves with performance.now() of the first 200. */
function firstOk(port: number, everyMs = 0.5, timeoutMs = 10_000): { done: Promise<number>; stop(): void } {
  const sock = dgram.createSocket("udp4");
  let timer: NodeJS.Timeout | undefined;
  let n = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
    clearInterval(timer);
    try {
      sock.close();
    } catch {}
  };
  const done = new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => (stop(), reject(new Error(`no 200 from port ${port} within ${timeoutMs} ms`))), timeoutMs);
    sock.on("message", (buf) => {
      if (buf.subarray(0, 12).toString() === "SIP/2.0 200 ") {
        const t = performance.now();
        clearTimeout(deadline);
        stop();
        resolve(t);
      }
    });
    sock.bind(0, "127.0.0.1", () =>
      sock.connect(port, "127.0.0.1", () => {
        const local = sock.address();
        const send = () => {
          if (stopped) return;
          n++;
          const msg =
            [
              `OPTIONS sip:bench@127.0.0.1:${port} SIP/2.0`,
              `Via: SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bK${n}x${randomBytes(4).toString("hex")};rport`,
              `Max-Forwards: 70`,
              `From: <sip:bench@127.0.0.1>;tag=${n}`,
              `To: <sip:bench@127.0.0.1>`,
              `Call-ID: ${n}-${randomBytes(4).toString("hex")}@bench`,
              `CSeq: 1 OPTIONS`,
              `Content-Length: 0`,
            ].join("\r\n") + "\r\n\r\n";
          sock.send(msg, () => undefined);
        };
        timer = setInterval(send, everyMs);
      }),
    );
  });
  return { done, stop };
}

async function view(pairId: string): Promise<PairView | null> {
  const s = await db.pairStatus.findUnique({ where: { pairId } });
  return (s?.state as unknown as PairView) ?? null;
}

async function until<T>(what: string, fn: () => Promise<T | null | false | undefined>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const healthy = (pairId: string) =>
  until("a healthy pair", async () => {
    const v = await view(pairId);
    return v && v.status === "healthy" && !v.operation && v.servers.every((s) => s.processState === "running") ? v : null;
  });

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { runs: s.length, median: q(0.5), p90: q(0.9), worst: s[s.length - 1] };
}
const fmt = (x: number) => `${x.toFixed(1)} ms`;

/**
 * The benchmark kills a primary every couple of seconds on purpose; the agent restarts it (in backup
 * mode). Its crash-loop rule (by default: a 6th failure within a minute stops the restarts) and its
 * growing back-off would otherwise end the runs: both are relaxed here, and only here.
 */
const BENCH_RESTART = { policy: "on-failure", backoffMs: 100, maxBackoffMs: 100, crashLoop: { maxRestarts: 1000, windowMs: 60_000 } };

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-"));
  chmodSync(tmp, 0o711); // the embedded Postgres runs as the postgres user when we are root
  const dbh = await initDatabase({ log: quiet, dataDir: path.join(tmp, "pg") });
  const hosts: SimHost[] = [];
  let controller: ControllerHandle | null = null;
  try {
    const bins = await buildBinaries(path.join(tmp, "bin"));
    const token = randomBytes(24).toString("hex");
    const tag = randomBytes(2).toString("hex");
    for (const [i, mode] of (["primary", "backup"] as const).entries()) {
      hosts.push(
        await startSimHost(
          { name: `bench-${tag}-${i + 1}`, agentPort: await freePort(), sipPort: await freePort(), controlPort: await freePort(), vipAddress: BENCH_VIP, mode, restart: BENCH_RESTART },
          bins,
          path.join(tmp, "hosts"),
          token,
        ),
      );
    }
    const ids = await configureLab(
      [{ name: `bench-${tag}`, vipAddress: BENCH_VIP, hosts: [hosts[0], hosts[1]], policy: { holdDownSeconds: 0, disconnectGraceSeconds: 1, heartbeatTimeoutMs: 900 } }],
      token,
      "bench",
    );
    const pairId = ids[`bench-${tag}`];
    controller = runController({ log: quiet, databaseUrl: dbh.appUrl });
    await healthy(pairId);

    const username = `bench-${tag}`;
    const u = await createUser({ username, password: randomBytes(16).toString("hex"), role: "operator" }, "bench");
    const api = await createToken({ name: username, role: "operator" }, { kind: "user", userId: u.id, username, role: "operator", credentialId: "bench" }, "bench");

    const failover: number[] = [];
    for (let i = 0; i < runs; i++) {
      const v = await healthy(pairId);
      const p = v.servers.findIndex((s) => s.mode === "primary");
      const b = 1 - p;
      const probe = firstOk(hosts[b].spec.sipPort);
      await new Promise((r) => setTimeout(r, 20)); // the probe is running (503s from the backup)
      const t0 = performance.now();
      process.kill(v.servers[p].pid!, "SIGKILL");
      const t1 = await probe.done;
      failover.push(t1 - t0);
      if (verbose) console.log(t0.toFixed(1), "kill", (t1 - t0).toFixed(1));
      await until("the failed side restarted as backup", async () => {
        const w = await view(pairId);
        return w && w.servers[b].mode === "primary" && w.servers[p].mode === "backup" && !w.operation && w.status === "healthy";
      });
    }

    const switchover: number[] = [];
    for (let i = 0; i < runs; i++) {
      const v = await healthy(pairId);
      const p = v.servers.findIndex((s) => s.mode === "primary");
      const b = 1 - p;
      const probe = firstOk(hosts[b].spec.sipPort);
      await new Promise((r) => setTimeout(r, 20));
      if (countQueries && i === 1) sqlLog = [];
      const t0 = performance.now();
      const res = await switchoverPOST(
        new Request(`http://localhost/api/pairs/${pairId}/switchover`, {
          method: "POST",
          headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
          body: JSON.stringify({ reason: `bench run ${i + 1}` }),
        }),
        { params: Promise.resolve({ id: pairId }) },
      );
      if (res.status !== 202) throw new Error(`switchover refused: ${res.status} ${await res.text()}`);
      const tApi = performance.now();
      if (sqlLog) {
        console.log(`SQL sent during the API call (${sqlLog.length}), t0 = ${t0.toFixed(2)}, answered at ${tApi.toFixed(2)}:\n  ${sqlLog.join("\n  ")}`);
        sqlLog = null;
      }
      const t1 = await probe.done;
      switchover.push(t1 - t0);
      if (verbose) console.log(t0.toFixed(1), "switchover: api", (tApi - t0).toFixed(1), "first 200", (t1 - t0).toFixed(1));
      await until("switchover finished", async () => {
        const w = await view(pairId);
        return w && w.servers[b].mode === "primary" && !w.operation && w.status === "healthy";
      });
    }

    const a = stats(failover);
    const s = stats(switchover);
    console.log(`\nSwitchyard loopback benchmark (${runs} runs each, simulated VIP driver, controller in-process)`);
    console.log(`  (a) kill -9 primary → first SIP 200 from the former backup: median ${fmt(a.median)}, p90 ${fmt(a.p90)}, worst ${fmt(a.worst)}`);
    console.log(`  (b) switchover API call → first SIP 200 from the new primary: median ${fmt(s.median)}, p90 ${fmt(s.p90)}, worst ${fmt(s.worst)}`);
    console.log(JSON.stringify({ failoverMs: a, switchoverMs: s, samples: { failover: failover.map((x) => +x.toFixed(2)), switchover: switchover.map((x) => +x.toFixed(2)) } }));
  } finally {
    await controller?.stop();
    for (const h of hosts) await h.stop();
    await closeDbQuietly();
    await dbh.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
