/**
 * The fault campaign (issue 13): on the namespace lab, with the real panel (production build) on its own
 * database behind a TCP proxy, runs the seeded fault schedule (lab/chaos/schedule.ts) and the seeded manual
 * switchovers for N minutes while the checker (lab/chaos/checker.ts) watches the invariant, then verifies
 * the audit chain and classifies every violation (lab/chaos/analysis.ts). Used by `npm run chaos`
 * (lab/chaos.ts) and by tests/integration/lab/chaos.test.ts.
 *
 * Needs root, the lab's tools, a production build, and a Postgres server for createTestDatabase (the
 * integration tier's, or SWITCHYARD_TEST_ADMIN_URL set by the CLI to an embedded one).
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestDatabase, type TestDatabase } from "../../tests/integration/helpers/db";
import { ensureNextBuild, hasNextBuild } from "../../tests/integration/helpers/server";
import { startTcpProxy, type TcpProxy } from "../../tests/integration/helpers/tcp-proxy";
import { PanelApi } from "../api";
import { holdFlock, Lab, now, randomPrefix, randomToken, REPO, sleep, type AgentSpec, type HostNode } from "../harness";
import { LabPanel } from "../panel";
import { classify, summarise, table, windowsOf, WINDOWS, type ChaosSummary, type Classified, type FaultRecord, type PairTimings } from "./analysis";
import { Checker } from "./checker";
import { describeFault, faultSchedule, switchoverSchedule, type Fault } from "./schedule";

export interface CampaignOptions {
  minutes: number;
  seed: number;
  /** Output files without extension (<out>.md, <out>.json), relative to the repository; null: none. */
  out: string | null;
  log: (line: string) => void;
  /** How long to wait for another lab session to end (the session lock). */
  sessionLockWaitMs?: number;
  /** An operation running longer than this is stuck. */
  stuckAfterMs?: number;
  /** How long a fault may take to settle before the campaign goes on anyway (the violations stay recorded). */
  settleTimeoutMs?: number;
  /** Aborted: the campaign stops injecting at once, undoes the running fault, analyses and tears down. */
  signal?: AbortSignal;
}

export interface CampaignResult {
  summary: ChaosSummary;
  table: string;
  faults: FaultRecord[];
  classified: Classified[];
}

export const PAIR_TIMINGS: PairTimings & { holdDownSeconds: number } = { heartbeatTimeoutMs: 1000, disconnectGraceSeconds: 1, holdDownSeconds: 0 };

const other = (h: HostNode): HostNode => (h === "host1" ? "host2" : "host1");

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const stuckAfterMs = o.stuckAfterMs ?? 30_000;
  const settleTimeoutMs = o.settleTimeoutMs ?? 60_000;
  const t0 = now();
  const stamp = () => {
    const s = (now() - t0) / 1000;
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${(s % 60).toFixed(1).padStart(4, "0")}`;
  };
  const log = (msg: string) => o.log(`[chaos ${stamp()}] ${msg}`);

  const commit = gitCommit(); // the code that runs (HEAD may move during a long run)
  let buildHold: ChildProcess | undefined;
  let lab: Lab | undefined;
  let db: TestDatabase | undefined;
  let proxy: TcpProxy | undefined;
  let panel: LabPanel | undefined;
  let checker: Checker | undefined;
  const loadStart = os.loadavg()[0]!;
  try {
    // A shared hold on the build lock (as the lab tests): a `next build` started meanwhile waits.
    for (let i = 0; i < 3 && !buildHold; i++) {
      ensureNextBuild();
      const hold = await holdFlock("/tmp/switchyard-next.lock", 600_000, true);
      if (hasNextBuild()) buildHold = hold;
      else hold.stdin?.end();
    }
    if (!buildHold) throw new Error("no stable production build (.next) to run the panel from");

    log("setting up the lab (waits for any other lab session to end)");
    lab = await Lab.setup({ prefix: randomPrefix(), sessionLockWaitMs: o.sessionLockWaitMs ?? 120_000 });
    const token = randomToken();
    const specs: Record<HostNode, AgentSpec> = {
      host1: { host: "host1", token, autostartMode: "primary", heartbeatTimeoutMs: 3000, dadIntervalMs: 1000 },
      host2: { host: "host2", token, autostartMode: "backup", heartbeatTimeoutMs: 3000, dadIntervalMs: 1000 },
    };
    await Promise.all([lab.startAgent(specs.host1), lab.startAgent(specs.host2)]);
    db = await createTestDatabase();
    proxy = await startTcpProxy(db.url);
    log(`lab ${lab.prefix} up (VIP ${lab.addr.vip}); starting the panel`);
    panel = await LabPanel.start({
      databaseUrl: proxy.url,
      env: {
        LOG_LEVEL: process.env.SY_CHAOS_SERVER_LOG_LEVEL ?? "warn",
        // The audit key and checkpoints of this run's fresh database (not .data's, which belong to another chain).
        AUDIT_KEY_FILE: path.join(lab.workDir, "audit.key"),
        AUDIT_CHECKPOINT_FILE: path.join(lab.workDir, "audit-checkpoints.log"),
      },
    });
    const api = new PanelApi(panel.url);
    api.useToken(panel.adminToken);
    api.timeoutMs = 5000;
    const { pairId } = await api.createLabPair(lab, token, `chaos-${lab.prefix}`, { autoFailover: true, ...PAIR_TIMINGS });
    checker = new Checker({ lab, panelUrl: panel.url, token: panel.adminToken, pairId, stuckAfterMs, log });
    await checker.start();
    const ck = checker;
    const settle = async (timeoutMs: number): Promise<number> => {
      const s = now();
      // Steady for 300 ms in a row (a view polled at 100 ms).
      let since: number | null = null;
      while (now() - s < timeoutMs) {
        if (ck.steady()) {
          since ??= now();
          if (now() - since >= 300) return now() - s;
        } else since = null;
        await sleep(20);
      }
      return -1;
    };
    if ((await settle(60_000)) < 0) throw new Error(`the pair did not become steady after setup: ${[...ck.current(now()).values()].join("; ")}`);

    const faults: FaultRecord[] = [];
    const start = now();
    let deadline = start + o.minutes * 60_000;
    o.signal?.addEventListener("abort", () => {
      deadline = now();
      log("interrupted: stopping after the running fault");
    });
    log(`steady (VIP on ${[...ck.holders].join()}); running faults for ${o.minutes} min, seed ${o.seed}`);

    const host = (role: "primary" | "backup"): HostNode => {
      const holders = [...ck.holders];
      const primary: HostNode = holders.length === 1 ? holders[0]! : ((ck.panel.primary as HostNode | null) ?? "host1");
      return role === "primary" ? primary : other(primary);
    };
    const sigSafe = (pid: number | null | undefined, sig: NodeJS.Signals) => {
      if (!pid) return;
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    };

    /** Holds a fault for `ms`, then undoes it, whatever happens meanwhile. */
    const holdThen = async (ms: number, undo: () => unknown) => {
      try {
        await sleep(ms);
      } finally {
        await undo();
      }
    };

    const runFault = async (f: Fault): Promise<FaultRecord> => {
      const h = f.target ? host(f.target) : null;
      const rec: FaultRecord = { seq: f.seq, kind: f.kind, target: f.target, host: h, at: now(), recoveredAt: 0 };
      const l = lab!;
      switch (f.kind) {
        case "sip_kill":
        case "sip_stop": {
          const pid = await l.simPid(h!);
          rec.at = now();
          if (!pid) {
            rec.noop = true;
            rec.note = `no SIP Server process on ${h}`;
            break;
          }
          if (f.kind === "sip_kill") sigSafe(pid, "SIGKILL");
          else {
            sigSafe(pid, "SIGSTOP");
            await holdThen(f.holdMs, () => sigSafe(pid, "SIGCONT"));
          }
          break;
        }
        case "agent_kill": {
          const a = l.agents.get(h!)!;
          const exited = new Promise((r) => (a.child.exitCode !== null || a.child.signalCode !== null ? r(null) : a.child.once("exit", r)));
          sigSafe(a.child.pid, "SIGKILL");
          await exited;
          await sleep(f.holdMs);
          await l.startAgent(specs[h!]);
          break;
        }
        case "agent_stop": {
          const pid = l.agents.get(h!)!.child.pid;
          sigSafe(pid, "SIGSTOP");
          await holdThen(f.holdMs, () => sigSafe(pid, "SIGCONT"));
          break;
        }
        case "panel_kill": {
          await panel!.kill();
          await sleep(f.holdMs);
          const restartAt = now();
          for (let i = 1; ; i++) {
            try {
              await panel!.restart();
              break;
            } catch (e) {
              if (i >= 3) throw e;
              log(`panel restart ${i} failed, again: ${(e as Error).message.split("\n")[0]}`);
              await sleep(1000);
            }
          }
          rec.restartMs = now() - restartAt;
          rec.note = `restarted in ${Math.round(rec.restartMs)} ms`;
          break;
        }
        case "panel_stop":
          panel!.signal("SIGSTOP");
          await holdThen(f.holdMs, () => panel!.signal("SIGCONT"));
          break;
        case "link_cut":
          await l.cut(h!);
          await holdThen(f.holdMs, () => l.restore(h!));
          break;
        case "db_down":
          proxy!.down();
          await holdThen(f.holdMs, () => proxy!.restore());
          break;
      }
      rec.recoveredAt = now();
      return rec;
    };

    const faultLoop = async () => {
      for (const f of faultSchedule(o.seed, 100_000)) {
        if (now() >= deadline) return;
        log(`#${f.seq} ${describeFault(f)}${f.target ? ` → ${host(f.target)}` : ""}`);
        const rec = await runFault(f);
        faults.push(rec);
        const settled = await settle(settleTimeoutMs);
        const v = ck.violations.filter((x) => x.end > start).length;
        log(
          `#${f.seq} ${f.kind} ${rec.noop ? `no-op (${rec.note})` : `undone after ${Math.round(rec.recoveredAt - rec.at)} ms${rec.note ? ` (${rec.note})` : ""}`}; ` +
            (settled < 0 ? `NOT steady after ${settleTimeoutMs / 1000} s: ${[...ck.current(now()).values()].join("; ")}` : `steady again ${Math.round(settled)} ms later`) +
            `; ${v} violation intervals so far`,
        );
        await sleep(Math.min(f.gapMs, Math.max(0, deadline - now())));
      }
    };
    const switchoverLoop = async () => {
      for (const s of switchoverSchedule(o.seed, 100_000)) {
        await sleep(Math.min(s.gapMs, Math.max(0, deadline - now())));
        if (now() >= deadline) return;
        const rec: FaultRecord = { seq: s.seq, kind: "switchover", target: null, host: null, at: now(), recoveredAt: 0 };
        const send = () => api.switchover(pairId, `chaos: switchover ${s.seq}`).then((r) => String(r.status), (e: Error) => `error (${e.name})`);
        const statuses = await Promise.all(s.concurrent ? [send(), send()] : [send()]);
        rec.recoveredAt = rec.at;
        rec.note = statuses.join("+");
        rec.noop = !statuses.includes("202");
        faults.push(rec);
        log(`switchover ${s.seq}${s.concurrent ? " (two at once)" : ""}: ${rec.note}`);
      }
    };
    const progress = setInterval(() => {
      const v = ck.violations.filter((x) => x.end > start).length;
      log(`progress: ${faults.length} faults and switchovers, ${v} violation intervals, ${ck.sipChanges} SIP answer changes, ${ck.vipEvents} VIP events, ${ck.panelPolls} panel polls`);
    }, 60_000);
    try {
      await Promise.all([faultLoop(), switchoverLoop()]);
    } finally {
      clearInterval(progress);
    }
    const lastSettle = await settle(settleTimeoutMs);
    log(lastSettle < 0 ? `NOT steady at the end: ${[...ck.current(now()).values()].join("; ")}` : "done; steady");
    const end = now();
    const violations = (await ck.stop()).filter((v) => v.end > start).map((v) => ({ ...v, start: Math.max(v.start, start) }));
    checker = undefined;

    let auditOk: boolean | null = null;
    let auditDetail = "";
    try {
      const r = await api.ok<{ ok: boolean; checked?: number; firstBroken?: unknown }>("GET", "/api/audit/verify");
      auditOk = r.ok;
      auditDetail = `${r.checked ?? "?"} rows checked${r.firstBroken ? `, first broken ${JSON.stringify(r.firstBroken)}` : ""}`;
    } catch (e) {
      auditOk = false;
      auditDetail = (e as Error).message;
    }
    // Operations still running at the end count as stuck too.
    const ops = await api.operations(pairId, 500).catch(() => []);
    const running = ops.filter((x) => x.status === "running" || x.status === "pending").map((x) => x.id);
    const stuck = new Set([...ck.stuckOps, ...running]);

    // The panel's log, kept with the agents' and SIP Servers' logs when SY_LAB_KEEP=1 keeps the lab's folder.
    writeFileSync(path.join(lab.workDir, "panel.log"), panel.output());
    if (process.env.SY_LAB_KEEP) log(`logs kept in ${lab.workDir} (panel.log, host*/agent.log, host*/state/logs/)`);
    const windows = windowsOf(faults, PAIR_TIMINGS);
    const classified = classify(violations, windows);
    const summary = summarise({ seed: o.seed, minutes: o.minutes, startedAt: start, endedAt: end, faults, classified, operationsStuck: stuck.size, auditOk, auditDetail, timings: PAIR_TIMINGS });
    const md = table(summary, PAIR_TIMINGS);
    if (o.out) writeResults(o.out, { commit, summary, md, faults, classified, loadStart, operations: ops, windows: windows.length });
    return { summary, table: md, faults, classified };
  } finally {
    await checker?.stop().catch(() => undefined);
    await panel?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await lab?.teardown().catch(() => undefined);
    buildHold?.stdin?.end();
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "lab", "lib", "agent", "sim", "server.ts", "app"], { cwd: REPO, encoding: "utf8" }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return "unknown";
  }
}

type OperationRow = Awaited<ReturnType<PanelApi["operations"]>>[number];

function writeResults(
  out: string,
  r: { commit: string; summary: ChaosSummary; md: string; faults: FaultRecord[]; classified: Classified[]; loadStart: number; operations: OperationRow[]; windows: number },
): void {
  const commit = r.commit;
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    kernel: os.release(),
    node: process.version,
    loadavgStart: Math.round(r.loadStart * 10) / 10,
    loadavgEnd: Math.round(os.loadavg()[0]! * 10) / 10,
  };
  const base = path.resolve(REPO, out);
  mkdirSync(path.dirname(base), { recursive: true });
  const windowsDoc = Object.fromEntries(
    Object.entries(WINDOWS).map(([k, w]) => [k, { tailMsAfterUndone: w.tailMs(PAIR_TIMINGS), allowed: w.allowed, why: w.why }]),
  );
  const rel = (t: number) => Math.round(t - Date.parse(r.summary.startedAt));
  writeFileSync(
    `${base}.json`,
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        commit,
        machine,
        pair: PAIR_TIMINGS,
        summary: r.summary,
        windows: windowsDoc,
        // The pair's operations (newest first), to read a violation against what the controller did.
        operations: r.operations.map((x) => ({ atMs: rel(Date.parse(x.createdAt)), kind: x.kind, status: x.status, decision: x.decision, error: x.error })),
        faults: r.faults.map((f) => ({ ...f, atMs: rel(f.at), recoveredAtMs: rel(f.recoveredAt), at: undefined, recoveredAt: undefined })),
        violations: r.classified.map((v) => ({ kind: v.kind, startMs: rel(v.start), durationMs: Math.round(v.durationMs), expected: v.expected, outsideMs: Math.round(v.outsideMs), during: v.during, detail: v.detail })),
      },
      null,
      2,
    ) + "\n",
  );
  const md = [
    `# Fault campaign (\`npm run chaos -- --minutes ${r.summary.minutes} --seed ${r.summary.seed}\`)`,
    "",
    `${new Date().toISOString()}, commit ${commit}, ${machine.cpus} CPUs (${machine.cpuModel}), kernel ${machine.kernel}, Node ${machine.node}, ` +
      `1-minute load average ${machine.loadavgStart} at the start and ${machine.loadavgEnd} at the end. How to read it: docs/testing.md, "The fault campaign".`,
    "",
    r.md,
  ].join("\n");
  writeFileSync(`${base}.md`, md);
}
