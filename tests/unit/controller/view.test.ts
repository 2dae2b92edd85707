import { describe, expect, it } from "vitest";
import { buildPairView } from "../../../lib/controller/view";
import { T0, app, backupSnap, healthy, host, snap, vip } from "./fixtures";

describe("pair view", () => {
  it("carries what the agent ended of a forking server's processes, per server", () => {
    const group = { pid: 100, trigger: "exit" as const, action: "killed" as const, processes: [], count: 14, sigkilled: [], survivors: [4711], at: "2026-11-24T11:59:58.000Z", durationMs: 45 };
    const w = healthy({ hosts: { h1: host("h1", snap(app({ mode: "primary", lastGroup: group }), vip({ desired: "enabled", observed: "enabled" }))), h2: host("h2", backupSnap()) } });
    const v = buildPairView(w, { statusReason: "", operation: null, activeAlarms: 0, failovers: { last: null, recent: [] }, now: T0 });
    expect(v.servers[0].lastGroup).toEqual({ count: 14, trigger: "exit", action: "killed", survivors: 1, at: "2026-11-24T11:59:58.000Z" });
    expect(v.servers[1].lastGroup).toBeNull();
  });
});
