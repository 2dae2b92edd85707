/**
 * The fault campaign's analysis: which violations of the invariant are expected (inside a documented
 * window after a fault) and which are not, and the table printed at the end. Pure: no I/O, no clock.
 *
 * The invariant (checked by lab/chaos/checker.ts): exactly one host holds the VIP; a SIP client gets 200
 * through the VIP; the panel shows the VIP holder as the primary; the panel answers; no operation runs
 * longer than a bound. Each fault opens a window in which some violations are the documented cost of that
 * fault (docs/testing.md, "The fault campaign"); a violation any part of which falls outside every window
 * that allows its kind is unexpected: a finding.
 */
import type { FaultKind, Role } from "./schedule";

export const VIOLATION_KINDS = ["vip_holders", "sip_no_answer", "panel_disagrees", "panel_unreachable", "operation_stuck"] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export interface Violation {
  kind: ViolationKind;
  /** ms since the epoch (the checker's clock: performance.timeOrigin + performance.now()). */
  start: number;
  end: number;
  /** What the checker saw when it began (e.g. "holders: host1,host2", "no answer", "panel primary host1, VIP on host2"). */
  detail: string;
}

export interface FaultRecord {
  seq: number;
  kind: FaultKind | "switchover";
  target: Role | null;
  /** The host it hit (resolved at run time), null for the panel, Postgres and switchovers. */
  host: string | null;
  /** When it was injected (just before the kill / stop / cut / request). */
  at: number;
  /** When it was undone (cont, restart finished, restore); = at for sip_kill and switchovers. */
  recoveredAt: number;
  /** E.g. "202", "409+202", "skipped: no SIP Server process". */
  note?: string;
  /** A fault that did nothing (no process to hit, a switchover refused): it opens no window. */
  noop?: boolean;
  /** panel_kill: ms from the start of the restart to /api/health answering with the database ok. */
  restartMs?: number;
}

/** The pair's timing settings the windows are derived from (PanelApi.createLabPair's policy). */
export interface PairTimings {
  heartbeatTimeoutMs: number;
  disconnectGraceSeconds: number;
}

const NETWORK_AND_PANEL: ViolationKind[] = ["vip_holders", "sip_no_answer", "panel_disagrees", "panel_unreachable"];
const PANEL_ONLY: ViolationKind[] = ["panel_disagrees", "panel_unreachable"];

export interface WindowRule {
  /** ms after the fault was undone (or injected, for sip_kill and switchovers) that the window stays open. */
  tailMs: (t: PairTimings) => number;
  allowed: ViolationKind[];
  why: string;
}

/**
 * The documented windows. Each opens when the fault is injected and closes `tailMs` after it is undone.
 * Kept in step with docs/testing.md ("The fault campaign").
 */
export const WINDOWS: Record<FaultKind | "switchover", WindowRule> = {
  sip_kill: {
    tailMs: () => 5000,
    allowed: NETWORK_AND_PANEL,
    why:
      "failover time: the agent sees the exit, the controller demotes, promotes the backup and moves the VIP (median ~30 ms quiet, " +
      "up to ~1 s under load); the panel's view follows; the killed server is restarted as backup by its agent",
  },
  sip_stop: {
    tailMs: () => 5000,
    allowed: NETWORK_AND_PANEL,
    why:
      "a stopped SIP Server answers nothing; the agent calls it hung after 3 failed probes 500 ms apart (~1.5-2 s) and restarts it, " +
      "which is a failover; a shorter stop ends with SIGCONT and nothing moves",
  },
  agent_kill: {
    tailMs: (t) => t.heartbeatTimeoutMs + t.disconnectGraceSeconds * 1000 + 4000,
    allowed: NETWORK_AND_PANEL,
    why:
      "an agent down longer than heartbeat + grace is a disconnect: the backup is promoted while the dead agent cannot fence its " +
      "VIP (both hold it), until the restarted agent reconnects (heartbeat) and the split brain is resolved",
  },
  agent_stop: {
    tailMs: (t) => t.heartbeatTimeoutMs + t.disconnectGraceSeconds * 1000 + 4000,
    allowed: NETWORK_AND_PANEL,
    why: "as an agent kill: a stopped agent answers no heartbeat; after SIGCONT it reconnects and any split brain is resolved",
  },
  panel_kill: {
    tailMs: (t) => t.heartbeatTimeoutMs + t.disconnectGraceSeconds * 1000 + 6000,
    allowed: NETWORK_AND_PANEL,
    why:
      "a single panel instance: with the controller gone longer than heartbeat + grace both agents fence themselves (VIP dropped, " +
      "no SIP answer) until the restarted panel takes the lease, reconnects both agents and repairs the pair (promote + announce)",
  },
  panel_stop: {
    tailMs: (t) => t.heartbeatTimeoutMs + t.disconnectGraceSeconds * 1000 + 6000,
    allowed: NETWORK_AND_PANEL,
    why: "as a panel kill, without the restart: after SIGCONT the controller reconnects and repairs the pair",
  },
  link_cut: {
    tailMs: (t) => t.heartbeatTimeoutMs + t.disconnectGraceSeconds * 1000 + 4000,
    allowed: NETWORK_AND_PANEL,
    why:
      "disconnect timeout + grace: a cut primary fences itself and the backup is promoted; after the restore the agent reconnects " +
      "(0.1-1.3 s) and the controller resolves any split brain and announces the VIP again",
  },
  db_down: {
    tailMs: () => 5000,
    allowed: PANEL_ONLY,
    why:
      "the journal while Postgres is down: the controller keeps deciding and acting, but the API (sessions, tokens, views in the " +
      "database) answers 503 until Postgres is back and the journal is written; the network must stay right",
  },
  switchover: {
    tailMs: () => 5000,
    allowed: NETWORK_AND_PANEL,
    why: "a manual switchover: demote → VIP removed → promote → VIP added leaves no holder and no answer for ~40 ms; the panel's view follows",
  },
};

/**
 * Windows open this long before the fault: the prober dates "no answer" at the moment it sent the OPTIONS
 * that went unanswered (each waits up to 150 ms, one every 5 ms), which can be just before the fault that
 * lost it.
 */
export const WINDOW_LEAD_MS = 200;

export interface Window {
  fault: number;
  kind: FaultKind | "switchover";
  from: number;
  to: number;
  allowed: ViolationKind[];
}

export function windowsOf(faults: FaultRecord[], t: PairTimings): Window[] {
  return faults
    .filter((f) => !f.noop)
    .map((f) => {
      const rule = WINDOWS[f.kind];
      return { fault: f.seq, kind: f.kind, from: f.at - WINDOW_LEAD_MS, to: Math.max(f.at, f.recoveredAt) + rule.tailMs(t), allowed: rule.allowed };
    });
}

/** Sorted, merged union of intervals. */
export function union(iv: [number, number][]): [number, number][] {
  const s = iv.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** How much of [s, e] no interval of `cover` (a union) covers. */
export function uncovered(s: number, e: number, cover: [number, number][]): number {
  let covered = 0;
  for (const [a, b] of cover) covered += Math.max(0, Math.min(b, e) - Math.max(a, s));
  return Math.max(0, e - s - covered);
}

export interface Classified extends Violation {
  durationMs: number;
  expected: boolean;
  /** ms of it outside every window that allows its kind. */
  outsideMs: number;
  /** The windows (fault seq + kind) it overlaps. */
  during: string[];
}

export function classify(violations: Violation[], windows: Window[]): Classified[] {
  const cover = new Map<ViolationKind, [number, number][]>();
  for (const k of VIOLATION_KINDS) cover.set(k, union(windows.filter((w) => w.allowed.includes(k)).map((w) => [w.from, w.to])));
  return violations.map((v) => {
    const outsideMs = uncovered(v.start, v.end, cover.get(v.kind)!);
    const during = windows.filter((w) => w.from < v.end && w.to > v.start).map((w) => `#${w.fault} ${w.kind}`);
    return { ...v, durationMs: v.end - v.start, expected: outsideMs === 0, outsideMs, during };
  });
}

/**
 * The fault a violation is put down to: the latest fault (not a no-op) injected at or before its start
 * whose window is still open then; null when none is.
 */
export function attribute(v: { start: number }, faults: FaultRecord[], t: PairTimings): FaultRecord | null {
  let best: FaultRecord | null = null;
  for (const f of faults) {
    if (f.noop || f.at - WINDOW_LEAD_MS > v.start) continue;
    const to = Math.max(f.at, f.recoveredAt) + WINDOWS[f.kind].tailMs(t);
    if (to >= v.start && (!best || f.at > best.at)) best = f;
  }
  return best;
}

export interface ByFaultKind {
  count: number;
  noop: number;
  /** Longest "no SIP 200" and "not exactly one VIP holder" that began in a window of this kind (attribute()). */
  longestSipMs: number;
  longestVipMs: number;
}

export interface ChaosSummary {
  seed: number;
  minutes: number;
  startedAt: string;
  durationS: number;
  faultsByKind: Record<string, ByFaultKind>;
  /** panel_kill: restart times (start → /api/health ok), ms. */
  panelRestartMs: number[];
  violationsByKind: Record<ViolationKind, { expected: number; longestExpectedMs: number; unexpected: number; longestUnexpectedMs: number }>;
  longestWithoutSipAnswerMs: number;
  longestWithoutSipAnswerDuring: string[];
  operationsStuck: number;
  auditOk: boolean | null;
  auditDetail: string;
  unexpected: Classified[];
}

export function summarise(p: {
  seed: number;
  minutes: number;
  startedAt: number;
  endedAt: number;
  faults: FaultRecord[];
  classified: Classified[];
  operationsStuck: number;
  auditOk: boolean | null;
  auditDetail: string;
  timings: PairTimings;
}): ChaosSummary {
  const faultsByKind: Record<string, ByFaultKind> = {};
  for (const f of p.faults) {
    const k = (faultsByKind[f.kind] ??= { count: 0, noop: 0, longestSipMs: 0, longestVipMs: 0 });
    k.count++;
    if (f.noop) k.noop++;
  }
  for (const v of p.classified) {
    if (v.kind !== "sip_no_answer" && v.kind !== "vip_holders") continue;
    const f = attribute(v, p.faults, p.timings);
    if (!f) continue;
    const k = faultsByKind[f.kind]!;
    if (v.kind === "sip_no_answer") k.longestSipMs = Math.max(k.longestSipMs, Math.round(v.durationMs));
    else k.longestVipMs = Math.max(k.longestVipMs, Math.round(v.durationMs));
  }
  const violationsByKind = {} as ChaosSummary["violationsByKind"];
  for (const k of VIOLATION_KINDS) {
    const xs = p.classified.filter((v) => v.kind === k);
    const ex = xs.filter((v) => v.expected);
    const un = xs.filter((v) => !v.expected);
    violationsByKind[k] = {
      expected: ex.length,
      longestExpectedMs: Math.round(Math.max(0, ...ex.map((v) => v.durationMs))),
      unexpected: un.length,
      longestUnexpectedMs: Math.round(Math.max(0, ...un.map((v) => v.durationMs))),
    };
  }
  const sip = p.classified.filter((v) => v.kind === "sip_no_answer").sort((a, b) => b.durationMs - a.durationMs)[0];
  return {
    seed: p.seed,
    minutes: p.minutes,
    startedAt: new Date(p.startedAt).toISOString(),
    durationS: Math.round((p.endedAt - p.startedAt) / 100) / 10,
    faultsByKind,
    panelRestartMs: p.faults.filter((f) => f.restartMs !== undefined).map((f) => Math.round(f.restartMs!)),
    violationsByKind,
    longestWithoutSipAnswerMs: Math.round(sip?.durationMs ?? 0),
    longestWithoutSipAnswerDuring: sip?.during ?? [],
    operationsStuck: p.operationsStuck,
    auditOk: p.auditOk,
    auditDetail: p.auditDetail,
    unexpected: p.classified.filter((v) => !v.expected),
  };
}

/** The table (Markdown) printed at the end and written to <out>.md. */
export function table(s: ChaosSummary, t: PairTimings): string {
  const lines: string[] = [];
  lines.push(`Seed ${s.seed}, ${s.minutes} min asked, ${s.durationS} s run, started ${s.startedAt}; pair heartbeat ${t.heartbeatTimeoutMs} ms, grace ${t.disconnectGraceSeconds} s.`);
  lines.push("");
  lines.push("| fault | count | of which no-ops | longest without a SIP 200 in its window (ms) | longest not exactly one VIP holder (ms) | window closes after undo (ms) |");
  lines.push("|---|---|---|---|---|---|");
  const kinds = Object.entries(s.faultsByKind).sort(([a], [b]) => a.localeCompare(b));
  for (const [k, n] of kinds)
    lines.push(`| ${k} | ${n.count} | ${n.noop} | ${n.longestSipMs} | ${n.longestVipMs} | ${WINDOWS[k as keyof typeof WINDOWS]?.tailMs(t) ?? "?"} |`);
  lines.push(`| **total** | ${kinds.reduce((a, [, n]) => a + n.count, 0)} | ${kinds.reduce((a, [, n]) => a + n.noop, 0)} | | | |`);
  lines.push("");
  lines.push("| violation | inside a documented window | longest inside (ms) | outside every window | longest outside (ms) |");
  lines.push("|---|---|---|---|---|");
  for (const [k, v] of Object.entries(s.violationsByKind)) lines.push(`| ${k} | ${v.expected} | ${v.longestExpectedMs} | ${v.unexpected} | ${v.longestUnexpectedMs} |`);
  lines.push("");
  lines.push(`- Longest time without a SIP 200 through the VIP: ${s.longestWithoutSipAnswerMs} ms${s.longestWithoutSipAnswerDuring.length ? ` (during ${s.longestWithoutSipAnswerDuring.join(", ")})` : ""}`);
  lines.push(`- Operations stuck (running longer than the bound): ${s.operationsStuck}`);
  if (s.panelRestartMs.length) lines.push(`- Panel restarts (start → /api/health ok): ${s.panelRestartMs.join(", ")} ms`);
  lines.push(`- Audit chain at the end (GET /api/audit/verify): ${s.auditOk === null ? "not checked" : s.auditOk ? "ok" : "FAILED"}${s.auditDetail ? ` (${s.auditDetail})` : ""}`);
  if (s.unexpected.length) {
    lines.push("");
    lines.push("Violations outside the documented windows:");
    lines.push("");
    for (const v of s.unexpected)
      lines.push(`- ${new Date(v.start).toISOString()} ${v.kind} for ${Math.round(v.durationMs)} ms (${Math.round(v.outsideMs)} ms outside): ${v.detail}${v.during.length ? `; overlaps ${v.during.join(", ")}` : ""}`);
  }
  return lines.join("\n") + "\n";
}
