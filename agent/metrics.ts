/**
 * The agent's Prometheus metrics (prom-client), served by GET /metrics on its own listener
 * (`metrics.listen` in the agent's configuration; no authentication: bind it to a management address).
 * What only the host knows: each application's state, mode and restarts, its health probes, the processes
 * ended after a forking server died, every VIP action and its duration, the gratuitous ARPs sent, and the
 * link to its controller. docs/agent.md lists the series.
 *
 * Gauges are read from the agent's snapshot at scrape time; counters follow the runs and events as they
 * happen (a VIP run is counted where it is recorded, also the ones sent in a command's acknowledgement).
 */
import http from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { collectRuntimeMetrics } from "../lib/runtime-metrics";
import type { AgentEvent, AgentSnapshot, DriverRun } from "../protocol/agent";

const STATES = ["starting", "running", "stopping", "stopped", "failed", "hung"] as const;
const VIP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export interface AgentMetricsSource {
  snapshot(): AgentSnapshot;
  /** A controller is connected (and pinging). */
  controllerConnected(): boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly vipActions: Counter<"vip" | "action" | "result">;
  private readonly vipDuration: Histogram<"vip" | "action">;
  private readonly garp: Counter<"vip">;
  private readonly probes: Counter<"app" | "result">;
  private readonly ended: Counter<"app">;
  private readonly restarts: Counter<"app">;
  private readonly restartsSeen = new Map<string, number>();

  constructor(private readonly src: AgentMetricsSource) {
    const r = [this.registry];
    collectRuntimeMetrics(this.registry);
    const snap = () => this.src.snapshot();
    const self = this;

    new Gauge({
      name: "switchyard_agent_app_state",
      help: "1 for the application's current process state, 0 for the others",
      labelNames: ["app", "state"],
      registers: r,
      collect() {
        this.reset();
        for (const a of snap().apps) for (const s of STATES) this.set({ app: a.name, state: s }, a.state === s ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_app_primary",
      help: "1 while the application runs in primary mode",
      labelNames: ["app"],
      registers: r,
      collect() {
        this.reset();
        for (const a of snap().apps) this.set({ app: a.name }, a.state === "running" && a.mode === "primary" ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_app_crash_loop",
      help: "1 while the agent has stopped restarting the application (crash loop)",
      labelNames: ["app"],
      registers: r,
      collect() {
        this.reset();
        for (const a of snap().apps) this.set({ app: a.name }, a.crashLoop ? 1 : 0);
      },
    });
    this.restarts = new Counter({
      name: "switchyard_agent_app_restarts_total",
      help: "Restarts of the application after a failure, by this agent process",
      labelNames: ["app"],
      registers: r,
      collect() {
        // The snapshot's count only grows within an agent process: add what is new since the last scrape.
        for (const a of snap().apps) {
          const seen = self.restartsSeen.get(a.name) ?? 0;
          if (a.restarts > seen) this.inc({ app: a.name }, a.restarts - seen);
          else this.inc({ app: a.name }, 0);
          self.restartsSeen.set(a.name, Math.max(seen, a.restarts));
        }
      },
    });
    this.probes = new Counter({ name: "switchyard_agent_probes_total", help: "Health probes of the application, by result (ok, failed)", labelNames: ["app", "result"], registers: r });
    this.ended = new Counter({
      name: "switchyard_agent_processes_ended_total",
      help: "Processes of an application ended (or reported) after its main process was gone: a forking server's workers",
      labelNames: ["app"],
      registers: r,
    });
    new Gauge({
      name: "switchyard_agent_vip_enabled",
      help: "1 while the VIP is enabled on this host (as observed)",
      labelNames: ["vip", "address"],
      registers: r,
      collect() {
        this.reset();
        for (const v of snap().vips) this.set({ vip: v.name, address: v.address }, v.observed === "enabled" ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_vip_duplicate",
      help: "1 while another machine answers for the VIP (duplicate address detection)",
      labelNames: ["vip"],
      registers: r,
      collect() {
        this.reset();
        for (const v of snap().vips) this.set({ vip: v.name }, v.duplicate.detected ? 1 : 0);
      },
    });
    this.vipActions = new Counter({
      name: "switchyard_agent_vip_actions_total",
      help: "VIP driver runs by action (enable, disable, arp, dad, status) and result (ok, failed)",
      labelNames: ["vip", "action", "result"],
      registers: r,
    });
    this.vipDuration = new Histogram({ name: "switchyard_agent_vip_action_duration_seconds", help: "Duration of VIP driver runs", labelNames: ["vip", "action"], buckets: VIP_BUCKETS, registers: r });
    this.garp = new Counter({ name: "switchyard_agent_gratuitous_arp_total", help: "Gratuitous ARPs sent for the VIP (an announcement sends garp.count of them, each kind with garp.mode both)", labelNames: ["vip"], registers: r });
    new Gauge({
      name: "switchyard_agent_controller_connected",
      help: "1 while a controller is connected to this agent",
      registers: r,
      collect() {
        this.set(self.src.controllerConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: "switchyard_agent_epoch",
      help: "The highest controller epoch this agent has seen (it refuses commands of lower ones)",
      registers: r,
      collect() {
        this.set(snap().epoch);
      },
    });
  }

  /**
   * A VIP driver run: `recorded`, an action's run (enable, disable, the burst's first ARP on its way, dad …),
   * counted with its duration; `sent`, one gratuitous ARP of a burst, sent (each is one `arping -c 1`).
   */
  vipRun(vip: string, run: DriverRun, how: "recorded" | "sent") {
    if (run.kind !== "vip") return;
    if (how === "sent") {
      if (run.action === "arp" && run.ok) this.garp.inc({ vip });
      return;
    }
    this.vipActions.inc({ vip, action: run.action, result: run.ok ? "ok" : "failed" });
    this.vipDuration.observe({ vip, action: run.action }, run.durationMs / 1000);
  }

  probe(app: string, ok: boolean) {
    this.probes.inc({ app, result: ok ? "ok" : "failed" });
  }

  event(e: AgentEvent) {
    if (e.type === "app.group") this.ended.inc({ app: e.app }, e.cleanup.count);
  }

  /** GET /metrics on host:port (nothing else is served there). */
  async listen(host: string, port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if ((req.url ?? "").split("?")[0] !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : text),
        () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed\n"),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
