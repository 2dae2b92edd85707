/** Kind labels (one table for server and panel) and the VIP moving time (lib/operation-timing.ts). */
import { describe, expect, it } from "vitest";
import { OPERATION_KIND_NAMES, humaniseKind, operationKindLabel, operationKindPhrase } from "@/lib/operation-kinds";
import { operationDurationMs, vipMovingMs, type TimedStep } from "@/lib/operation-timing";

describe("operation kind labels", () => {
  it("labels every kind the controller knows", () => {
    expect(Object.fromEntries(OPERATION_KIND_NAMES.map((k) => [k, operationKindLabel(k)]))).toEqual({
      manual_switchover: "Manual switchover",
      failover: "Failover",
      disconnect_failover: "Disconnect failover",
      split_brain_resolution: "Split-brain resolution",
      vip_repair: "VIP repair",
      restart: "Restart",
      promote: "Promotion",
      app_start: "Server start",
      app_stop: "Server stop",
      app_restart: "Server restart",
      clear_holddown: "Hold-down release",
    });
  });

  it("humanises kinds it does not know yet, keeping abbreviations", () => {
    expect(operationKindLabel("app_reload")).toBe("App reload");
    expect(operationKindLabel("clear_cache")).toBe("Clear cache");
    expect(operationKindLabel("demote")).toBe("Demote");
    expect(operationKindLabel("vip_move_now")).toBe("VIP move now");
    expect(humaniseKind("")).toBe("Operation");
    expect(humaniseKind("__")).toBe("Operation");
  });

  it("in a sentence: lower case, abbreviations kept", () => {
    expect(operationKindPhrase("manual_switchover")).toBe("manual switchover");
    expect(operationKindPhrase("vip_repair")).toBe("VIP repair");
    expect(operationKindPhrase("split_brain_resolution")).toBe("split-brain resolution");
  });
});

const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 0, 0, 0, ms)).toISOString();
const step = (seq: number, action: string, start: number | null, end: number | null, status = "succeeded"): TimedStep => ({ seq, action, status, startedAt: start === null ? null : at(start), finishedAt: end === null ? null : at(end) });

describe("vipMovingMs", () => {
  it("switchover: from the demote's start (or the vip_disable's, if earlier) to the vip_enable's end", () => {
    // Times of a real switchover (tests/integration/api/operations-history.test.ts checks live ones).
    const s = [step(1, "demote", 176, 242), step(2, "vip_disable", 196, 199), step(3, "promote", 243, 275), step(4, "vip_enable", 258, 269), step(5, "verify", 276, 276)];
    expect(vipMovingMs(s)).toBe(269 - 176);
    expect(vipMovingMs([{ ...s[0], startedAt: at(200) }, ...s.slice(1)])).toBe(269 - 196);
  });

  it("failover: from the promote's start; the failed host's vip_disable recorded after the vip_enable does not count", () => {
    expect(vipMovingMs([step(1, "promote", 591, 605), step(2, "vip_enable", 600, 600), step(3, "vip_disable", 590, 605), step(4, "verify", 605, 605)])).toBe(9);
  });

  it("a failed switchover recovered: up to the recovery's promote, which enables the VIP with the mode", () => {
    const s = [step(1, "demote", 100, 150), step(2, "vip_disable", 120, 130), step(3, "promote", 151, 5151, "failed"), step(4, "vip_enable", null, null, "skipped"), step(5, "verify", null, null, "skipped"), step(6, "recover_promote", 5200, 5230), step(7, "recover_verify", 5231, 5232)];
    expect(vipMovingMs(s)).toBe(5230 - 100);
  });

  it("null when no VIP was enabled: failed, running, never started, no steps", () => {
    expect(vipMovingMs([])).toBeNull();
    expect(vipMovingMs([step(1, "demote", 100, 150), step(2, "promote", 151, null, "running"), step(3, "vip_enable", null, null, "pending")])).toBeNull();
    expect(vipMovingMs([step(1, "promote", 1, 9, "failed"), step(2, "vip_enable", null, null, "skipped")])).toBeNull();
    expect(vipMovingMs([step(1, "vip_enable", 5, 8)])).toBeNull();
  });

  it("order of the array does not matter (seq does)", () => {
    expect(vipMovingMs([step(2, "vip_enable", 600, 600), step(1, "promote", 591, 605)])).toBe(9);
  });
});

describe("operationDurationMs", () => {
  it("start (or creation) to end; null while running", () => {
    expect(operationDurationMs({ createdAt: at(0), startedAt: at(10), finishedAt: at(154) })).toBe(144);
    expect(operationDurationMs({ createdAt: at(0), startedAt: null, finishedAt: at(30) })).toBe(30);
    expect(operationDurationMs({ createdAt: at(0), startedAt: at(1), finishedAt: null })).toBeNull();
  });
});
