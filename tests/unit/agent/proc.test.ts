import { describe, expect, test } from "vitest";
import { escapedDescendants, membersOf, parseStat, type ProcInfo } from "../../../agent/proc";

const stat = (pid: number, comm: string, state: string, ppid: number, pgid: number, sid: number, start: number) =>
  `${pid} (${comm}) ${state} ${ppid} ${pgid} ${sid} 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 1000 200 1844\n`;

describe("parseStat", () => {
  test("reads pid, comm, state, ppid, group, session and start time", () => {
    expect(parseStat(stat(42, "kamailio", "S", 1, 40, 40, 12345))).toEqual({ pid: 42, comm: "kamailio", state: "S", ppid: 1, pgid: 40, sid: 40, startTime: "12345" });
  });
  test("a command name with spaces and parentheses", () => {
    expect(parseStat(stat(7, "a) (b c", "R", 2, 7, 7, 9))?.comm).toBe("a) (b c");
  });
  test("garbage is null", () => {
    expect(parseStat("nonsense")).toBeNull();
  });
});

describe("membersOf / escapedDescendants", () => {
  const p = (pid: number, ppid: number, pgid: number, sid: number, start = pid * 10): ProcInfo => ({ pid, comm: `p${pid}`, state: "S", ppid, pgid, sid, startTime: String(start) });
  // leader 100 is dead; 101/102 workers (group), 103 setpgid'd but same session, 104 setsid'd child of 101,
  // 105 child of 104, 106 orphan that left both (parent gone), 200 unrelated
  const table = [p(101, 1, 100, 100), p(102, 1, 100, 100), p(103, 1, 103, 100), p(104, 101, 104, 104), p(105, 104, 104, 104), p(106, 1, 106, 106), p(200, 1, 200, 200), p(999, 1, 999, 999)];

  test("group, session, descendants of live members; a remembered escapee by its start time; the agent excluded", () => {
    const m = membersOf(table, 100, [{ pid: 106, startTime: "1060", comm: "p106" }], [999]);
    expect(m.map((x) => [x.pid, x.via])).toEqual([
      [101, "group"],
      [102, "group"],
      [103, "session"],
      [104, "descendant"],
      [105, "descendant"],
      [106, "descendant"],
    ]);
  });
  test("a remembered pid now used by another process (other start time) is not listed", () => {
    expect(membersOf(table, 100, [{ pid: 200, startTime: "1", comm: "old" }]).some((x) => x.pid === 200)).toBe(false);
  });
  test("bornWithin: a process started before the app, or after the clean-up began (a reused pid's group), is not the app's", () => {
    const t = [p(101, 1, 100, 100, 500), p(102, 1, 100, 100, 50), p(103, 1, 100, 100, 5000)];
    expect(membersOf(t, 100, [], [], { from: 100, to: 1000 }).map((x) => x.pid)).toEqual([101]);
  });
  test("escapedDescendants: only descendants outside the root's group and session", () => {
    const live = [p(100, 1, 100, 100), p(101, 100, 100, 100), p(104, 101, 104, 104), p(105, 104, 104, 104), p(106, 1, 106, 106)];
    expect(escapedDescendants(live, 100).map((x) => x.pid)).toEqual([104, 105]);
  });
});
