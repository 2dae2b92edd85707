import type { AgentSnapshot, AppSnapshot, VipSnapshot } from "../../../protocol/agent";
import { emptyMemory, type HostObs, type PairCfg, type PairWorld } from "../../../lib/controller/model";

export const T0 = Date.parse("2026-11-24T12:00:00.000Z");

export function pairCfg(over: Partial<PairCfg> = {}): PairCfg {
  return {
    id: "p1",
    name: "pair-a",
    vipAddress: "198.18.0.110",
    vipPrefix: 24,
    vipInterface: "eth0",
    autoFailover: true,
    disconnectGraceSeconds: 2,
    heartbeatTimeoutMs: 1500,
    holdDownSeconds: 60,
    maintenance: false,
    servers: [
      { id: "s1", name: "sip-1", hostId: "h1", hostName: "host-a1", appName: "sip", configuredRole: "primary" },
      { id: "s2", name: "sip-2", hostId: "h2", hostName: "host-a2", appName: "sip", configuredRole: "backup" },
    ],
    ...over,
  };
}

export function app(over: Partial<AppSnapshot> = {}): AppSnapshot {
  return {
    name: "sip",
    state: "running",
    pid: 100,
    mode: "backup",
    vip: "vip",
    health: { status: "ok", consecutiveFailures: 0, lastError: null, lastCheckedAt: null },
    lastExit: null,
    restarts: 0,
    crashLoop: false,
    startedAt: null,
    ...over,
  };
}

export function vip(over: Partial<VipSnapshot> = {}): VipSnapshot {
  return {
    name: "vip",
    address: "198.18.0.110",
    prefix: 24,
    interface: "eth0",
    driver: "simulated",
    desired: "disabled",
    observed: "disabled",
    duplicate: { detected: false, mac: null, at: null },
    lastRun: null,
    ...over,
  };
}

export function snap(a: AppSnapshot, v: VipSnapshot, bootId = "boot"): AgentSnapshot {
  return { protocol: 1, agentId: "a", version: "1", bootId, seq: 1, epoch: 1, at: new Date(T0).toISOString(), apps: [a], vips: [v] };
}

export function host(id: string, s: AgentSnapshot | null, over: Partial<HostObs> = {}): HostObs {
  return { hostId: id, connected: true, connectedAt: T0 - 60_000, disconnectedAt: null, lastHeartbeatAt: T0, rttMs: 1, snapshot: s, refused: null, ...over };
}

export const primarySnap = () => snap(app({ mode: "primary" }), vip({ desired: "enabled", observed: "enabled" }));
export const backupSnap = () => snap(app({ mode: "backup" }), vip());

/** A healthy pair: sip-1 primary with the VIP on host-a1, sip-2 backup. */
export function healthy(over: Partial<PairWorld> = {}): PairWorld {
  return {
    pair: pairCfg(),
    hosts: { h1: host("h1", primarySnap()), h2: host("h2", backupSnap()) },
    memory: { ...emptyMemory(), activeServerId: "s1", lastRunningMode: { s1: "primary", s2: "backup" } },
    activeOp: null,
    lastFinishedOp: null,
    lastAutoFailoverAt: null,
    ...over,
  };
}
