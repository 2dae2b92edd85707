/** The `operation.finished` audit details the UI's detail drawer renders, and the state summaries in them. */
import { describe, expect, it } from "vitest";
import { beforeTheFault, finishedDetails, stateSummary } from "../../../lib/controller/view";
import type { StepRecord } from "../../../lib/controller/model";
import type { DriverRun } from "../../../protocol/agent";
import { T0, app, backupSnap, healthy, host, snap, vip } from "./fixtures";

const run: DriverRun = {
  kind: "vip",
  driver: "simulated",
  action: "enable",
  target: "vip",
  startedAt: new Date(T0 + 5).toISOString(),
  durationMs: 3.5,
  exitCode: 0,
  signal: null,
  timedOut: false,
  ok: true,
  stdout: "",
  stderr: "",
};

function step(over: Partial<StepRecord>): StepRecord {
  return { seq: 1, action: "promote", targetServerId: "s2", targetHostId: "h2", target: "sip-2 on host-a2", status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null, ...over };
}

describe("stateSummary", () => {
  it("gives { server, host, processState, mode, vip } for both servers", () => {
    expect(stateSummary(healthy())).toEqual([
      { server: "sip-1", host: "host-a1", processState: "running", mode: "primary", vip: "enabled" },
      { server: "sip-2", host: "host-a2", processState: "running", mode: "backup", vip: "disabled" },
    ]);
  });

  it("says unknown for a disconnected agent and the exit state of a failed server", () => {
    const w = healthy({
      hosts: {
        h1: host("h1", snap(app({ mode: "primary", state: "failed" }), vip()), { connected: false }),
        h2: host("h2", backupSnap()),
      },
    });
    expect(stateSummary(w)[0]).toEqual({ server: "sip-1", host: "host-a1", processState: "unknown (agent disconnected)", mode: "unknown", vip: "unknown" });
    const w2 = healthy({ hosts: { h1: host("h1", snap(app({ mode: "primary", state: "failed" }), vip())), h2: host("h2", backupSnap()) } });
    expect(stateSummary(w2)[0]).toMatchObject({ processState: "failed", mode: "primary", vip: "disabled" });
  });
});

describe("finishedDetails", () => {
  it("has exactly the drawer's shape, with ISO times, durations and the driver runs of each step", () => {
    const before = stateSummary(healthy());
    const d = finishedDetails(
      {
        kind: "failover",
        reason: null,
        decision: "primary sip-1 exited with signal SIGKILL on host-a1; promoting sip-2",
        steps: [
          step({ status: "succeeded", startedAt: T0, finishedAt: T0 + 12, output: [] }),
          step({ seq: 2, action: "vip_enable", target: "VIP 198.18.0.110/24 on host-a2", status: "failed", startedAt: T0 + 5, finishedAt: T0 + 8.5, output: [run], error: "boom" }),
          step({ seq: 3, action: "verify", targetServerId: null, targetHostId: null, target: "pair-a: sip-2 primary", status: "skipped", error: "not run: step 2 failed" }),
        ],
      },
      "failed",
      "step 2 vip_enable failed: boom",
      7,
      before,
      null,
    );
    expect(Object.keys(d).sort()).toEqual(["after", "before", "decision", "epoch", "error", "kind", "reason", "status", "steps"]);
    expect(d).toMatchObject({ kind: "failover", status: "failed", epoch: 7, error: "step 2 vip_enable failed: boom", reason: null, before, after: null });
    expect(d.steps).toEqual([
      { seq: 1, action: "promote", target: "sip-2 on host-a2", status: "succeeded", startedAt: "2026-11-24T12:00:00.000Z", finishedAt: "2026-11-24T12:00:00.012Z", durationMs: 12, error: null, runs: [] },
      { seq: 2, action: "vip_enable", target: "VIP 198.18.0.110/24 on host-a2", status: "failed", startedAt: "2026-11-24T12:00:00.005Z", finishedAt: "2026-11-24T12:00:00.008Z", durationMs: 3.5, error: "boom", runs: [run] },
      { seq: 3, action: "verify", target: "pair-a: sip-2 primary", status: "skipped", startedAt: null, finishedAt: null, durationMs: null, error: "not run: step 2 failed", runs: [] },
    ]);
    // It survives the JSON round trip of the audit column unchanged.
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

describe("beforeTheFault", () => {
  const found = [
    { server: "sip-1", host: "host-a1", processState: "failed", mode: "primary", vip: "disabled" },
    { server: "sip-2", host: "host-a2", processState: "running", mode: "backup", vip: "disabled" },
  ];
  const tookDown = step({ seq: 3, action: "vip_disable", targetServerId: "s1", targetHostId: "h1", target: "VIP 198.18.0.110/24 on host-a1", status: "succeeded", output: [{ ...run, action: "disable" }] });

  it("a failover: the failed primary's host held the VIP until its agent took it down", () => {
    expect(beforeTheFault("failover", found, [tookDown])).toEqual([{ ...found[0], vip: "enabled" }, found[1]]);
    expect(finishedDetails({ kind: "failover", reason: null, decision: null, steps: [tookDown] }, "succeeded", null, 1, found, found).before![0].vip).toBe("enabled");
  });

  it("unchanged without the agent's disable run, or for another kind", () => {
    expect(beforeTheFault("failover", found, [{ ...tookDown, output: [] }])).toEqual(found);
    expect(beforeTheFault("failover", found, [{ ...tookDown, status: "skipped" }])).toEqual(found);
    expect(beforeTheFault("manual_switchover", found, [tookDown])).toEqual(found);
    expect(beforeTheFault("failover", null, [tookDown])).toBeNull();
  });
});
