// The panel's words (components/format.ts): operation kinds, step titles naming the hosts with the
// source document's causality, relative times.
import { describe, expect, it } from "vitest";
import { ago, operationKind, operationRunning, stepTitle } from "@/components/format";

const pair = { servers: [{ hostName: "host-a1" }, { hostName: "host-a2" }] };

describe("operation kinds", () => {
  it("a planned switchover is never failing over", () => {
    expect(operationRunning("manual_switchover")).toBe("Switching over");
    expect(operationRunning("failover")).toBe("Failing over");
    expect(operationKind("manual_switchover")).toBe("Manual switchover");
    expect(operationKind("disconnect_failover")).toBe("Disconnect failover");
    expect(operationRunning("app_stop")).toBe("Stopping a server");
  });
  it("a kind the panel does not know yet reads as words, not an identifier", () => {
    expect(operationKind("clear_hold_down")).toBe("Clear hold down");
    expect(operationRunning("drain_calls")).toBe("Drain calls running");
  });
});

describe("step titles (the targets lib/controller/plan.ts writes)", () => {
  const steps = [
    { action: "demote", target: "sip-1 on host-a1" },
    { action: "vip_disable", target: "VIP 198.18.0.110/24 on host-a1" },
    { action: "promote", target: "sip-2 on host-a2" },
    { action: "vip_enable", target: "VIP 198.18.0.110/24 on host-a2" },
    { action: "verify", target: "pair-a: sip-2 primary, VIP only on host-a2" },
  ];
  const titles = steps.map((s, i) => stepTitle(s, steps[i - 1], pair));
  it("name Host 1 and Host 2 of the pair", () => {
    expect(titles.map((t) => t.title)).toEqual([
      "Demote sip-1 on Host 1 (host-a1) to backup",
      "VIP disabled on Host 1 (host-a1)",
      "Promote sip-2 on Host 2 (host-a2) to primary",
      "VIP enabled on Host 2 (host-a2), announced (gratuitous ARP)",
      "Verify: sip-2 primary, VIP only on Host 2 (host-a2)",
    ]);
  });
  it("draw demote → that host's VIP disabled and promote → that host's VIP enabled as causes and effects", () => {
    expect(titles.map((t) => t.follows)).toEqual([false, true, false, true, false]);
  });
  it("a failover's VIP removal on the failed host does not follow the promote of the other one", () => {
    const fo = [
      { action: "promote", target: "sip-2 on host-a2" },
      { action: "vip_enable", target: "VIP 198.18.0.110/24 on host-a2" },
      { action: "vip_disable", target: "VIP 198.18.0.110/24 on host-a1" },
    ];
    expect(fo.map((s, i) => stepTitle(s, fo[i - 1], pair).follows)).toEqual([false, true, false]);
  });
  it("without the pair (an audit row of a deleted pair) the host's own name stays", () => {
    expect(stepTitle(steps[0], null, null).title).toBe("Demote sip-1 on host-a1 to backup");
    expect(stepTitle({ action: "demote", target: "" }, null, null).title).toBe("Demote to backup");
  });
});

describe("relative times", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  it("past and future", () => {
    expect(ago("2026-12-01T11:59:59.500Z", now)).toBe("just now");
    expect(ago("2026-12-01T11:57:00Z", now)).toBe("3 min ago");
    expect(ago("2026-12-01T07:00:00Z", now)).toBe("5 h ago");
    expect(ago("2026-12-04T12:00:00Z", now)).toBe("in 3 d");
    expect(ago(null, now)).toBe("never");
  });
});
