/**
 * Observation: one agent link per host, and what each agent reported (its last snapshot, kept up to date
 * by its events and by the snapshots its command acknowledgements carry; "last known" while the link is
 * down). Tells the term what changed; never decides anything.
 */
import type { AgentEvent, AgentSnapshot, CommandAck } from "../../protocol/agent";
import { AgentLink, type LinkLog } from "./link";
import type { HostCfg, HostObs } from "./model";
import type { CommandBody } from "./steps";

export type Change =
  /** A snapshot arrived (`fromAck`: carried by a command's acknowledgement) or the link came up with it. */
  | { kind: "snapshot"; connected: boolean; fromAck: boolean; prev: AgentSnapshot | null; next: AgentSnapshot }
  | { kind: "event"; event: AgentEvent; prev: AgentSnapshot; next: AgentSnapshot }
  | { kind: "down"; reason: string }
  /** A heartbeat was answered (in memory only; persisted at most every few seconds). */
  | { kind: "beat" };

export interface ObserverOptions {
  controllerId: string;
  epoch: number;
  clusterId?: string;
  /** An agent has seen an epoch at or above this term's: the term must move above it to command it. */
  onHigherEpoch?: (hostId: string, epoch: number) => void;
  log: LinkLog & { warn(msg: string, f?: object): void };
  now: () => number;
  onChange: (hostId: string, change: Change) => void;
}

/** Applies one agent event to the host's snapshot (unchanged when the event is older than the snapshot). */
export function applyEvent(s: AgentSnapshot, e: AgentEvent): AgentSnapshot {
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
      case "app.group":
        return { ...a, lastGroup: e.cleanup };
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
  return { ...s, seq: e.seq, at: e.at, epoch: e.type === "agent.epoch" ? Math.max(s.epoch, e.epoch) : s.epoch, apps, vips };
}

export class Observer {
  private readonly links = new Map<string, AgentLink>();
  private readonly obs = new Map<string, HostObs>();
  private closed = false;
  /** waitForSnapshots' checks, run on every snapshot and every failed link. */
  private readonly settled = new Set<() => void>();

  constructor(private readonly o: ObserverOptions) {}

  get(hostId: string): HostObs | undefined {
    return this.obs.get(hostId);
  }

  /** Opens a link to every configured host, closes the links of removed or re-credentialed hosts. */
  configure(hosts: Map<string, HostCfg>, heartbeatFor: (hostId: string) => number, fenceFor: (hostId: string) => number | undefined) {
    for (const [id, link] of this.links) {
      const h = hosts.get(id);
      if (!h || h.agentUrl !== link.host.agentUrl || h.agentToken !== link.host.agentToken) {
        link.close();
        this.links.delete(id);
        if (!h) this.obs.delete(id);
      }
    }
    for (const h of hosts.values()) {
      const existing = this.links.get(h.id);
      if (existing) {
        existing.setHeartbeatTimeout(heartbeatFor(h.id), fenceFor(h.id));
        continue;
      }
      if (!this.obs.has(h.id))
        this.obs.set(h.id, { hostId: h.id, connected: false, connectedAt: null, disconnectedAt: null, lastHeartbeatAt: null, rttMs: null, snapshot: null, refused: null });
      this.open(h, heartbeatFor(h.id), fenceFor(h.id));
    }
  }

  private open(h: HostCfg, heartbeatTimeoutMs: number, fenceAfterMs: number | undefined) {
    const link = new AgentLink(h, { controllerId: this.o.controllerId, epoch: this.o.epoch, clusterId: this.o.clusterId, heartbeatTimeoutMs, fenceAfterMs, log: this.o.log });
    this.links.set(h.id, link);
    link.on("snapshot", (s) => this.onSnapshot(h.id, s, false));
    link.on("ackSnapshot", (s) => this.onSnapshot(h.id, s, true));
    link.on("event", (e) => this.onEvent(h.id, e));
    link.on("pong", (rtt) => {
      const o = this.obs.get(h.id);
      if (!o || this.closed) return;
      o.lastHeartbeatAt = this.o.now();
      o.rttMs = rtt;
      this.o.onChange(h.id, { kind: "beat" });
    });
    link.on("down", (reason) => this.onDown(h.id, reason));
    link.on("staleEpoch", (highest) => {
      this.o.log.warn("controller: agent refused our epoch", { host: h.name, epoch: this.o.epoch, highest });
      this.higher(h.id, highest);
    });
    link.on("refused", (why) => {
      const o = this.obs.get(h.id);
      if (!o || o.refused === why) return;
      o.refused = why;
      this.o.log.warn("controller: agent refuses this controller", { host: h.name, why });
      this.o.onChange(h.id, { kind: "down", reason: why });
    });
    link.start();
  }

  private onSnapshot(hostId: string, s: AgentSnapshot, fromAck: boolean) {
    const o = this.obs.get(hostId);
    if (!o || this.closed) return;
    const prev = o.snapshot;
    const connected = !o.connected;
    if (connected) {
      o.connected = true;
      o.connectedAt = o.lastHeartbeatAt = this.o.now();
    } else if (prev && prev.bootId === s.bootId && s.seq < prev.seq) {
      return; // an older snapshot (an ack that crossed an event): keep the newer state
    }
    o.snapshot = s;
    o.refused = null;
    this.higher(hostId, s.epoch);
    this.o.onChange(hostId, { kind: "snapshot", connected, fromAck, prev, next: s });
    for (const check of [...this.settled]) check();
  }

  private onEvent(hostId: string, e: AgentEvent) {
    const o = this.obs.get(hostId);
    if (!o?.snapshot || this.closed) return;
    if (e.type === "agent.epoch") this.higher(hostId, e.epoch);
    const prev = o.snapshot;
    o.snapshot = applyEvent(prev, e);
    if (o.snapshot !== prev) this.o.onChange(hostId, { kind: "event", event: e, prev, next: o.snapshot });
  }

  private onDown(hostId: string, reason: string) {
    const o = this.obs.get(hostId);
    if (!o || this.closed) return;
    const wasUp = o.connected;
    o.connected = false;
    if (wasUp || o.disconnectedAt === null) o.disconnectedAt = this.o.now();
    this.o.onChange(hostId, { kind: "down", reason: wasUp ? reason : "" });
    for (const check of [...this.settled]) check();
  }

  /** An agent's highest epoch is above this term's (a handshake of another term, forged or lost): say so. */
  private higher(hostId: string, epoch: number) {
    if (epoch > this.o.epoch && !this.closed) this.o.onHigherEpoch?.(hostId, epoch);
  }

  command(hostId: string, body: CommandBody): Promise<CommandAck> {
    if (this.closed) return Promise.reject(new Error("controller stopped (leadership lost)"));
    const link = this.links.get(hostId);
    if (!link) return Promise.reject(new Error(`no link to host ${hostId}`));
    return link.command(body);
  }

  /**
   * Resolves once every host in `hostIds` has sent a snapshot, or has failed to connect once (down, not
   * slow), or after `ms`.
   */
  waitForSnapshots(hostIds: string[], ms: number): Promise<void> {
    const missing = () => hostIds.some((id) => !this.obs.get(id)?.snapshot && this.obs.get(id)?.disconnectedAt === null);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.settled.delete(check);
        resolve();
      };
      const check = () => !missing() && done();
      const timer = setTimeout(done, ms);
      this.settled.add(check);
      check();
    });
  }

  /**
   * The term ends (a stop, a hand-over, leadership lost): a term's end is not a cut, so every connected agent
   * is told not to fence until a controller pings it again (bounded wait: this never delays a stop long).
   */
  async holdFencing(holdMs: number, waitMs: number): Promise<void> {
    const links = [...this.links.values()].filter((l) => l.connected);
    await Promise.race([Promise.allSettled(links.map((l) => l.command({ type: "fence.hold", holdMs }, waitMs))), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  close() {
    this.closed = true;
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}
