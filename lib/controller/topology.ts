/**
 * What is configured, as the controller holds it: hosts (with their agent credential), complete pairs
 * with their policy, and which pairs run on which host (so that an agent's event reaches only the pairs it
 * can change, not all of them).
 */
import type { AgentEvent } from "../../protocol/agent";
import type { HostCfg, PairCfg } from "./model";

/** Heartbeat deadline of a host with no pair on it (Genesys addp-timeout is 9 s; ours defaults tighter). */
const DEFAULT_HEARTBEAT_MS = 1500;

export class Topology {
  hosts = new Map<string, HostCfg>();
  pairs = new Map<string, PairCfg>();
  private byHost = new Map<string, string[]>();

  /** Replaces the configuration; returns the ids of the pairs that are new or changed. */
  apply(cfg: { hosts: HostCfg[]; pairs: PairCfg[] }): string[] {
    const before = this.pairs;
    this.hosts = new Map(cfg.hosts.map((h) => [h.id, h]));
    this.pairs = new Map(cfg.pairs.map((p) => [p.id, p]));
    this.byHost = new Map();
    for (const p of cfg.pairs) {
      for (const hostId of new Set(p.servers.map((s) => s.hostId))) {
        const list = this.byHost.get(hostId);
        if (list) list.push(p.id);
        else this.byHost.set(hostId, [p.id]);
      }
    }
    const changed: string[] = [];
    for (const [id, p] of this.pairs) {
      const old = before.get(id);
      if (!old || JSON.stringify(old) !== JSON.stringify(p)) changed.push(id);
    }
    return changed;
  }

  pairsOfHost(hostId: string): string[] {
    return this.byHost.get(hostId) ?? [];
  }

  /** The pairs an event can change: those running the event's app on that host (any other event: all of the host's). */
  pairsOfEvent(hostId: string, e: AgentEvent): string[] {
    const all = this.pairsOfHost(hostId);
    if (!("app" in e) || typeof e.app !== "string") return all;
    return all.filter((id) => this.pairs.get(id)?.servers.some((s) => s.hostId === hostId && s.appName === e.app));
  }

  /** The tightest heartbeat deadline of the pairs on a host. */
  heartbeatFor(hostId: string): number {
    let ms = Infinity;
    for (const id of this.pairsOfHost(hostId)) ms = Math.min(ms, this.pairs.get(id)?.heartbeatTimeoutMs ?? Infinity);
    return Number.isFinite(ms) ? ms : DEFAULT_HEARTBEAT_MS;
  }

  /**
   * How long the host's agent waits without a ping before it takes its VIPs down (self-fencing): the
   * earliest moment the controller promotes another host after losing this one (heartbeat timeout +
   * disconnect grace, the tightest of its pairs). Undefined for a host with no pair (nothing to fence).
   */
  fenceFor(hostId: string): number | undefined {
    let ms = Infinity;
    for (const id of this.pairsOfHost(hostId)) {
      const p = this.pairs.get(id);
      if (p) ms = Math.min(ms, p.heartbeatTimeoutMs + p.disconnectGraceSeconds * 1000);
    }
    return Number.isFinite(ms) ? ms : undefined;
  }

  /** Hosts that run a server of some pair. */
  hostsInUse(): string[] {
    return [...this.byHost.keys()];
  }
}
