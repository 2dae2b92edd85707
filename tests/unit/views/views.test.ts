import { describe, expect, it } from "vitest";
import { hostViewOf, unobservedPairView, type HostDto, type PairDto } from "@/lib/views";

const config: Omit<PairDto, "view"> = {
  id: "p1",
  name: "pair-1",
  vipAddress: "198.18.0.10",
  vipPrefix: 24,
  vipInterface: "eth0",
  autoFailover: false,
  disconnectGraceSeconds: 2,
  heartbeatTimeoutMs: 1500,
  holdDownSeconds: 60,
  maintenance: true,
  createdAt: "2026-11-24T10:00:00.000Z",
  updatedAt: "2026-11-24T11:00:00.000Z",
  servers: [
    { id: "s1", name: "sip-1", hostId: "h1", hostName: "host-a", appName: "sip1", configuredRole: "primary" },
    { id: "s2", name: "sip-2", hostId: "h2", hostName: "host-b", appName: "sip2", configuredRole: "backup" },
  ],
};

describe("unobservedPairView", () => {
  it("is an 'unknown' view of the configuration: VIP, servers, policy, nobody holding the VIP", () => {
    const v = unobservedPairView(config);
    expect(v).toMatchObject({ id: "p1", name: "pair-1", status: "unknown", vipHolder: null, operation: null, activeAlarms: 0, maintenance: true, autoFailover: false });
    expect(v.vip).toEqual({ address: "198.18.0.10", prefix: 24, interface: "eth0" });
    expect(v.servers.map((s) => [s.name, s.hostName, s.configuredRole, s.mode, s.processState, s.vip, s.agentConnected])).toEqual([
      ["sip-1", "host-a", "primary", "unknown", "unknown", "unknown", false],
      ["sip-2", "host-b", "backup", "unknown", "unknown", "unknown", false],
    ]);
    expect(v.updatedAt).toBe(config.updatedAt);
  });
});

describe("hostViewOf", () => {
  const host: HostDto = { id: "h1", name: "host-a", address: "10.0.0.1", agentUrl: "http://10.0.0.1:4999", hasAgentToken: true, createdAt: "", updatedAt: "", status: null };
  it("reads a host the controller has not seen as disconnected, with nothing reported", () => {
    expect(hostViewOf(host)).toEqual({ id: "h1", name: "host-a", address: "10.0.0.1", agentUrl: "http://10.0.0.1:4999", connected: false, lastHeartbeatAt: null, rttMs: null, agentVersion: null, apps: [], vips: [] });
  });
  it("takes the persisted status field by field", () => {
    const status = { connected: true, lastHeartbeatAt: "2026-11-24T11:00:00.000Z", rttMs: 1.5, agentVersion: "0.1.0", updatedAt: "", apps: [{ name: "sip1", state: "running", mode: "primary", vip: "vip" }], vips: [{ name: "vip", address: "198.18.0.10", observed: "enabled" as const, duplicate: false }] };
    expect(hostViewOf({ ...host, status })).toMatchObject({ connected: true, rttMs: 1.5, agentVersion: "0.1.0", apps: status.apps, vips: status.vips });
  });
});
