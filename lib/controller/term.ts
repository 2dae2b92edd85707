/**
 * One leadership term of the controller (the role of Genesys SCS): a new epoch gets a new Term, which
 * stops acting the moment leadership is lost. It wires the parts and runs the cycle:
 *
 *   observe.ts  agent links → each host's last snapshot            (Observer)
 *   tick.ts     pair world → decide → start at most one operation   (Cycle)
 *   operations.ts + steps/   the one start path and the step runner  (Operations)
 *   status.ts   views broadcast and persisted                       (StatusWriter)
 *   alarms.ts   wanted vs active alarms                             (AlarmBook)
 *
 * Hot path (no timers, no polling between a fault and the promote command): agent event → Observer →
 * changed(pair) → Cycle.tick → decide → Operations.start (one INSERT on the hot-path connection) →
 * app.setMode primary to the backup's agent. Views, status rows, audit rows and alarms follow it.
 */
import { DedicatedConnection } from "@/lib/db/connection";
import { isUnreachable } from "@/lib/db/errors";
import { loadControllerConfig } from "@/lib/queries/pairs";
import { loadPairStates } from "@/lib/queries/status";
import type { Logger } from "@/lib/log";
import type { PairView, Preflight } from "@/lib/views";
import { AlarmBook } from "./alarms";
import { hostAlarms } from "./decide";
import { effectivePair, emptyMemory, type HostCfg, type PairCfg, type PairMemory, type PairWorld, type StepRecord, updateMemory, waitAtMost } from "./model";
import { Observer, type Change } from "./observe";
import { Operations, type RequestResult } from "./operations";
import { computePreflight, SWITCHOVER, type OperatorRequest } from "./preflight";
import { StatusWriter } from "./status";
import { Cycle } from "./tick";
import { Topology } from "./topology";
import type { ControllerMetrics, MetricsSource } from "./metrics";
import { buildPairView, hostView } from "./view";
import type { Writes } from "./writes";

/** On takeover: how long to wait for the agents' snapshots before reconciling. */
export const SNAPSHOT_WAIT_MS = 3000;
/** A term that ends tells the agents not to fence for this long (or until a controller pings them again). */
const FENCE_HOLD_MS = 10 * 60_000;
/** A burst of configuration changes (a pair and its two servers) is reloaded once, this long after. */
const RELOAD_DEBOUNCE_MS = 100;

export type ControllerLog = Pick<Logger, "info" | "warn" | "error">;

export interface TermOptions {
  epoch: number;
  controllerId: string;
  /** The cluster's identity, sent in every handshake (agents bind to it). */
  clusterId?: string;
  /** An agent has seen an epoch at or above this term's: leadership moves the term above it. */
  onHigherEpoch?: (epoch: number) => void;
  log: ControllerLog;
  databaseUrl: string;
  /** The controller's records: to the database, or its journal while the database cannot be reached. */
  writes: Writes;
  now?: () => number;
  /** Injected by tests only: called after each finished step, with a way to wait for its records. */
  afterStep?: (step: StepRecord, settled: () => Promise<void>) => void | Promise<void>;
  /** The controller's metrics (operations finished, decision times). */
  metrics?: ControllerMetrics;
}

export class Term {
  readonly epoch: number;
  private readonly now: () => number;
  private readonly log: ControllerLog;
  private readonly topo = new Topology();
  private readonly memory = new Map<string, PairMemory>();
  private readonly hot: DedicatedConnection;
  private readonly statusConn: DedicatedConnection;
  private readonly observer: Observer;
  private readonly ops: Operations;
  private readonly status: StatusWriter;
  private readonly alarms: AlarmBook;
  private readonly cycle: Cycle;
  /** Pairs whose consequences of an acknowledgement or event are deferred a tick (see changedSoon). */
  private readonly deferred = new Set<string>();
  private reloadTimer: NodeJS.Timeout | null = null;
  /** Requests announced (pg_notify) before the term was ready: taken once it is (reconcile saw the older ones). */
  private early: string[] = [];
  private ready = false;
  private stopped = false;

  constructor(private readonly o: TermOptions) {
    this.epoch = o.epoch;
    this.now = o.now ?? Date.now;
    this.log = o.log;
    const onError = (what: string) => (err: unknown) => this.log.error(`controller: ${what} failed`, { err });
    this.hot = new DedicatedConnection("switchyard-controller-hot", (err) => this.log.warn("controller: hot-path connection lost (using the pool)", { err: (err as Error).message }));
    this.statusConn = new DedicatedConnection("switchyard-controller-status", (err) => this.log.warn("controller: status connection lost (using the pool)", { err: (err as Error).message }));
    this.observer = new Observer({
      controllerId: o.controllerId,
      epoch: o.epoch,
      clusterId: o.clusterId,
      log: o.log,
      now: this.now,
      onChange: (hostId, c) => this.observed(hostId, c),
      onHigherEpoch: (_hostId, epoch) => o.onHigherEpoch?.(epoch),
    });
    this.alarms = new AlarmBook(o.writes, onError("alarm update"));
    this.ops = new Operations({
      epoch: o.epoch,
      now: this.now,
      log: o.log,
      writes: o.writes,
      hot: this.hot.exec,
      world: (id) => this.world(id),
      preflight: (id, req, confirmMaintenance) => this.preflight(id, req, confirmMaintenance)!.preflight,
      command: (hostId, body) => this.observer.command(hostId, body),
      changed: (id) => this.changed(id),
      afterStep: o.afterStep,
      metrics: o.metrics,
    });
    this.status = new StatusWriter(
      { hosts: () => this.topo.hosts, pairs: () => this.topo.pairs, obs: (id) => this.observer.get(id), memory: (id) => this.memory.get(id) ?? emptyMemory() },
      // While the database cannot be reached the status rows wait in memory (the latest wins) and are
      // retried every second; the writes' journal has said so once already.
      { exec: this.statusConn.exec, writes: o.writes, epoch: o.epoch, now: this.now, onError: (err) => isUnreachable(err) || onError("status write")(err) },
    );
    this.cycle = new Cycle({
      epoch: o.epoch,
      now: this.now,
      log: o.log,
      writes: o.writes,
      ops: this.ops,
      alarms: this.alarms,
      world: (id) => this.world(id),
      ready: () => this.ready,
      publish: (id, reason) => this.publish(id, reason),
      metrics: o.metrics,
    });
  }

  /** What a metrics scrape reads (lib/controller/metrics.ts): the published pair views and the agent links. */
  metricsSource(): MetricsSource {
    return {
      epoch: this.epoch,
      views: () => this.status.views(),
      hosts: () => [...this.topo.hosts.values()].map((h) => hostView(h, this.observer.get(h.id))),
    };
  }

  async start(): Promise<void> {
    const conn = (c: DedicatedConnection, what: string) => c.open(this.o.databaseUrl).catch((err) => this.log.warn(`controller: no ${what} connection (using the pool)`, { err: (err as Error).message }));
    await Promise.all([conn(this.hot, "hot-path"), conn(this.statusConn, "status")]);
    // Records still in the journal (of an earlier term, or adopted from a controller killed during an
    // outage) go first: reconcile must see the operations they describe.
    await this.o.writes.flush();
    const [cfg, states] = await Promise.all([loadControllerConfig(), loadPairStates(), this.ops.load(), this.alarms.load()]);
    for (const s of states) {
      const m = (s.state as { memory?: Partial<PairMemory> } | null)?.memory;
      if (m) this.memory.set(s.pairId, { activeServerId: m.activeServerId ?? null, lastRunningMode: m.lastRunningMode ?? {} });
    }
    this.configure(cfg);
    await this.observer.waitForSnapshots(this.topo.hostsInUse(), SNAPSHOT_WAIT_MS);
    if (this.stopped) return;
    await this.ops.reconcile();
    this.ready = true;
    for (const id of this.topo.pairs.keys()) this.changed(id);
    this.syncHostAlarms();
    for (const id of this.early.splice(0)) this.onNotify("switchyard_operations", id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.cycle.stop();
    await this.observer.holdFencing(FENCE_HOLD_MS, 300);
    this.observer.close();
    await this.ops.stop();
    await this.status.stop();
    await waitAtMost(this.alarms.settled(), 2000);
    await Promise.all([this.hot.close(), this.statusConn.close()]);
  }

  // ---------------------------------------------------------------- configuration

  onNotify(channel: string, payload: string): void {
    if (this.stopped) return;
    if (channel === "switchyard_operations") {
      if (!this.ready) this.early.push(payload);
      else this.ops.onPendingNotify(payload).catch((err) => this.log.error("controller: could not start a requested operation", { err, operationId: payload }));
    }
    if (channel === "switchyard_config") {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), RELOAD_DEBOUNCE_MS);
    }
  }

  private configure(cfg: { hosts: HostCfg[]; pairs: PairCfg[] }): string[] {
    const changed = this.topo.apply(cfg);
    this.observer.configure(
      this.topo.hosts,
      (id) => this.topo.heartbeatFor(id),
      (id) => this.topo.fenceFor(id),
    );
    for (const id of [...this.memory.keys()]) {
      if (this.topo.pairs.has(id)) continue;
      this.memory.delete(id);
      this.cycle.forget(id);
    }
    this.status.prune();
    return changed;
  }

  /**
   * The database is back after the term ran without it: what it may have missed while away (configuration
   * changes, requests), as their notifications would have said.
   */
  resync(): void {
    if (this.stopped || !this.ready) return;
    void this.reload();
    this.ops.takePending().catch((err) => this.log.error("controller: could not take the requests made meanwhile", { err }));
  }

  private async reload() {
    try {
      const cfg = await loadControllerConfig();
      if (this.stopped) return;
      // Only the pairs whose configuration changed (or are new): O(changed), not O(all pairs), per reload.
      for (const id of this.configure(cfg)) this.changed(id);
      this.syncHostAlarms();
    } catch (err) {
      this.log.error("controller: configuration reload failed", { err });
    }
  }

  // ---------------------------------------------------------------- observations → pairs

  private observed(hostId: string, c: Change) {
    if (this.stopped) return;
    const host = this.topo.hosts.get(hostId);
    switch (c.kind) {
      case "beat":
        return this.status.beat(hostId);
      case "down":
        if (c.reason) this.log.warn("controller: agent disconnected", { host: host?.name, reason: c.reason });
        this.status.host(hostId, false);
        this.syncHostAlarms();
        for (const p of this.topo.pairsOfHost(hostId)) this.changed(p);
        return;
      case "snapshot": {
        if (c.connected) {
          this.log.info("controller: agent connected", { host: host?.name, bootId: c.next.bootId, restarted: c.prev ? c.prev.bootId !== c.next.bootId : null });
          this.syncHostAlarms();
        }
        const pairs = this.topo.pairsOfHost(hostId);
        this.status.modesChanged(hostId, c.prev, c.next, pairs);
        this.status.host(hostId, true);
        // An acknowledgement's snapshot: the model is updated at once (the runner and verify read it), its
        // consequences a tick later, so that the runner's next command goes out first.
        for (const p of pairs) c.fromAck ? this.changedSoon(p) : this.changed(p);
        return;
      }
      case "event": {
        const pairs = this.topo.pairsOfEvent(hostId, c.event);
        this.status.modesChanged(hostId, c.prev, c.next, pairs);
        this.status.host(hostId, true);
        // A pair with an operation running decides nothing new: its consequences wait a tick, so that an
        // event read in the same chunk as a command's acknowledgement never delays the next command.
        for (const p of pairs) this.ops.isRunning(p) ? this.changedSoon(p) : this.changed(p);
      }
    }
  }

  /** Something about the pair changed: remember, wake the operation's waits, tick. */
  private changed(pairId: string) {
    const w = this.world(pairId);
    if (!w || this.stopped) return;
    this.memory.set(pairId, updateMemory(w));
    this.ops.wake(pairId);
    this.cycle.tick(pairId);
  }

  private changedSoon(pairId: string) {
    if (this.deferred.has(pairId)) return;
    this.deferred.add(pairId);
    setImmediate(() => {
      this.deferred.delete(pairId);
      this.changed(pairId);
    });
  }

  private syncHostAlarms() {
    if (!this.ready) return;
    this.alarms.syncHosts([...this.topo.hosts.values()].flatMap((h) => hostAlarms(h, this.observer.get(h.id))));
  }

  // ---------------------------------------------------------------- the pair's world and view

  world(pairId: string): PairWorld | null {
    const pair = this.topo.pairs.get(pairId);
    if (!pair) return null;
    const hosts: PairWorld["hosts"] = {};
    for (const s of pair.servers) hosts[s.hostId] = this.observer.get(s.hostId);
    return {
      pair: effectivePair(pair, this.now()),
      hosts,
      memory: this.memory.get(pairId) ?? emptyMemory(),
      activeOp: this.ops.active(pairId),
      lastFinishedOp: this.ops.lastFinishedOf(pairId),
      lastAutoFailoverAt: this.ops.lastAutoFailoverOf(pairId),
    };
  }

  private view(w: PairWorld, statusReason: string): PairView {
    const a = w.activeOp;
    const operation = a ? { id: a.id, kind: a.kind, status: a.status, createdAt: new Date(a.createdAt).toISOString(), requestedBy: a.requestedBy } : null;
    const now = this.now();
    return buildPairView(w, { statusReason, operation, activeAlarms: this.alarms.countFor(w.pair.id), failovers: this.ops.failoversOf(w.pair.id, now), now });
  }

  private publish(pairId: string, reason: string) {
    const w = this.world(pairId);
    if (w) this.status.pair(this.view(w, reason));
  }

  // ---------------------------------------------------------------- what the web side asks (service.ts)

  /** Preflight of what a person asks (a switchover by default) from the live observed state; null when the pair is not controlled. */
  preflight(pairId: string, req: OperatorRequest = SWITCHOVER, confirmMaintenance = false): { pairName: string; preflight: Preflight } | null {
    const w = this.world(pairId);
    if (!w) return null;
    const active = this.ops.active(pairId);
    const now = this.now();
    const from = this.ops.lastAutoFailoverOf(pairId);
    const preflight = computePreflight(
      this.view(w, ""),
      {
        maintenance: w.pair.maintenance,
        autoFailover: w.pair.autoFailover,
        activeOperation: active ? { id: active.id, kind: active.kind } : null,
        // This term leads (the web side reaches it only once it is ready; reconcile asks while it starts).
        controllerActive: !this.stopped,
        holdDownUntil: from === null ? null : from + w.pair.holdDownSeconds * 1000,
        now,
        confirmMaintenance,
      },
      req,
    );
    return { pairName: w.pair.name, preflight };
  }

  request(pairId: string, req: { actor: string; reason: string | null; request: OperatorRequest; confirmMaintenance?: boolean }): Promise<RequestResult> {
    return this.ops.request(pairId, req);
  }

  /** The last published view of every configured pair (the live channel's snapshot on connect). */
  views(): PairView[] {
    return this.status.views();
  }
}
