/**
 * `npm run bench:flood` (root): failover under a web flood (issues 9 and 13). A benchmark that prints
 * numbers, not a test.
 *
 * The namespace lab of tests/integration/lab/lab.test.ts (lab/harness.ts): the real panel (production
 * build, its own throwaway database on the local Postgres) in the root namespace, a real agent with the
 * linux VIP driver in host1 and host2 each supervising a simulated SIP Server bound to the VIP, and the
 * prober in the client namespace (a reply counts only from the VIP). One pair, the product's default
 * heartbeat (1.5 s) and disconnect grace (2 s), no hold-down.
 *
 * Measures `kill -9` of the primary's SIP process -> the first SIP 200 from the backup through the VIP,
 * --runs times on a quiet panel (--gap ms between runs, once the pair is healthy again), then --runs
 * times while bench/flood-load.ts floods the panel (after --warmup s of it) with --big concurrent
 * anonymous bodies of --big-mb MB (streamed from a generator) and --slow connections trickling a byte
 * every --slow-interval ms, all to /api/auth/login over loopback. The defaults make the flooded phase
 * last about 45 s, longer than the panel's 30 s request timeout. Per phase: failover
 * median / p90 / worst, the panel's peak RSS, agent links dropped (the panel's `agent missed its heartbeat
 * deadline` and `controller: agent disconnected` log lines) and `host_disconnected` alarms raised, and
 * GET /api/health latency sampled every 500 ms. Writes bench/results/flood.json and flood.md.
 *
 *   npm run bench:flood [-- --runs 10 --big 6 --big-mb 400 --slow 50 --slow-interval 100 --retry-ms 100 --warmup 20 --gap 2000 --out flood --note TEXT]
 *
 * Everything shares the machine's 2 cores: the flood's own client burns CPU too (it is a separate
 * process; the load average is in the results).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { PanelApi, type PairViewLite } from "../lab/api";
import { exec, holdFlock, Lab, REPO, now, randomPrefix, randomToken, sleep, waitFor, type HostNode, type ProberClient } from "../lab/harness";
import { ensureNextBuild, hasNextBuild, startServer, type StartedServer } from "../tests/integration/helpers/server";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    big: { type: "string", default: "6" },
    "big-mb": { type: "string", default: "400" },
    slow: { type: "string", default: "50" },
    "slow-interval": { type: "string", default: "100" },
    warmup: { type: "string", default: "20" },
    gap: { type: "string", default: "2000" },
    "retry-ms": { type: "string", default: "100" },
    out: { type: "string", default: "flood" },
    note: { type: "string", default: "" },
  },
});
const RUNS = Number(values.runs);
const WARMUP_S = Number(values.warmup);
const GAP_MS = Number(values.gap);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 100) throw new Error("--runs: 1 to 100");
if (!/^[a-z0-9-]+$/.test(values.out!)) throw new Error("--out: a file name without extension");
const FLOOD_ARGS = ["--big", values.big!, "--big-mb", values["big-mb"]!, "--slow", values.slow!, "--slow-interval", values["slow-interval"]!, "--retry-ms", values["retry-ms"]!];
const LINK_DROP = /"msg":"(agent missed its heartbeat deadline|controller: agent disconnected)"/;
const other = (h: HostNode): HostNode => (h === "host1" ? "host2" : "host1");
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Phase {
  name: string;
  /** Why the phase stopped before its last run (the pair did not become healthy in time, ...). */
  incomplete?: string;
  /** Start and end, ms since the epoch. */
  window: [number, number];
  /** Each run's kill -> first 200 from the backup, ms; null = no such answer within 30 s. */
  failoverMs: (number | null)[];
  failover: { n: number; failed: number; median: number | null; p90: number | null; worst: number | null };
  peakRssMB: number;
  linkDrops: number;
  linkDropLines: string[];
  hostDisconnectedAlarms: number;
  healthMs: { n: number; median: number | null; worst: number | null; failed: number };
  /** Error-level lines in the panel's log during the phase (the first five). */
  serverErrors: { count: number; first: string[] };
  seconds: number;
  flood?: unknown;
  /** After an incomplete flooded phase: seconds from the end of the flood to a healthy pair again (null: not within 180 s). */
  recoveredAfterFloodS?: number | null;
}

function quantiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? r1(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!) : null);
  return { median: q(0.5), p90: q(0.9), worst: s.length ? r1(s[s.length - 1]!) : null };
}

/** RSS of a process in MB (0 when it is gone). */
function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The server process: the largest process in the tree under the tsx launcher. */
function serverPid(root: number): number {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const c of readFileSync(`/proc/${tree[i]}/task/${tree[i]}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) tree.push(Number(c));
    } catch {
      /* gone */
    }
  }
  return tree.reduce((a, b) => (rssMB(b) > rssMB(a) ? b : a));
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench/flood.ts needs root (network namespaces, as the lab)\n");
    return 1;
  }
  for (const tool of ["ip", "arping"]) {
    if ((await exec("sh", ["-c", `command -v ${tool}`])).code !== 0) throw new Error(`${tool} not found (apt-get install -y iproute2 iputils-arping)`);
  }
  if (!process.env.SWITCHYARD_TEST_ADMIN_URL && !process.env.DATABASE_URL) process.env.SWITCHYARD_TEST_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  const loadStart = os.loadavg().map(r1);
  const startedAt = new Date().toISOString();

  let lab: Lab | undefined;
  let srv: StartedServer | undefined;
  let prober: ProberClient | undefined;
  let load: ChildProcess | undefined;
  let buildHold: ChildProcess | undefined;
  const cleanup = async () => {
    load?.kill("SIGKILL");
    prober?.close();
    await srv?.stop().catch(() => undefined);
    await lab?.teardown();
    buildHold?.stdin?.end();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  process.once("SIGTERM", () => void cleanup().then(() => process.exit(143)));

  try {
    // A shared hold on the build lock: a `next build` elsewhere waits instead of replacing the build under us.
    ensureNextBuild();
    buildHold = await holdFlock("/tmp/switchyard-next.lock", 600_000, true);
    if (!hasNextBuild()) throw new Error("no production build (.next)");

    lab = await Lab.setup({ prefix: randomPrefix(), sessionLockWaitMs: 300_000 });
    const token = randomToken();
    await Promise.all([
      lab.startAgent({ host: "host1", token, autostartMode: "primary", heartbeatTimeoutMs: 3000 }),
      lab.startAgent({ host: "host2", token, autostartMode: "backup", heartbeatTimeoutMs: 3000 }),
    ]);
    srv = await startServer({ env: { LOG_LEVEL: "warn" } });
    const pid = serverPid(srv.process.pid!);
    const api = new PanelApi(srv.url);
    api.useToken(srv.adminToken!);
    const { pairId } = await api.createLabPair(lab, token, `flood-${lab.prefix}`, {
      autoFailover: true,
      heartbeatTimeoutMs: 1500,
      disconnectGraceSeconds: 2,
      holdDownSeconds: 0,
    });
    const vip = `${lab.addr.vip}:5060`;
    prober = lab.startProber();
    await prober.ready(vip);

    /** The pair healthy, one primary, the VIP on exactly that host; returns the primary. */
    const steady = (timeoutMs: number) =>
      waitFor(
        "a healthy pair with the VIP on its primary",
        async () => {
          const v: PairViewLite | null = await api.pair(pairId);
          const p = v?.servers.find((s) => s.mode === "primary")?.hostName as HostNode | undefined;
          if (v?.status !== "healthy" || !p) throw new Error(`pair ${v?.status ?? "not observed"} (${v?.statusReason ?? ""}), primary ${p ?? "none"}`);
          const holders = await lab!.vipHolders();
          if (holders.join() !== p) throw new Error(`VIP held by [${holders.join(", ")}], primary ${p}`);
          return p;
        },
        timeoutMs,
        100,
      );
    note(`lab ${lab.prefix} up; panel ${srv.url} (pid ${pid}); primary ${await steady(60_000)}`);

    const runPhase = async (name: string): Promise<Phase> => {
      const t0Phase = Date.now();
      const logFrom = srv!.output().length;
      let peak = rssMB(pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssMB(pid))), 100);
      const health: number[] = [];
      let healthFailed = 0;
      let sampling = true;
      const healthLoop = (async () => {
        while (sampling) {
          const t = performance.now();
          const ok = await fetch(`${srv!.url}/api/health`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.ok, () => false);
          if (ok) health.push(performance.now() - t);
          else healthFailed++;
          await sleep(500);
        }
      })();
      const failoverMs: (number | null)[] = [];
      let incomplete: string | undefined;
      try {
        for (let i = 0; i < RUNS; i++) {
          if (i > 0) await sleep(GAP_MS);
          const primary = await steady(120_000);
          const backup = other(primary);
          const simPid = await lab!.simPid(primary);
          if (!simPid) throw new Error(`no SIP Server process in ${primary}`);
          const u = prober!.until(vip, { host: backup, status: 200 }, { intervalMs: 2, maxMs: 30_000 });
          await u.started;
          const t0 = now();
          process.kill(simPid, "SIGKILL");
          const r = await u.result;
          const ms = r.matched ? r.matchedAt! - t0 : null;
          failoverMs.push(ms);
          note(`${name} ${i + 1}/${RUNS}: kill -9 on ${primary} -> first 200 from ${backup} ${ms === null ? "NOT within 30 s" : `after ${ms.toFixed(1)} ms`}`);
        }
        await steady(120_000);
      } catch (e) {
        incomplete = `stopped after ${failoverMs.length} of ${RUNS} runs: ${(e as Error).message}`;
        note(`${name}: ${incomplete}`);
      } finally {
        sampling = false;
        clearInterval(sampler);
        await healthLoop;
      }
      const lines = srv!.output().slice(logFrom).match(/^.*$/gm) ?? [];
      const drops = lines.filter((l) => LINK_DROP.test(l));
      const errors = lines.filter((l) => l.includes('"level":"error"'));
      const ok = failoverMs.filter((x): x is number => x !== null);
      const h = quantiles(health);
      return {
        name,
        incomplete,
        window: [t0Phase, Date.now()],
        failoverMs: failoverMs.map((x) => (x === null ? null : r1(x))),
        failover: { n: failoverMs.length, failed: failoverMs.length - ok.length, ...quantiles(ok) },
        peakRssMB: Math.round(peak),
        linkDrops: drops.length,
        linkDropLines: drops.slice(0, 20).map((l) => l.slice(0, 300)),
        hostDisconnectedAlarms: 0,
        serverErrors: { count: errors.length, first: errors.slice(0, 5).map((l) => l.slice(0, 400)) },
        healthMs: { n: health.length, median: h.median, worst: h.worst, failed: healthFailed },
        seconds: Math.round((Date.now() - t0Phase) / 1000),
      };
    };
    const summary = (p: Phase) =>
      `${p.name}: median ${p.failover.median} ms, p90 ${p.failover.p90}, worst ${p.failover.worst} (${p.failover.n} runs); peak RSS ${p.peakRssMB} MB; links dropped ${p.linkDrops}${p.incomplete ? `; INCOMPLETE: ${p.incomplete}` : ""}`;

    const quiet = await runPhase("quiet");
    note(summary(quiet));

    load = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "bench", "flood-load.ts"), "--url", srv.url, ...FLOOD_ARGS], {
      cwd: REPO,
      stdio: ["pipe", "pipe", "inherit"],
    });
    let floodStats: unknown = null;
    createInterface({ input: load.stdout! }).on("line", (l) => {
      try {
        floodStats = JSON.parse(l);
      } catch {
        /* not ours */
      }
    });
    note(`flood started (${FLOOD_ARGS.join(" ")}); warming up ${WARMUP_S} s`);
    await sleep(WARMUP_S * 1000);
    const flooded = await runPhase("flooded");
    const ended = new Promise((r) => load!.once("exit", r));
    load.stdin!.end();
    await Promise.race([ended, sleep(5000)]);
    flooded.flood = floodStats;
    const floodStopped = Date.now();
    if (flooded.incomplete) {
      // How long the panel takes to get the pair healthy again once the flood is gone.
      flooded.recoveredAfterFloodS = await steady(180_000).then(
        () => r1((Date.now() - floodStopped) / 1000),
        () => null,
      );
    }
    // Alarms are read once the flood is gone (the API may not answer during it).
    const alarms = await api.alarms("?state=all&limit=1000").catch(() => []);
    for (const p of [quiet, flooded]) {
      p.hostDisconnectedAlarms = alarms.filter((a) => a.kind === "host_disconnected" && Date.parse(a.raisedAt ?? "") >= p.window[0] && Date.parse(a.raisedAt ?? "") <= p.window[1]).length;
    }
    note(summary(flooded));

    const result = {
      generatedAt: startedAt,
      commit: git(["rev-parse", "--short", "HEAD"]) + (git(["status", "--porcelain", "--untracked-files=no"]) ? " (with uncommitted changes)" : ""),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", kernel: os.release(), node: process.version, memGB: Math.round(os.totalmem() / 2 ** 30) },
      loadavg: { start: loadStart, end: os.loadavg().map(r1) },
      settings: { runs: RUNS, big: Number(values.big), bigMB: Number(values["big-mb"]), slow: Number(values.slow), slowIntervalMs: Number(values["slow-interval"]), retryMs: Number(values["retry-ms"]), warmupS: WARMUP_S, gapMs: GAP_MS, path: "/api/auth/login", pair: { heartbeatTimeoutMs: 1500, disconnectGraceSeconds: 2, holdDownSeconds: 0 } },
      note: values.note || undefined,
      quiet,
      flooded,
    };
    const dir = path.join(REPO, "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${values.out}.json`), JSON.stringify(result, null, 2) + "\n");
    const md = markdown(result);
    writeFileSync(path.join(dir, `${values.out}.md`), md);
    process.stdout.write("\n" + md + "\n");
    note(`wrote bench/results/${values.out}.json and ${values.out}.md`);
    return 0;
  } finally {
    await cleanup();
  }
}

function markdown(r: { generatedAt: string; commit: string; note?: string; machine: Record<string, unknown>; loadavg: { start: number[]; end: number[] }; settings: Record<string, unknown>; quiet: Phase; flooded: Phase }): string {
  const f = (x: number | null) => (x === null ? "n/a" : x.toFixed(1));
  const fo = (p: Phase) => `${f(p.failover.median)} / ${f(p.failover.p90)} / ${f(p.failover.worst)}`;
  const s = r.settings;
  const fl = r.flooded.flood as { big?: { started: number; answers: Record<string, number>; bodyBytes: number }; slow?: { started: number; answers: Record<string, number> } } | null;
  return [
    `# Failover under a web flood (\`npm run bench:flood\`)`,
    ``,
    `${r.generatedAt}, commit ${r.commit}, ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memGB} GB, kernel ${r.machine.kernel}, Node ${r.machine.node}; ` +
      `load average (1/5/15 min) ${r.loadavg.start.join(" / ")} at the start, ${r.loadavg.end.join(" / ")} at the end.`,
    ``,
    ...(r.note ? [`Note: ${r.note}`, ``] : []),
    `Failover = \`kill -9\` of the primary's SIP process → first SIP 200 from the backup through the VIP (namespace lab, linux VIP driver), ${s.runs} runs per phase. ` +
      `Flood: ${s.big} concurrent anonymous bodies of ${s.bigMB} MB (streamed; the next one ${s.retryMs} ms after each ends) and ${s.slow} connections sending a byte every ${s.slowIntervalMs} ms, all to ${s.path}; ` +
      `the flooded runs start after ${s.warmupS} s of flood; ${s.gapMs} ms between runs once the pair is healthy again. Pair: heartbeat 1.5 s, disconnect grace 2 s.`,
    ``,
    `| | quiet | flooded |`,
    `|---|---|---|`,
    `| failover median / p90 / worst, ms | ${fo(r.quiet)} | ${fo(r.flooded)} |`,
    `| runs without a 200 from the backup within 30 s | ${r.quiet.failover.failed} of ${r.quiet.failover.n} | ${r.flooded.failover.failed} of ${r.flooded.failover.n} |`,
    `| panel peak RSS | ${r.quiet.peakRssMB} MB | ${r.flooded.peakRssMB} MB |`,
    `| agent links dropped (log lines) | ${r.quiet.linkDrops} | ${r.flooded.linkDrops} |`,
    `| \`host_disconnected\` alarms raised | ${r.quiet.hostDisconnectedAlarms} | ${r.flooded.hostDisconnectedAlarms} |`,
    `| GET /api/health every 500 ms: median / worst ms (failed) | ${f(r.quiet.healthMs.median)} / ${f(r.quiet.healthMs.worst)} (${r.quiet.healthMs.failed}) | ${f(r.flooded.healthMs.median)} / ${f(r.flooded.healthMs.worst)} (${r.flooded.healthMs.failed}) |`,
    `| error lines in the panel's log | ${r.quiet.serverErrors.count} | ${r.flooded.serverErrors.count} |`,
    `| phase duration | ${r.quiet.seconds} s | ${r.flooded.seconds} s |`,
    ``,
    `Samples (ms): quiet ${r.quiet.failoverMs.map((x) => (x === null ? "none" : x)).join(", ")}; flooded ${r.flooded.failoverMs.map((x) => (x === null ? "none" : x)).join(", ")}.`,
    ``,
    fl?.big && fl.slow
      ? `The flood's client, over the whole flooded phase: ${fl.big.started} large bodies started, ${(fl.big.bodyBytes / 2 ** 20).toFixed(0)} MB of body handed to the kernel, answers ${JSON.stringify(fl.big.answers)}; ` +
        `${fl.slow.started} slow connections opened, answers ${JSON.stringify(fl.slow.answers)} ("none": closed by the server without an answer; "open at the end": still open when the flood stopped).`
      : `(no counters from the flood's client)`,
    ``,
    ...[r.quiet, r.flooded]
      .filter((p) => p.incomplete)
      .flatMap((p) => [
        `**The ${p.name} phase stopped early**: ${p.incomplete}.` +
          (p.recoveredAfterFloodS !== undefined ? ` The pair was healthy again ${p.recoveredAfterFloodS === null ? "not within 180 s" : `${p.recoveredAfterFloodS} s`} after the flood stopped.` : ""),
        ``,
      ]),
    ...(r.flooded.serverErrors.count ? [`Error lines in the panel's log during the flood (first ${r.flooded.serverErrors.first.length}):`, ``, "```", ...r.flooded.serverErrors.first, "```", ``] : []),
    ...(r.flooded.linkDropLines.length ? [`Link drops logged during the flood (first ${r.flooded.linkDropLines.length}):`, ``, "```", ...r.flooded.linkDropLines, "```", ``] : []),
  ].join("\n");
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: REPO, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

function note(msg: string): void {
  process.stdout.write(`[flood ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench/flood.ts: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
