/**
 * The active controller's term: agent links, observed state, decisions, operations, alarms, status.
 * One instance per leadership term (a new epoch gets a new ActiveController); it stops acting the moment
 * leadership is lost.
 *
 * Hot path (no timers, no polling between a fault and the promote command):
 *   agent event → apply to the host's snapshot → decide(pair) → Operation row + planned steps (one
 *   transaction) → app.setMode primary to the backup's agent. Step results, audit rows, PairStatus and
 *   HostStatus are written after, in order, never in front of the next command.
 */
import { randomUUID } from "node:crypto";
import type { AgentEvent, AgentSnapshot } from "../../protocol/agent";
import { db } from "@/lib/db";
import { publishHostState, publishPairState } from "@/lib/realtime/publish";
import type { HostView, PairView } from "@/lib/views";
import { type AlarmSpec, alarmKey, decide, hostAlarms } from "./decide";
import { AgentLink } from "./link";
import {
  type ActiveOp,
  type FinishedOp,
  type HostCfg,
  type HostObs,
  type PairCfg,
  type PairMemory,
  type PairWorld,
  emptyMemory,
  serverStates,
  updateMemory,
} from "./model";
import { planSteps } from "./plan";
import { computePreflight, describeFailedChecks, withRequestedTarget } from "./preflight";
import { type RunnableOp, type StepRecord, describeState, runOperation } from "./runner";
import * as store from "./store";
import { buildPairView, stateSummary } from "./view";
import type { LocalController, LocalPreflight, LocalSwitchoverResult } from "./local";

export interface CtlLog {
  info(msg: string, f?: object): void;
  warn(msg: string, f?: object): void;
  error(msg: string, f?: object): void;
}

export const VERIFY_TIMEOUT_MS = 3000;
/** On takeover: how long to wait for the agents' snapshots before reconciling. */
export const SNAPSHOT_WAIT_MS = 3000;
/** A switchover request not started within this long after it was made is refused at takeover. */
export const STALE_REQUEST_MS = 60_000;
const PERSIST_DELAY_MS = 50;
/** A heartbeat (lastHeartbeatAt, rttMs) is persisted and re-broadcast at most this often per host. */
export const HEARTBEAT_REFRESH_MS = 5000;
/** Status rows per statement in persist(). */
export const PERSIST_CHUNK = 100;
/** After a failed status write, the retry waits this long (the items stay dirty). */
const PERSIST_RETRY_MS = 1000;

interface Running {
  op: store.LoadedOp;
  recorder: store.OperationRecorder;
  done: Promise<void>;
}

interface Waiter {
  pairId: string;
  pred: (w: PairWorld) => boolean;
  resolve: (ok: boolean) => void;
}

interface ModeChange {
  pairId: string;
  serverId: string;
  serverName: string;
  hostName: string;
  mode: "primary" | "backup";
}

function applyEvent(s: AgentSnapshot, e: AgentEvent): AgentSnapshot {
  if (e.seq <= s.seq) return s;
  const apps = s.apps.map((a) => {
    if (!("app" in e) || e.app !== a.name) return a;
    switch (e.type) {
      case "app.state":
        return { ...a, state: e.state, pid: e.pid, lastExit: e.exit ?? a.lastExit };
      case "app.mode":
        return { ...a, mode: e.mode };
      case "app.health":
        return { ...a, health: e.health };
      case "app.crashloop":
        return { ...a, crashLoop: true, restarts: e.restarts };
    }
    return a;
  });
  const vips = s.vips.map((v) => {
    if (!("vip" in e) || e.vip !== v.name) return v;
    switch (e.type) {
      case "vip.state":
        return { ...v, observed: e.observed, desired: e.desired };
      case "vip.run":
        return { ...v, lastRun: e.run };
      case "vip.duplicate":
        return { ...v, duplicate: { detected: true, mac: e.mac, at: e.at }, lastRun: e.run ?? v.lastRun };
    }
    return v;
  });
  return { ...s, seq: e.seq, at: e.at, apps, vips };
}

export class ActiveController {
  private hosts = new Map<string, HostCfg>();
  private pairs = new Map<string, PairCfg>();
  private obs = new Map<string, HostObs>();
  private links = new Map<string, AgentLink>();
  private memory = new Map<string, PairMemory>();
  private running = new Map<string, Running>();
  /** Pairs whose operation is being created (between the decision or request and the row): its id and kind. */
  private starting = new Map<string, { id: string; kind: ActiveOp["kind"]; requestedBy: string }>();
  /** Operation ids this term created or claimed itself: their notifications need no query. */
  private known = new Set<string>();
  /** Pairs with an agent acknowledgement whose consequences (publish, decide) are deferred a tick. */
  private deferred = new Set<string>();
  private lastFinished = new Map<string, FinishedOp>();
  private activeAlarms = new Map<string, { id: string; pairId: string | null }>();
  private waiters = new Set<Waiter>();
  private wake = new Map<string, NodeJS.Timeout>();
  private lastNote = new Map<string, string>();
  private lastReason = new Map<string, string>();
  private pendingModes: ModeChange[] = [];
  private dirtyPairs = new Set<string>();
  private dirtyHosts = new Set<string>();
  /** Hosts whose snapshot changed since their HostStatus row was last written (else a heartbeat-only update). */
  private dirtySnapshots = new Set<string>();
  /** Hosts with a full HostStatus row written in this term. */
  private hostWritten = new Set<string>();
  private hostPersistedAt = new Map<string, number>();
  /** Per host: key of the last broadcast host:state (without heartbeat/RTT) and when it went out. */
  private hostPublished = new Map<string, { key: string; at: number }>();
  /** Per pair: the last published view and its comparison keys (without updatedAt / heartbeat times). */
  private published = new Map<string, { view: PairView; key: string; memoryKey: string }>();
  /** hostId -> ids of the pairs with a server on it (rebuilt with the configuration). */
  private hostPairs = new Map<string, string[]>();
  private persistTimer: NodeJS.Timeout | null = null;
  private alarmChain: Promise<void> = Promise.resolve();
  private persistChain: Promise<void> = Promise.resolve();
  private ready = false;
  private stopped = false;
  private reloadTimer: NodeJS.Timeout | null = null;
  /** For the term's hot-path connection (defaults to DATABASE_URL). */
  databaseUrl: string | null = null;
  private readonly hot = new store.HotConnection((err) => this.log.warn("controller: hot-path connection lost (using the pool)", { err: (err as Error).message }));
  /** The term's own connection for status persistence: never competes with the pool (API, operation records). */
  private readonly statusConn = new store.HotConnection((err) => this.log.warn("controller: status connection lost (using the pool)", { err: (err as Error).message }), "switchyard-controller-status");

  constructor(
    readonly epoch: number,
    private readonly controllerId: string,
    private readonly log: CtlLog,
    private readonly now: () => number = Date.now,
  ) {}

  // ---------------------------------------------------------------- start, stop, configuration

  async start(): Promise<void> {
    const url = this.databaseUrl ?? process.env.DATABASE_URL;
    if (url) await this.hot.open(url).catch((err) => this.log.warn("controller: no hot-path connection (using the pool)", { err: (err as Error).message }));
    if (url) await this.statusConn.open(url).catch((err) => this.log.warn("controller: no status connection (using the pool)", { err: (err as Error).message }));
    const [cfg, statuses, lastFinished, alarms] = await Promise.all([
      store.loadConfig(),
      db.pairStatus.findMany(),
      store.loadLastFinished(),
      store.loadActiveAlarmKeys(),
    ]);
    for (const s of statuses) {
      const mem = (s.state as { memory?: PairMemory } | null)?.memory;
      if (mem) this.memory.set(s.pairId, { ...emptyMemory(), ...mem });
    }
    this.lastFinished = lastFinished;
    this.activeAlarms = alarms;
    this.applyConfig(cfg);
    await this.waitForSnapshots(SNAPSHOT_WAIT_MS);
    if (this.stopped) return;
    await this.reconcile();
    this.ready = true;
    for (const id of this.pairs.keys()) this.evaluate(id);
    this.syncHostAlarms();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.wake.values()) clearTimeout(t);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
    // Let queued writes finish (bounded); running operations stop at their next command (links closed).
    await Promise.race([Promise.all([...this.running.values()].map((r) => r.done)), new Promise((r) => setTimeout(r, 3000))]);
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      await this.persist();
    }
    await Promise.race([Promise.all([this.alarmChain, this.persistChain]), new Promise((r) => setTimeout(r, 2000))]);
    await this.hot.close();
    await this.statusConn.close();
  }

  onNotify(channel: string, payload: string): void {
    if (this.stopped) return;
    if (channel === "switchyard_operations") void this.onOperationNotify(payload);
    if (channel === "switchyard_config") {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      // Coalesce a burst of changes (a pair and its two servers) into one reload.
      this.reloadTimer = setTimeout(() => void this.reload(), 100);
    }
  }

  private async reload() {
    try {
      const cfg = await store.loadConfig();
      if (this.stopped) return;
      const before = this.pairs;
      this.applyConfig(cfg);
      // Only the pairs whose configuration changed (or are new): O(changed), not O(all pairs), per reload.
      for (const [id, p] of this.pairs) {
        const old = before.get(id);
        if (!old || JSON.stringify(old) !== JSON.stringify(p)) this.changed(id);
      }
      this.syncHostAlarms();
    } catch (err) {
      this.log.error("controller: configuration reload failed", { err });
    }
  }

  private heartbeatFor(hostId: string): number {
    let ms = Infinity;
    for (const id of this.hostPairs.get(hostId) ?? []) ms = Math.min(ms, this.pairs.get(id)?.heartbeatTimeoutMs ?? Infinity);
    return Number.isFinite(ms) ? ms : 1500;
  }

  private applyConfig(cfg: { hosts: HostCfg[]; pairs: PairCfg[] }) {
    const nextHosts = new Map(cfg.hosts.map((h) => [h.id, h]));
    this.pairs = new Map(cfg.pairs.map((p) => [p.id, p]));
    this.hostPairs = new Map();
    for (const p of cfg.pairs) {
      for (const hostId of new Set(p.servers.map((s) => s.hostId))) {
        const list = this.hostPairs.get(hostId);
        if (list) list.push(p.id);
        else this.hostPairs.set(hostId, [p.id]);
      }
    }
    for (const [id, link] of this.links) {
      const h = nextHosts.get(id);
      if (!h || h.agentUrl !== link.host.agentUrl || h.agentToken !== link.host.agentToken) {
        link.close();
        this.links.delete(id);
        if (!h) this.obs.delete(id);
      }
    }
    this.hosts = nextHosts;
    for (const h of this.hosts.values()) {
      const existing = this.links.get(h.id);
      if (existing) {
        existing.setHeartbeatTimeout(this.heartbeatFor(h.id));
        continue;
      }
      if (!this.obs.has(h.id))
        this.obs.set(h.id, { hostId: h.id, connected: false, connectedAt: null, disconnectedAt: null, lastHeartbeatAt: null, rttMs: null, snapshot: null });
      this.openLink(h);
    }
    for (const id of this.memory.keys()) if (!this.pairs.has(id)) this.memory.delete(id);
    for (const id of this.published.keys()) if (!this.pairs.has(id)) this.published.delete(id);
    for (const id of this.dirtyPairs) if (!this.pairs.has(id)) this.dirtyPairs.delete(id);
    for (const id of [...this.hostPublished.keys()]) {
      if (this.hosts.has(id)) continue;
      this.hostPublished.delete(id);
      this.hostPersistedAt.delete(id);
      this.hostWritten.delete(id);
      this.dirtyHosts.delete(id);
      this.dirtySnapshots.delete(id);
    }
  }

  private openLink(h: HostCfg) {
    const link = new AgentLink(h, { controllerId: this.controllerId, epoch: this.epoch, heartbeatTimeoutMs: this.heartbeatFor(h.id), log: this.log });
    this.links.set(h.id, link);
    link.on("snapshot", (s) => this.onSnapshot(h.id, s));
    link.on("ackSnapshot", (s) => this.onSnapshot(h.id, s, true));
    link.on("event", (e) => this.onEvent(h.id, e));
    link.on("pong", (rtt) => {
      const o = this.obs.get(h.id);
      if (!o) return;
      const now = this.now();
      o.lastHeartbeatAt = now;
      o.rttMs = rtt;
      // In memory at once (decisions read it); persisted and re-broadcast at most every HEARTBEAT_REFRESH_MS.
      if (now - (this.hostPersistedAt.get(h.id) ?? 0) >= HEARTBEAT_REFRESH_MS) {
        this.hostPersistedAt.set(h.id, now);
        this.dirtyHosts.add(h.id);
        this.schedulePersist();
      }
    });
    link.on("down", (reason) => this.onDown(h.id, reason));
    link.on("staleEpoch", (highest) => this.log.warn("controller: agent refused our epoch (a newer controller exists)", { host: h.name, epoch: this.epoch, highest }));
    link.start();
  }

  private waitForSnapshots(ms: number): Promise<void> {
    const needed = () => [...this.pairs.values()].flatMap((p) => p.servers.map((s) => s.hostId)).filter((id) => !this.obs.get(id)?.snapshot);
    if (needed().length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const iv = setInterval(() => {
        // Also give up on hosts that already failed to connect once: they are down, not slow.
        const missing = needed().filter((id) => this.obs.get(id)?.disconnectedAt === null);
        if (missing.length === 0) done();
      }, 25);
      function done() {
        clearTimeout(t);
        clearInterval(iv);
        resolve();
      }
    });
  }

  // ---------------------------------------------------------------- observations

  private pairsOfHost(hostId: string): string[] {
    return this.hostPairs.get(hostId) ?? [];
  }

  /** The pairs an event can change: those running the event's app on that host (any event without an app: all of the host's). */
  private pairsOfEvent(hostId: string, e: AgentEvent): string[] {
    const all = this.pairsOfHost(hostId);
    if (!("app" in e) || typeof e.app !== "string") return all;
    return all.filter((id) => this.pairs.get(id)?.servers.some((s) => s.hostId === hostId && s.appName === e.app));
  }

  /**
   * `fromAck`: the snapshot of a command's acknowledgement. The model is updated at once (the runner and
   * verify read it), but the consequences (waiters, decide, broadcast, persistence) run a tick later, so
   * that the runner's next command goes out first.
   */
  private onSnapshot(hostId: string, s: AgentSnapshot, fromAck = false) {
    const o = this.obs.get(hostId);
    if (!o || this.stopped) return;
    const prev = o.snapshot;
    if (!o.connected) {
      o.connected = true;
      o.connectedAt = this.now();
      o.lastHeartbeatAt = this.now();
      this.log.info("controller: agent connected", { host: this.hosts.get(hostId)?.name, bootId: s.bootId, restarted: prev ? prev.bootId !== s.bootId : null });
      this.syncHostAlarms();
    } else if (prev && prev.bootId === s.bootId && s.seq < prev.seq) {
      return; // an older snapshot (an ack that crossed an event): keep the newer state
    }
    o.snapshot = s;
    this.noteModes(hostId, prev, s);
    this.markHostDirty(hostId);
    for (const p of this.pairsOfHost(hostId)) (fromAck ? this.changedSoon(p) : this.changed(p));
  }

  private changedSoon(pairId: string) {
    if (this.deferred.has(pairId)) return;
    this.deferred.add(pairId);
    setImmediate(() => {
      this.deferred.delete(pairId);
      if (!this.stopped) this.changed(pairId);
    });
  }

  private onEvent(hostId: string, e: AgentEvent) {
    const o = this.obs.get(hostId);
    if (!o?.snapshot || this.stopped) return;
    const prev = o.snapshot;
    o.snapshot = applyEvent(prev, e);
    if (o.snapshot === prev) return;
    this.noteModes(hostId, prev, o.snapshot);
    this.markHostDirty(hostId);
    // A pair with an operation running decides nothing new: its consequences wait a tick, so that an event
    // read in the same chunk as a command's acknowledgement never delays the next command.
    for (const p of this.pairsOfEvent(hostId, e)) (this.running.has(p) ? this.changedSoon(p) : this.changed(p));
  }

  private onDown(hostId: string, reason: string) {
    const o = this.obs.get(hostId);
    if (!o || this.stopped) return;
    const wasUp = o.connected;
    o.connected = false;
    if (wasUp || o.disconnectedAt === null) o.disconnectedAt = this.now();
    if (wasUp) this.log.warn("controller: agent disconnected", { host: this.hosts.get(hostId)?.name, reason });
    this.markHostDirty(hostId, false);
    this.syncHostAlarms();
    for (const p of this.pairsOfHost(hostId)) this.changed(p);
  }

  /** "now primary" / "now backup" (Genesys 00-5150 / 00-5151): audited with the PairStatus they change. */
  private noteModes(hostId: string, prev: AgentSnapshot | null, next: AgentSnapshot) {
    for (const a of next.apps) {
      const before = prev?.apps.find((x) => x.name === a.name)?.mode;
      if (a.mode === before || (a.mode !== "primary" && a.mode !== "backup")) continue;
      for (const p of this.pairs.values()) {
        const s = p.servers.find((x) => x.hostId === hostId && x.appName === a.name);
        if (s) this.pendingModes.push({ pairId: p.id, serverId: s.id, serverName: s.name, hostName: s.hostName, mode: a.mode });
      }
    }
  }

  world(pairId: string): PairWorld | null {
    const pair = this.pairs.get(pairId);
    if (!pair) return null;
    const r = this.running.get(pairId);
    const activeOp: ActiveOp | null = r
      ? store.toActiveOp(r.op)
      : this.starting.has(pairId)
        ? { ...this.starting.get(pairId)!, status: "pending", createdAt: this.now() }
        : null;
    const hosts: PairWorld["hosts"] = {};
    for (const s of pair.servers) hosts[s.hostId] = this.obs.get(s.hostId);
    return { pair, hosts, memory: this.memory.get(pairId) ?? emptyMemory(), activeOp, lastFinishedOp: this.lastFinished.get(pairId) ?? null };
  }

  /** Something about the pair changed: update memory, wake waiters, publish, decide. */
  private changed(pairId: string) {
    const w = this.world(pairId);
    if (!w) return;
    this.memory.set(pairId, updateMemory(w));
    for (const wt of [...this.waiters]) {
      if (wt.pairId !== pairId) continue;
      const cur = this.world(pairId);
      if (cur && wt.pred(cur)) {
        this.waiters.delete(wt);
        wt.resolve(true);
      }
    }
    this.evaluate(pairId);
  }

  // ---------------------------------------------------------------- decisions

  private evaluate(pairId: string) {
    if (this.stopped) return;
    const w = this.world(pairId);
    if (!w) return;
    const now = this.now();
    const d = decide(w, now);
    this.lastReason.set(pairId, d.reason);
    if (d.action && this.ready && !this.starting.has(pairId) && !this.running.has(pairId)) {
      // Hot path: the operation row's INSERT goes out first (startAutomatic is synchronous up to the query);
      // the broadcast, the PairStatus write and the alarm writes follow it, and the alarm writes wait for it
      // (they would compete for the database).
      const started = this.startAutomatic(pairId, d.action);
      this.publishPair(pairId, d.reason);
      this.alarmChain = this.alarmChain.then(() => started).catch(() => undefined);
      this.syncPairAlarms(pairId, d.alarms);
      return;
    }
    this.publishPair(pairId, d.reason);
    this.syncPairAlarms(pairId, d.alarms);
    const t = this.wake.get(pairId);
    if (t) clearTimeout(t);
    this.wake.delete(pairId);
    if (d.wakeAt !== null) this.wake.set(pairId, setTimeout(() => this.evaluate(pairId), Math.max(0, d.wakeAt - now) + 5));
    if (!this.ready || d.action) return;
    if (d.fault && this.lastNote.get(pairId) !== d.reason && !w.activeOp) {
      // An explained non-action ("maintenance: no action (...)", hold-down, grace): recorded once per change.
      this.lastNote.set(pairId, d.reason);
      void store
        .withAudit((_tx, audit) => audit({ actor: store.CONTROLLER_ACTOR, action: "decision", targetType: "pair", targetId: pairId, pairId, outcome: "info", details: { reason: d.reason, action: null, epoch: this.epoch } }))
        .catch((err) => this.log.error("controller: audit of a decision failed", { err }));
    } else if (!d.fault) this.lastNote.delete(pairId);
  }

  private publishPair(pairId: string, reason?: string) {
    const w = this.world(pairId);
    if (!w) return;
    const r = this.running.get(pairId);
    const view = buildPairView(w, {
      statusReason: reason ?? this.lastReason.get(pairId) ?? "",
      operation: r ? { id: r.op.id, kind: r.op.kind, status: "running", createdAt: new Date(r.op.createdAt).toISOString(), requestedBy: r.op.requestedBy } : null,
      activeAlarms: [...this.activeAlarms.values()].filter((a) => a.pairId === pairId).length,
      now: this.now(),
    });
    // Publish only what changed: the same view (apart from its timestamps) is not sent again.
    const key = viewKey(view);
    const memoryKey = JSON.stringify(this.memory.get(pairId) ?? emptyMemory());
    const last = this.published.get(pairId);
    if (last && last.key === key) {
      if (last.memoryKey !== memoryKey) {
        last.memoryKey = memoryKey;
        this.dirtyPairs.add(pairId);
        this.schedulePersist();
      }
      return last.view;
    }
    this.published.set(pairId, { view, key, memoryKey });
    publishPairState(view);
    this.dirtyPairs.add(pairId);
    this.schedulePersist();
    return view;
  }

  private markHostDirty(hostId: string, snapshot = true) {
    this.dirtyHosts.add(hostId);
    if (snapshot) this.dirtySnapshots.add(hostId);
    this.hostPersistedAt.set(hostId, this.now());
    this.schedulePersist();
  }

  /** The last published view of every configured pair, by name (the socket.io snapshot on connect). */
  pairViews(): PairView[] {
    const out: PairView[] = [];
    for (const id of this.pairs.keys()) {
      const v = this.published.get(id)?.view;
      if (v) out.push(v);
    }
    return out;
  }

  // ---------------------------------------------------------------- the API of this same process (local.ts)

  /** The handle the API routes of this process use while this term leads (set by index.ts once ready). */
  localHandle(): LocalController {
    return {
      controllerId: this.controllerId,
      epoch: this.epoch,
      preflight: (pairId) => this.localPreflight(pairId),
      requestSwitchover: (pairId, input) => this.localRequest(pairId, input),
      pairViews: () => this.pairViews(),
    };
  }

  private activeOperationOf(pairId: string): { id: string; kind: string } | null {
    const r = this.running.get(pairId);
    if (r) return { id: r.op.id, kind: r.op.kind };
    const s = this.starting.get(pairId);
    return s ? { id: s.id, kind: s.kind } : null;
  }

  private localPreflight(pairId: string): LocalPreflight | null {
    const w = this.world(pairId);
    if (!w) return null;
    const view = buildPairView(w, { statusReason: "", operation: null, activeAlarms: 0, now: this.now() });
    const preflight = computePreflight(view, { maintenance: w.pair.maintenance, activeOperation: this.activeOperationOf(pairId), controllerActive: !this.stopped });
    return { pairName: w.pair.name, preflight };
  }

  /**
   * A manual switchover accepted by this process while it leads: live preflight, then ONE transaction
   * (Operation already claimed, with its steps, + its audit row), then the demote command at once. No
   * pg_notify round trip, no claim query. Plain data out (see local.ts).
   */
  private async localRequest(pairId: string, input: { reason: string | null; actor: string; toServerId?: string }): Promise<LocalSwitchoverResult> {
    const found = this.localPreflight(pairId);
    if (!found) return { kind: "not_found" };
    const pf = { ...found, preflight: withRequestedTarget(found.preflight, input.toServerId) };
    const busy = this.activeOperationOf(pairId);
    if (busy) return { kind: "busy", pairName: pf.pairName, operationId: busy.id.startsWith("(") ? null : busy.id };
    if (!pf.preflight.ok || !pf.preflight.target || this.stopped || !this.ready) return { kind: "refused", pairName: pf.pairName, preflight: pf.preflight };
    const pair = this.pairs.get(pairId)!;
    const ss = serverStates(this.world(pairId)!);
    const to = ss.find((s) => s.cfg.id === pf.preflight.target!.id)!;
    const from = ss.find((s) => s !== to)!;
    const decision = `manual switchover requested by ${input.actor}${input.reason ? ` (${input.reason})` : ""}: demoting ${from.cfg.name} on ${from.cfg.hostName}, promoting ${to.cfg.name} on ${to.cfg.hostName}`;
    const steps = planSteps("manual_switchover", pair, from.cfg.id, to.cfg.id);
    const id = randomUUID();
    this.starting.set(pairId, { id, kind: "manual_switchover", requestedBy: input.actor });
    this.remember(id); // its INSERT notification needs no query
    let op: store.LoadedOp | null;
    try {
      op = await store.createClaimedManualOperation({
        id,
        pairId,
        actor: input.actor,
        reason: input.reason,
        decision,
        fromServerId: from.cfg.id,
        toServerId: to.cfg.id,
        epoch: this.epoch,
        steps,
        target: pf.preflight.target,
      });
    } finally {
      this.starting.delete(pairId);
    }
    if (!op) return { kind: "busy", pairName: pf.pairName, operationId: null };
    if (this.stopped) {
      // Leadership ended during the transaction: the next leader reconciles the committed operation.
      return { kind: "accepted", operation: store.operationView(op) };
    }
    this.run(op, "operation.started", {});
    return { kind: "accepted", operation: store.operationView(op) };
  }

  /** Live preflight (the API checks the persisted one; the runner re-checks on the live state). */
  preflight(pairId: string) {
    const w = this.world(pairId)!;
    const view = buildPairView(w, { statusReason: "", operation: null, activeAlarms: 0, now: this.now() });
    return computePreflight(view, { maintenance: w.pair.maintenance, activeOperation: null, controllerActive: true });
  }

  // ---------------------------------------------------------------- operations

  private async startAutomatic(pairId: string, action: NonNullable<ReturnType<typeof decide>["action"]>) {
    if (this.starting.has(pairId) || this.running.has(pairId)) return;
    const pair = this.pairs.get(pairId)!;
    this.starting.set(pairId, { id: "(starting)", kind: action.kind, requestedBy: store.CONTROLLER_ACTOR });
    const mem = this.memory.get(pairId) ?? emptyMemory();
    const now = this.now();
    if (action.kind === "failover" || action.kind === "disconnect_failover") mem.lastAutoFailoverAt = now;
    if (action.kind === "restart" && action.toServerId) mem.lastRestartAt = { ...mem.lastRestartAt, [action.toServerId]: now };
    this.memory.set(pairId, mem);
    this.lastNote.delete(pairId);
    let op: store.LoadedOp | null = null;
    const t0 = performance.now();
    try {
      const steps = planSteps(action.kind, pair, action.fromServerId, action.toServerId);
      op = await store.createRunningOperation({ pairId, kind: action.kind, fromServerId: action.fromServerId, toServerId: action.toServerId, decision: action.reason, epoch: this.epoch, steps }, this.hot.exec);
    } catch (err) {
      this.log.error("controller: could not record the operation", { err, pairId });
    } finally {
      this.starting.delete(pairId);
    }
    if (!op) {
      this.log.info("controller: another operation holds the pair", { pairId });
      return;
    }
    this.log.info("controller: decision", { pair: pair.name, kind: action.kind, reason: action.reason, operationId: op.id, epoch: this.epoch, recordMs: +(performance.now() - t0).toFixed(2) });
    this.run(op, "operation.decided", { action: action.kind, fromServerId: action.fromServerId, toServerId: action.toServerId });
  }

  private async onOperationNotify(id: string) {
    const t0 = performance.now();
    try {
      // Our own operations (created or claimed by this term): nothing to claim, no query.
      if (this.known.has(id) || [...this.running.values()].some((r) => r.op.id === id)) return;
      const op = await store.loadPendingOperation(id);
      if (!op || this.stopped || !this.ready) return;
      const t1 = performance.now();
      await this.startManual(op);
      this.log.info("controller: switchover request taken", { operationId: id, loadMs: +(t1 - t0).toFixed(2), claimMs: +(performance.now() - t1).toFixed(2) });
    } catch (err) {
      this.log.error("controller: could not start an operation", { err, operationId: id });
    }
  }

  private async startManual(op: store.LoadedOp) {
    const pair = this.pairs.get(op.pairId);
    if (!pair) return void (await store.failOperation(op, "the pair is not configured (anymore)", this.epoch));
    const found = stateSummary(this.world(op.pairId)!);
    if (op.kind !== "manual_switchover") return void (await store.failOperation(op, `a pending ${op.kind} cannot be started by request`, this.epoch, found));
    if (this.running.has(op.pairId)) return; // the database lets one through only; a resumed one runs
    const pf = this.preflight(op.pairId);
    if (!pf.ok || !pf.target) {
      const w = this.world(op.pairId)!;
      return void (await store.failOperation(op, `preflight failed when starting: ${describeFailedChecks(pf)} (state found: ${describeState(w)})`, this.epoch, found));
    }
    const ss = serverStates(this.world(op.pairId)!);
    const to = ss.find((s) => s.cfg.id === pf.target!.id)!;
    const from = ss.find((s) => s !== to)!;
    const decision = `manual switchover requested by ${op.requestedBy}${op.reason ? ` (${op.reason})` : ""}: demoting ${from.cfg.name} on ${from.cfg.hostName}, promoting ${to.cfg.name} on ${to.cfg.hostName}`;
    const steps = planSteps("manual_switchover", pair, from.cfg.id, to.cfg.id);
    const claimed = await store.claimOperation(op, this.epoch, steps, from.cfg.id, to.cfg.id, decision, this.hot.exec);
    if (!claimed) return;
    this.remember(claimed.id);
    this.run(claimed, "operation.started", {});
  }

  private run(op: store.LoadedOp, auditAction: string, details: Record<string, unknown>) {
    const pairId = op.pairId;
    const recorder = new store.OperationRecorder(op, (err) => this.log.error("controller: recording a step failed", { err, operationId: op.id }));
    const before = stateSummary(this.world(pairId)!);
    const entry: Running = { op, recorder, done: Promise.resolve() };
    this.running.set(pairId, entry);
    this.remember(op.id);
    const crashAfter = process.env.SWITCHYARD_TEST_CRASH_AFTER_STEP;
    const runnable: RunnableOp = op;
    entry.done = (async () => {
      let result: { status: "succeeded" | "failed"; error: string | null };
      try {
        result = await runOperation(
          {
            now: this.now,
            world: () => this.world(pairId)!,
            command: (hostId, body) => {
              if (this.stopped) return Promise.reject(new Error("controller stopped (leadership lost)"));
              const link = this.links.get(hostId);
              if (!link) return Promise.reject(new Error(`no link to host ${hostId}`));
              return link.command(body);
            },
            waitFor: (pred, timeoutMs) => this.waitFor(pairId, pred, timeoutMs),
            verifyTimeoutMs: VERIFY_TIMEOUT_MS,
            recorder: { step: (_o, s: StepRecord) => recorder.step(s, this.epoch), added: (_o, steps) => recorder.added(steps) },
            afterStep: crashAfter
              ? async (_o, s) => {
                  if (s.action === crashAfter && s.status === "succeeded") {
                    await recorder.settled();
                    this.log.warn("controller: test crash after step", { step: s.action });
                    process.kill(process.pid, "SIGKILL");
                  }
                }
              : undefined,
          },
          runnable,
        );
      } catch (err) {
        result = { status: "failed", error: `internal error: ${(err as Error).message}` };
        this.log.error("controller: operation crashed", { err, operationId: op.id });
      }
      if (this.stopped && result.status === "failed") {
        // Leadership lost mid-operation: leave it running for the next leader to reconcile.
        this.running.delete(pairId);
        return;
      }
      await recorder.finish(result.status, result.error, this.epoch, { before, after: stateSummary(this.world(pairId)!) });
      this.log.info("controller: operation finished", { operationId: op.id, kind: op.kind, status: result.status, error: result.error });
      this.running.delete(pairId);
      if (op.kind !== "restart") this.lastFinished.set(pairId, { id: op.id, kind: op.kind, status: result.status, error: result.error, finishedAt: this.now() });
      this.changed(pairId);
    })();
    // runOperation above ran synchronously up to its first agent command, which is on the wire now: the
    // audit row of the decision and the broadcast follow it.
    recorder.decision({ ...details, epoch: this.epoch, operationId: op.id }, auditAction);
    this.publishPair(pairId);
  }

  private remember(id: string) {
    this.known.add(id);
    if (this.known.size > 1000) this.known.delete(this.known.values().next().value!);
  }

  private waitFor(pairId: string, pred: (w: PairWorld) => boolean, timeoutMs: number): Promise<boolean> {
    const w = this.world(pairId);
    if (w && pred(w)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        pairId,
        pred,
        resolve: (ok) => {
          clearTimeout(t);
          resolve(ok);
        },
      };
      const t = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /**
   * On takeover: every pending or running operation is finished from its persisted steps (all idempotent)
   * against the observed state, or marked failed with the state found. Nothing stays running forever.
   */
  private async reconcile() {
    const ops = await store.loadUnfinishedOperations();
    for (const op of ops) {
      const w = this.world(op.pairId);
      const found = w ? describeState(w) : "pair not configured";
      if (!w) {
        await store.failOperation(op, `reconciled by epoch ${this.epoch}: ${found}`, this.epoch, null);
        continue;
      }
      if (op.status === "pending") {
        if (this.now() - op.createdAt > STALE_REQUEST_MS) {
          await store.failOperation(op, `reconciled by epoch ${this.epoch}: request not started within ${STALE_REQUEST_MS / 1000} s (no controller was active); state found: ${found}`, this.epoch, stateSummary(w));
        } else {
          this.ready = true; // startManual's preflight needs the live state only
          await this.startManual(op);
          this.ready = false;
        }
        continue;
      }
      if (op.kind === "manual_switchover" && op.steps.every((s) => s.status === "pending") && this.now() - op.createdAt > STALE_REQUEST_MS) {
        // Accepted by a leader that stopped before its first command: as late as a stale pending request.
        await store.failOperation(op, `reconciled by epoch ${this.epoch}: request not started within ${STALE_REQUEST_MS / 1000} s (its controller stopped before the first step); state found: ${found}`, this.epoch, stateSummary(w));
        continue;
      }
      if (op.steps.length === 0) {
        await store.failOperation(op, `reconciled by epoch ${this.epoch}: the operation had no recorded steps; state found: ${found}`, this.epoch, stateSummary(w));
        continue;
      }
      const done = op.steps.filter((s) => s.status === "succeeded" || s.status === "skipped").map((s) => `${s.seq} ${s.action}`);
      this.log.info("controller: resuming an operation left unfinished", { operationId: op.id, kind: op.kind, previousEpoch: op.epoch, epoch: this.epoch, done, found });
      for (const s of op.steps) if (s.status === "running") s.status = "pending";
      this.run(op, "operation.reconciled", { previousEpoch: op.epoch, stepsDone: done, stateFound: found });
    }
  }

  // ---------------------------------------------------------------- alarms

  private syncPairAlarms(pairId: string, want: AlarmSpec[]) {
    const wantKeys = new Map(want.map((a) => [alarmKey(a), a]));
    const toRaise = [...wantKeys].filter(([k]) => !this.activeAlarms.has(k)).map(([, a]) => a);
    const toClear = [...this.activeAlarms].filter(([k, a]) => a.pairId === pairId && !wantKeys.has(k)).map(([k]) => k);
    this.applyAlarms(toRaise, toClear, pairId);
  }

  private syncHostAlarms() {
    if (!this.ready) return;
    const want = new Map<string, AlarmSpec>();
    for (const h of this.hosts.values()) for (const a of hostAlarms(h, this.obs.get(h.id))) want.set(alarmKey(a), a);
    const toRaise = [...want].filter(([k]) => !this.activeAlarms.has(k)).map(([, a]) => a);
    const toClear = [...this.activeAlarms].filter(([k, a]) => a.pairId === null && k.startsWith("host_disconnected:") && !want.has(k)).map(([k]) => k);
    this.applyAlarms(toRaise, toClear, null);
  }

  private applyAlarms(raise: AlarmSpec[], clear: string[], pairId: string | null) {
    if (!raise.length && !clear.length) return;
    for (const a of raise) this.activeAlarms.set(alarmKey(a), { id: "", pairId: a.pairId });
    for (const k of clear) this.activeAlarms.delete(k);
    this.alarmChain = this.alarmChain
      .then(async () => {
        for (const a of raise) await store.raiseAlarm(a);
        for (const k of clear) await store.clearAlarm(k);
      })
      .catch((err) => this.log.error("controller: alarm update failed", { err }));
    if (pairId) this.publishPair(pairId);
  }

  // ---------------------------------------------------------------- persistence (coalesced, off the hot path)

  private schedulePersist(delayMs = PERSIST_DELAY_MS) {
    if (this.persistTimer || this.stopped) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.persistChain = this.persistChain.then(() => this.persist()).catch((err) => this.log.error("controller: status persist failed", { err }));
    }, delayMs);
  }

  private hostView(h: HostCfg): HostView {
    const o = this.obs.get(h.id);
    const s = o?.snapshot;
    return {
      id: h.id,
      name: h.name,
      address: h.address,
      agentUrl: h.agentUrl,
      connected: !!o?.connected,
      lastHeartbeatAt: o?.lastHeartbeatAt ? new Date(o.lastHeartbeatAt).toISOString() : null,
      rttMs: o?.rttMs ?? null,
      agentVersion: s?.version ?? null,
      apps: (s?.apps ?? []).map((a) => ({ name: a.name, state: a.state, mode: a.mode, vip: a.vip })),
      vips: (s?.vips ?? []).map((v) => ({ name: v.name, address: v.address, observed: v.observed, duplicate: v.duplicate.detected })),
    };
  }

  /**
   * Writes the dirty PairStatus and HostStatus rows on the term's own status connection, in bounded
   * statements (PERSIST_CHUNK rows each, no long transaction), then the "now primary/backup" audit rows.
   * A failed write puts its items back in the dirty sets and retries later: no status is lost.
   */
  private async persist() {
    const pairs = [...this.dirtyPairs];
    const hosts = [...this.dirtyHosts];
    const snaps = this.dirtySnapshots;
    const modes = this.pendingModes;
    this.dirtyPairs = new Set();
    this.dirtyHosts = new Set();
    this.dirtySnapshots = new Set();
    this.pendingModes = [];
    if (!pairs.length && !hosts.length && !modes.length) return;
    const pairRows = pairs.flatMap((id) => {
      const w = this.world(id);
      if (!w) return [];
      const view = this.published.get(id)?.view ?? this.publishPair(id);
      if (!view) return [];
      return [{ id, status: view.status, state: { ...view, memory: this.memory.get(id) ?? emptyMemory(), epoch: this.epoch } }];
    });
    const full: store.HostStatusRow[] = [];
    const beats: store.HostBeatRow[] = [];
    for (const id of hosts) {
      const o = this.obs.get(id);
      if (!o || !this.hosts.has(id)) continue;
      const lastHeartbeatAt = o.lastHeartbeatAt ? new Date(o.lastHeartbeatAt).toISOString() : null;
      if (snaps.has(id) || !this.hostWritten.has(id)) {
        full.push({ id, connected: o.connected, lastHeartbeatAt, rttMs: o.rttMs, agentVersion: o.snapshot?.version ?? null, snapshot: o.snapshot ?? null });
      } else beats.push({ id, connected: o.connected, lastHeartbeatAt, rttMs: o.rttMs });
    }
    try {
      for (let i = 0; i < pairRows.length; i += PERSIST_CHUNK) await store.upsertPairStatus(this.statusConn.exec, pairRows.slice(i, i + PERSIST_CHUNK));
      for (let i = 0; i < full.length; i += PERSIST_CHUNK) await store.upsertHostStatus(this.statusConn.exec, full.slice(i, i + PERSIST_CHUNK));
      for (let i = 0; i < beats.length; i += PERSIST_CHUNK) await store.updateHostBeats(this.statusConn.exec, beats.slice(i, i + PERSIST_CHUNK));
    } catch (err) {
      // Nothing lost: everything of this round is dirty again (a newer state written later is the same rows).
      for (const id of pairs) this.dirtyPairs.add(id);
      for (const id of hosts) this.dirtyHosts.add(id);
      for (const id of snaps) this.dirtySnapshots.add(id);
      this.pendingModes = modes.concat(this.pendingModes);
      this.schedulePersist(PERSIST_RETRY_MS);
      throw err;
    }
    for (const r of full) this.hostWritten.add(r.id);
    const now = this.now();
    for (const id of hosts) {
      const h = this.hosts.get(id);
      if (!h) continue;
      // host:state only on a meaningful change (link, version, apps, VIPs), or the periodic heartbeat refresh.
      const view = this.hostView(h);
      const key = hostKey(view);
      const last = this.hostPublished.get(id);
      if (last && last.key === key && now - last.at < HEARTBEAT_REFRESH_MS - 500) continue;
      this.hostPublished.set(id, { key, at: now });
      publishHostState(view);
    }
    if (modes.length) {
      try {
        await this.auditModes(modes);
      } catch (err) {
        this.pendingModes = modes.concat(this.pendingModes);
        this.schedulePersist(PERSIST_RETRY_MS);
        throw err;
      }
    }
  }

  private async auditModes(modes: ModeChange[]) {
    const live = new Set(this.pairs.keys());
    const todo = modes.filter((m) => live.has(m.pairId));
    if (!todo.length) return;
    await store.withAudit(async (_tx, audit) => {
      for (const m of todo) {
        await audit({
          actor: store.CONTROLLER_ACTOR,
          action: m.mode === "primary" ? "server.now_primary" : "server.now_backup",
          targetType: "server",
          targetId: m.serverId,
          pairId: m.pairId,
          outcome: "info",
          details: {
            code: m.mode === "primary" ? "00-5150" : "00-5151",
            message: `${m.serverName} on ${m.hostName} is now ${m.mode}`,
            epoch: this.epoch,
          },
        });
      }
    });
  }
}

/** A pair view's identity for "did it change": everything but its timestamps (updatedAt, heartbeat times). */
function viewKey(v: PairView): string {
  return JSON.stringify({ ...v, updatedAt: null, servers: v.servers.map((s) => ({ ...s, lastHeartbeatAt: null })) });
}

/** A host view's identity for "did it change": everything but the heartbeat time and the RTT. */
function hostKey(v: HostView): string {
  return JSON.stringify({ ...v, lastHeartbeatAt: null, rttMs: null });
}
