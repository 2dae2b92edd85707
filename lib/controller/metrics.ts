/**
 * The controller's Prometheus metrics (prom-client), one registry per controller, in the controller's own
 * thread: what it knows best — each server's role and state, the VIP holder of each pair, its agent links,
 * the operations it ran, how long deciding took, its leadership and epoch, its event loop's lag. The web
 * side asks for the text over the controller channel and serves it with its own at GET /metrics
 * (lib/metrics.ts). Names follow Prometheus conventions: one `switchyard_` prefix, base units (seconds),
 * `_total` for counters; state as one series per possible value (1 for the current one), like the
 * ClusterLabs ha_cluster_exporter, so an alert is `switchyard_pair_status{status="not_serving"} == 1`.
 *
 * Gauges are read at scrape time from the term's current views (collect callbacks): nothing is kept twice.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { PAIR_HEALTHS, type HostView, type PairView } from "@/lib/views";
import { vipMovingMs } from "@/lib/operation-timing";
import type { OperationRecord } from "./model";

/** What a scrape reads from the leading term (null while standing by). */
export interface MetricsSource {
  epoch: number;
  views(): PairView[];
  hosts(): HostView[];
}

const PROCESS_STATES = ["starting", "running", "stopping", "stopped", "failed", "hung", "unknown"] as const;
/** Seconds: from a few milliseconds (a failover) to a minute (a stuck step's timeout). */
const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class ControllerMetrics {
  readonly registry = new Registry();
  private source: () => MetricsSource | null = () => null;
  private readonly operations: Counter<"kind" | "result">;
  private readonly duration: Histogram<"kind">;
  private readonly vipMove: Histogram<"kind">;
  private readonly decision: Histogram<"kind">;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    const r = [this.registry];
    const src = () => this.source();
    this.loop.enable();

    new Gauge({
      name: "switchyard_leader",
      help: "1 while this controller leads (holds the leader lock), else 0",
      registers: r,
      collect() {
        this.set(src() ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_controller_epoch",
      help: "The epoch (fencing token) of this controller's term; 0 while standing by",
      registers: r,
      collect() {
        this.set(src()?.epoch ?? 0);
      },
    });
    new Gauge({
      name: "switchyard_pair_status",
      help: "1 for the pair's current status (healthy, not_serving, failing_over, switching_over, split_brain, degraded, unknown), 0 for the others",
      labelNames: ["pair", "status"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? []) for (const s of PAIR_HEALTHS) this.set({ pair: v.name, status: s }, v.status === s ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_pair_maintenance",
      help: "1 while the pair is in maintenance (its flag or a current window): no automatic action",
      labelNames: ["pair"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? []) this.set({ pair: v.name }, v.maintenance ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_vip_holders",
      help: "How many hosts hold the pair's VIP (the invariant is exactly 1)",
      labelNames: ["pair", "vip"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? []) this.set({ pair: v.name, vip: v.vip.address }, v.vipHolder === "both" ? 2 : v.vipHolder ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_vip_holder",
      help: "1 for the host holding the pair's VIP",
      labelNames: ["pair", "host"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? []) for (const s of v.servers) this.set({ pair: v.name, host: s.hostName }, s.vip === "enabled" && s.agentConnected ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_server_primary",
      help: "1 while the server runs as primary, 0 otherwise (backup, stopped, unknown)",
      labelNames: ["pair", "server", "host"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? [])
          for (const s of v.servers) this.set({ pair: v.name, server: s.name, host: s.hostName }, s.mode === "primary" && s.processState === "running" ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_server_state",
      help: "1 for the server's current process state as its agent reports it, 0 for the others",
      labelNames: ["pair", "server", "host", "state"],
      registers: r,
      collect() {
        this.reset();
        for (const v of src()?.views() ?? [])
          for (const s of v.servers) for (const st of PROCESS_STATES) this.set({ pair: v.name, server: s.name, host: s.hostName, state: st }, s.processState === st ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_up",
      help: "1 while the controller's link to the host's agent is up",
      labelNames: ["host"],
      registers: r,
      collect() {
        this.reset();
        for (const h of src()?.hosts() ?? []) this.set({ host: h.name }, h.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_rtt_seconds",
      help: "Round-trip time of the last heartbeat on the link to the host's agent",
      labelNames: ["host"],
      registers: r,
      collect() {
        this.reset();
        for (const h of src()?.hosts() ?? []) if (h.connected && h.rttMs !== null) this.set({ host: h.name }, h.rttMs / 1000);
      },
    });
    this.operations = new Counter({
      name: "switchyard_operations_total",
      help: "Operations finished by this controller, by kind and result (succeeded, failed)",
      labelNames: ["kind", "result"],
      registers: r,
    });
    this.duration = new Histogram({
      name: "switchyard_operation_duration_seconds",
      help: "From an operation's creation to its end",
      labelNames: ["kind"],
      buckets: OPERATION_BUCKETS,
      registers: r,
    });
    this.vipMove = new Histogram({
      name: "switchyard_vip_move_seconds",
      help: "The time the VIP was moving in an operation: from the first step that takes it away to the end of the step that enabled it where it stays",
      labelNames: ["kind"],
      buckets: OPERATION_BUCKETS,
      registers: r,
    });
    this.decision = new Histogram({
      name: "switchyard_decision_seconds",
      help: "From the observation that made the controller act to its operation's first command on the wire (deciding and recording)",
      labelNames: ["kind"],
      buckets: DECISION_BUCKETS,
      registers: r,
    });
    const loop = this.loop;
    new Gauge({
      name: "switchyard_controller_event_loop_lag_seconds",
      help: "The controller thread's event loop delay since the last scrape (p99); its own thread: the web server's load does not show here",
      registers: r,
      collect() {
        this.set(loop.count > 0 ? loop.percentile(99) / 1e9 : 0);
        loop.reset();
      },
    });
  }

  /** The leading term (or null while standing by): gauges read it at scrape time. */
  setSource(source: () => MetricsSource | null) {
    this.source = source;
  }

  operationFinished(op: OperationRecord, status: "succeeded" | "failed", finishedAt: number) {
    this.operations.inc({ kind: op.kind, result: status });
    this.duration.observe({ kind: op.kind }, Math.max(0, finishedAt - op.createdAt) / 1000);
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const moving = vipMovingMs(op.steps.map((s) => ({ seq: s.seq, action: s.action, status: s.status, startedAt: iso(s.startedAt), finishedAt: iso(s.finishedAt) })));
    if (moving !== null) this.vipMove.observe({ kind: op.kind }, moving / 1000);
  }

  decided(kind: string, seconds: number) {
    this.decision.observe({ kind }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close() {
    this.loop.disable();
  }
}
