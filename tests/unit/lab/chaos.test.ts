// The fault campaign's pure parts (lab/chaos/schedule.ts, lab/chaos/analysis.ts): the schedule is a
// function of the seed; windows and classification; the table.
import { describe, expect, it } from "vitest";
import { attribute, classify, summarise, table, uncovered, union, windowsOf, WINDOW_LEAD_MS, WINDOWS, type FaultRecord, type Violation } from "../../../lab/chaos/analysis";
import { FAULT_KINDS, faultSchedule, HOLD_MS, rng, switchoverSchedule } from "../../../lab/chaos/schedule";

const T = { heartbeatTimeoutMs: 1000, disconnectGraceSeconds: 1 };

describe("chaos schedule", () => {
  it("the same seed gives the same faults and switchovers; another seed another schedule", () => {
    expect(faultSchedule(1, 50)).toEqual(faultSchedule(1, 50));
    expect(switchoverSchedule(1, 20)).toEqual(switchoverSchedule(1, 20));
    expect(faultSchedule(2, 50)).not.toEqual(faultSchedule(1, 50));
    // A prefix does not depend on how many are asked for.
    expect(faultSchedule(7, 100).slice(0, 30)).toEqual(faultSchedule(7, 30));
  });

  it("the PRNG is uniform enough and in [0, 1)", () => {
    const r = rng(42);
    const xs = Array.from({ length: 10_000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it("every block of eight faults has every kind once; hosts faults have a role, others none; holds within range", () => {
    const s = faultSchedule(3, 80);
    for (let i = 0; i < 80; i += FAULT_KINDS.length) expect(new Set(s.slice(i, i + FAULT_KINDS.length).map((f) => f.kind)).size).toBe(FAULT_KINDS.length);
    for (const f of s) {
      if (["panel_kill", "panel_stop", "db_down"].includes(f.kind)) expect(f.target).toBeNull();
      else expect(["primary", "backup"]).toContain(f.target);
      const [lo, hi] = HOLD_MS[f.kind];
      expect(f.holdMs).toBeGreaterThanOrEqual(lo);
      expect(f.holdMs).toBeLessThanOrEqual(hi);
    }
    expect(s.map((f) => f.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    const primaries = s.filter((f) => f.target === "primary").length;
    expect(primaries).toBeGreaterThan(s.filter((f) => f.target === "backup").length);
  });

  it("switchovers: some concurrent, gaps within range", () => {
    const s = switchoverSchedule(1, 200);
    expect(s.some((x) => x.concurrent)).toBe(true);
    expect(s.some((x) => !x.concurrent)).toBe(true);
    for (const x of s) expect(x.gapMs).toBeGreaterThanOrEqual(4000);
  });
});

describe("chaos analysis", () => {
  it("union and uncovered", () => {
    expect(union([[5, 10], [0, 3], [2, 6], [20, 20]])).toEqual([[0, 10]]);
    expect(uncovered(0, 10, [[2, 4], [6, 8]])).toBe(6);
    expect(uncovered(3, 5, [[0, 10]])).toBe(0);
  });

  const fault = (p: Partial<FaultRecord> & Pick<FaultRecord, "kind" | "at" | "recoveredAt">): FaultRecord => ({ seq: 1, target: null, host: null, ...p });

  it("windows open at the fault and close the kind's tail after it is undone; no-ops open none", () => {
    const w = windowsOf(
      [
        fault({ seq: 1, kind: "link_cut", at: 1000, recoveredAt: 4000 }),
        fault({ seq: 2, kind: "sip_kill", at: 10_000, recoveredAt: 10_000 }),
        fault({ seq: 3, kind: "switchover", at: 20_000, recoveredAt: 20_000, noop: true }),
      ],
      T,
    );
    expect(w).toHaveLength(2);
    expect(w[0]).toMatchObject({ fault: 1, from: 1000 - WINDOW_LEAD_MS, to: 4000 + 1000 + 1000 + 4000 });
    expect(w[1]).toMatchObject({ fault: 2, from: 10_000 - WINDOW_LEAD_MS, to: 15_000 });
    expect(WINDOWS.db_down.allowed).not.toContain("sip_no_answer");
  });

  it("a violation inside a window allowing its kind is expected; outside, or of a kind the window does not allow, is not", () => {
    const w = windowsOf([fault({ seq: 1, kind: "sip_kill", at: 1000, recoveredAt: 1000 }), fault({ seq: 2, kind: "db_down", at: 20_000, recoveredAt: 25_000 })], T);
    const v: Violation[] = [
      { kind: "sip_no_answer", start: 1010, end: 1050, detail: "no answer" },
      { kind: "sip_no_answer", start: 5500, end: 6500, detail: "no answer" }, // 500 ms past the sip_kill window
      { kind: "sip_no_answer", start: 21_000, end: 21_100, detail: "no answer" }, // the network must stay right with the DB down
      { kind: "panel_unreachable", start: 20_001, end: 26_000, detail: "503" },
      { kind: "operation_stuck", start: 2000, end: 3000, detail: "op" }, // never expected
    ];
    const c = classify(v, w);
    expect(c.map((x) => x.expected)).toEqual([true, false, false, true, false]);
    expect(c[1]!.outsideMs).toBe(500);
    expect(c[1]!.during).toEqual(["#1 sip_kill"]);
    expect(c[2]!.outsideMs).toBe(100);
  });

  it("a violation is put down to the latest fault whose window is open at its start", () => {
    const faults = [fault({ seq: 1, kind: "link_cut", at: 1000, recoveredAt: 3000 }), fault({ seq: 2, kind: "sip_kill", at: 4000, recoveredAt: 4000 })];
    expect(attribute({ start: 3500 }, faults, T)?.seq).toBe(1);
    expect(attribute({ start: 4001 }, faults, T)?.seq).toBe(2);
    expect(attribute({ start: 500 }, faults, T)).toBeNull();
    expect(attribute({ start: 3950 }, faults, T)?.seq).toBe(2); // an OPTIONS sent just before the kill, lost by it
    expect(attribute({ start: 60_000 }, faults, T)).toBeNull();
  });

  it("summary and table: faults by kind, violations by kind with the longest, the longest without SIP, stuck, audit", () => {
    const faults = [
      fault({ seq: 1, kind: "sip_kill", at: 1000, recoveredAt: 1000 }),
      fault({ seq: 2, kind: "sip_kill", at: 8000, recoveredAt: 8000 }),
      fault({ seq: 1, kind: "switchover", at: 9000, recoveredAt: 9000, noop: true, note: "409" }),
    ];
    const c = classify(
      [
        { kind: "sip_no_answer", start: 1010, end: 1040, detail: "no answer" },
        { kind: "sip_no_answer", start: 8010, end: 8090, detail: "no answer" },
        { kind: "vip_holders", start: 30_000, end: 30_020, detail: "VIP on []" },
      ],
      windowsOf(faults, T),
    );
    const s = summarise({ seed: 9, minutes: 1, startedAt: 0, endedAt: 60_000, faults, classified: c, operationsStuck: 0, auditOk: true, auditDetail: "12 rows checked", timings: T });
    expect(s.faultsByKind).toEqual({ sip_kill: { count: 2, noop: 0, longestSipMs: 80, longestVipMs: 0 }, switchover: { count: 1, noop: 1, longestSipMs: 0, longestVipMs: 0 } });
    expect(s.violationsByKind.sip_no_answer).toEqual({ expected: 2, longestExpectedMs: 80, unexpected: 0, longestUnexpectedMs: 0 });
    expect(s.violationsByKind.vip_holders).toEqual({ expected: 0, longestExpectedMs: 0, unexpected: 1, longestUnexpectedMs: 20 });
    expect(s.longestWithoutSipAnswerMs).toBe(80);
    expect(s.longestWithoutSipAnswerDuring).toEqual(["#2 sip_kill"]);
    const md = table(s, T);
    expect(md).toContain("| sip_kill | 2 | 0 | 80 | 0 | 5000 |");
    expect(md).toContain("| **total** | 3 | 1 |");
    expect(md).toContain("| sip_no_answer | 2 | 80 | 0 | 0 |");
    expect(md).toContain("| vip_holders | 0 | 0 | 1 | 20 |");
    expect(md).toContain("Longest time without a SIP 200 through the VIP: 80 ms (during #2 sip_kill)");
    expect(md).toContain("Audit chain at the end (GET /api/audit/verify): ok (12 rows checked)");
    expect(md).toMatch(/Violations outside the documented windows:\n\n- 1970-01-01T00:00:30.000Z vip_holders for 20 ms/);
  });
});
