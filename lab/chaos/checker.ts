/**
 * The fault campaign's checker: watches the invariant continuously and records every interval in which a
 * part of it does not hold (lab/chaos/analysis.ts classifies them against the fault windows).
 *
 * - VIP holders: `ip -n <ns> monitor address` in both host namespaces (netlink events, read the moment the
 *   kernel adds or removes the address), re-read with `ip addr` every second in case an event is missed.
 * - SIP: the lab's prober (lab/probe.ts watch) in the client namespace, a fresh OPTIONS to the VIP every
 *   5 ms (each waits for its answer, at most 150 ms), over a connected UDP socket (the answer must come
 *   from the VIP); it prints each change of answer ("host1 200", "no answer", ...).
 * - The panel: GET /api/pairs/:id every 100 ms (timeout 1 s): the view's primary, its operation.
 *
 * The invariant is re-evaluated on every event and every 5 ms. Kinds: vip_holders (not exactly one),
 * sip_no_answer (the latest probe got no 200), panel_disagrees (the panel's primary is not the VIP holder,
 * or not the host answering), panel_unreachable (the API did not answer with a view), operation_stuck (the
 * same operation running longer than the bound).
 */
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { PanelApi } from "../api";
import { exec, now, REPO, sleep, type HostNode, type Lab } from "../harness";
import type { Violation, ViolationKind } from "./analysis";

export interface CheckerOptions {
  lab: Lab;
  panelUrl: string;
  token: string;
  pairId: string;
  stuckAfterMs: number;
  log?: (line: string) => void;
}

interface Open {
  start: number;
  detail: string;
}

export class Checker {
  holders = new Set<HostNode>();
  sip: { answer: string; since: number } = { answer: "unknown", since: now() };
  panel: { ok: boolean; primary: string | null; status: string; op: { id: string; kind: string; status: string } | null; detail: string } = {
    ok: false,
    primary: null,
    status: "unknown",
    op: null,
    detail: "not polled yet",
  };
  /** operation id → first seen running. */
  private opsSeen = new Map<string, number>();
  stuckOps = new Set<string>();
  readonly violations: Violation[] = [];
  private open = new Map<ViolationKind, Open>();
  private procs: ChildProcess[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private api: PanelApi;
  /** Counts, for the progress lines. */
  sipChanges = 0;
  vipEvents = 0;
  panelPolls = 0;

  constructor(private readonly o: CheckerOptions) {
    this.api = new PanelApi(o.panelUrl);
    this.api.useToken(o.token);
    this.api.timeoutMs = 1000;
  }

  async start(): Promise<void> {
    const { lab } = this.o;
    const vip = lab.addr.vip;
    for (const h of ["host1", "host2"] as const) {
      const p = lab.spawnIn(h, "ip", ["monitor", "address"], { pipe: true });
      this.procs.push(p);
      createInterface({ input: p.stdout! }).on("line", (line) => {
        if (!line.includes(` ${vip}/`)) return;
        this.vipEvents++;
        if (line.startsWith("Deleted")) this.holders.delete(h);
        else this.holders.add(h);
        this.evaluate();
      });
    }
    await sleep(100); // the monitors listen before the first snapshot
    await this.reconcileVip();
    const watch = lab.spawnIn(
      "client",
      process.execPath,
      ["--import", "tsx", path.join(REPO, "lab", "probe.ts"), "watch", "--target", `${vip}:5060`, "--bind", lab.addr.client, "--interval", "5", "--timeout", "150", "--max-ms", "86400000"],
      { pipe: true },
    );
    this.procs.push(watch);
    createInterface({ input: watch.stdout! }).on("line", (line) => {
      try {
        const e = JSON.parse(line) as { at: string; answer: string };
        this.sipChanges++;
        this.sip = { answer: e.answer, since: Date.parse(e.at) };
        this.evaluate(Date.parse(e.at));
      } catch {
        /* not a watch line */
      }
    });
    this.timers.push(setInterval(() => void this.reconcileVip(), 1000));
    this.timers.push(setInterval(() => this.evaluate(), 5));
    void this.pollPanel();
  }

  private reconciled = false;

  private async reconcileVip(): Promise<void> {
    if (this.stopped) return;
    const events = this.vipEvents;
    const h = await this.o.lab.vipHolders().catch(() => null);
    // An event that arrived while `ip addr` ran is newer than the snapshot: keep it.
    if (!h || this.stopped || this.vipEvents !== events) return;
    const before = [...this.holders].sort().join();
    if (h.join() !== before) {
      if (this.reconciled) this.o.log?.(`checker: VIP holders re-read [${h.join(", ")}] (events said [${before}])`);
      this.holders = new Set(h);
      this.evaluate();
    }
    this.reconciled = true;
  }

  private async pollPanel(): Promise<void> {
    while (!this.stopped) {
      const t = now();
      try {
        const r = await this.api.request<{ pair?: { view?: { status: string; statusReason: string; servers: { hostName: string; mode: string }[]; operation: { id: string; kind: string; status: string; createdAt: string } | null } | null } }>(
          "GET",
          `/api/pairs/${this.o.pairId}`,
        );
        const view = r.body?.pair?.view;
        if (r.status !== 200 || !view) this.panel = { ok: false, primary: null, status: "unknown", op: null, detail: `answered ${r.status}${view === null ? " without a view" : ""}` };
        else {
          const primaries = view.servers.filter((s) => s.mode === "primary").map((s) => s.hostName);
          this.panel = {
            ok: true,
            primary: primaries.length === 1 ? primaries[0]! : null,
            status: view.status,
            op: view.operation,
            detail: `${view.status} (${view.statusReason}), primary ${primaries.join("+") || "none"}`,
          };
          this.trackOperation(view.operation, now());
        }
      } catch (e) {
        this.panel = { ok: false, primary: null, status: "unknown", op: null, detail: (e as Error).message };
      }
      this.panelPolls++;
      this.evaluate();
      const wait = 100 - (now() - t);
      if (wait > 0) await sleep(wait);
    }
  }

  private trackOperation(op: { id: string; kind: string; status: string; createdAt?: string } | null, t: number): void {
    if (op && (op.status === "running" || op.status === "pending")) {
      // Its age from its creation (same machine, same clock), so that a restart of the panel does not reset it.
      if (!this.opsSeen.has(op.id)) this.opsSeen.set(op.id, Math.min(t, op.createdAt ? Date.parse(op.createdAt) : t));
    }
    for (const [id] of this.opsSeen) if (!op || op.id !== id || (op.status !== "running" && op.status !== "pending")) this.opsSeen.delete(id);
  }

  /** The kinds that do not hold right now, with what was seen. */
  current(t: number): Map<ViolationKind, string> {
    const out = new Map<ViolationKind, string>();
    const holders = [...this.holders].sort();
    if (holders.length !== 1) out.set("vip_holders", `VIP on [${holders.join(", ")}]`);
    const m = /^(\S+) (\d+)$/.exec(this.sip.answer);
    const sipHost = m && m[2] === "200" ? m[1]! : null;
    if (!sipHost) out.set("sip_no_answer", `SIP: ${this.sip.answer}`);
    if (!this.panel.ok) out.set("panel_unreachable", `panel: ${this.panel.detail}`);
    else if (holders.length === 1 && (this.panel.primary !== holders[0] || (sipHost !== null && sipHost !== this.panel.primary)))
      out.set("panel_disagrees", `panel: ${this.panel.detail}; VIP on ${holders[0]}; SIP: ${this.sip.answer}`);
    for (const [id, since] of this.opsSeen)
      if (t - since > this.o.stuckAfterMs) {
        out.set("operation_stuck", `operation ${id} (${this.panel.op?.kind ?? "?"}) running for ${Math.round(t - since)} ms`);
        if (!this.stuckOps.has(id)) {
          this.stuckOps.add(id);
          this.o.log?.(`checker: operation ${id} (${this.panel.op?.kind}) running for more than ${this.o.stuckAfterMs} ms`);
        }
      }
    return out;
  }

  evaluate(t = now()): void {
    if (this.stopped) return;
    const cur = this.current(t);
    for (const [k, detail] of cur) if (!this.open.has(k)) this.open.set(k, { start: t, detail });
    for (const [k, o] of this.open)
      if (!cur.has(k)) {
        this.violations.push({ kind: k, start: o.start, end: t, detail: o.detail });
        this.open.delete(k);
      }
  }

  /** True when every part of the invariant holds (and the panel shows no running operation). */
  steady(): boolean {
    const op = this.panel.op;
    return this.current(now()).size === 0 && (!op || (op.status !== "running" && op.status !== "pending"));
  }

  async stop(): Promise<Violation[]> {
    const t = now();
    this.evaluate(t);
    this.stopped = true;
    for (const x of this.timers) clearInterval(x);
    for (const p of this.procs) p.kill("SIGTERM");
    for (const [k, o] of this.open) this.violations.push({ kind: k, start: o.start, end: t, detail: `${o.detail} (still open at the end)` });
    this.open.clear();
    await exec("true", []);
    return this.violations.sort((a, b) => a.start - b.start);
  }
}
