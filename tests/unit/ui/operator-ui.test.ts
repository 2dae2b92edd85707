// The operator UI's pure parts: the alarm filters (URL <-> API, the live predicate) and the override menu.
import { describe, expect, it } from "vitest";
import * as filtersModule from "@/components/alarms/filters";
import { apiQuery, filtersQuery, matches, parseFilters } from "@/components/alarms/filters";
import { confirmLabel, requestBody, serverMenu } from "@/components/overrides/requests";
import type { AlarmJson } from "@/lib/realtime/events";
import type { PairView, ServerView } from "@/lib/views";

const alarm = (o: Partial<AlarmJson>): AlarmJson => ({
  id: "a1", kind: "primary_failed", severity: "critical", pairId: "p1", hostId: "h1", message: "m", details: {},
  active: true, state: "active", raisedAt: "2026-12-01T00:00:00Z", clearedAt: null, acknowledgedAt: null, acknowledgedBy: null, acknowledgeComment: null, ...o,
});

describe("alarm filters", () => {
  it("default is open; the URL leaves defaults out and round-trips", () => {
    const f = parseFilters(new URLSearchParams(""));
    expect(f).toEqual({ state: "open", severity: [], kind: null, pair: null });
    expect(filtersQuery(f)).toBe("");
    const g = parseFilters(new URLSearchParams("state=acknowledged&severity=critical,bogus&kind=backup_failed&pair=p1"));
    expect(g).toEqual({ state: "acknowledged", severity: ["critical"], kind: "backup_failed", pair: "p1" });
    expect(parseFilters(new URLSearchParams(filtersQuery(g).slice(1)))).toEqual(g);
    expect(apiQuery(g)).toEqual({ state: "acknowledged", severity: "critical", kind: "backup_failed", pairId: "p1" });
    expect(parseFilters(new URLSearchParams("state=nonsense&kind=nonsense")).state).toBe("open");
  });

  it("the live predicate follows the API's states", () => {
    const open = parseFilters(new URLSearchParams(""));
    expect(matches(alarm({}), open)).toBe(true);
    const clearedUnacked = alarm({ active: false, state: "cleared_unacknowledged", clearedAt: "2026-12-01T00:00:01Z" });
    expect(matches(clearedUnacked, open)).toBe(true);
    const over = alarm({ active: false, state: "acknowledged", clearedAt: "x", acknowledgedAt: "y" });
    expect(matches(over, open)).toBe(false); // acknowledged and cleared: leaves the default view
    expect(matches(alarm({ state: "acknowledged", acknowledgedAt: "y" }), open)).toBe(true); // acknowledged, condition present
    expect(matches(clearedUnacked, parseFilters(new URLSearchParams("state=unacknowledged")))).toBe(true);
    expect(matches(over, parseFilters(new URLSearchParams("state=cleared_unacknowledged,cleared")))).toBe(false);
    expect(matches(alarm({ severity: "minor" }), parseFilters(new URLSearchParams("severity=critical,major")))).toBe(false);
    expect(matches(alarm({ pairId: "p2" }), parseFilters(new URLSearchParams("pair=p1")))).toBe(false);
  });
});

const server = (o: Partial<ServerView>): ServerView => ({
  id: "s1", name: "sip-1", hostId: "h1", hostName: "host-1", appName: "sip", configuredRole: "primary", agentConnected: true,
  processState: "running", mode: "primary", vip: "enabled", healthy: true, pid: 1, lastHeartbeatAt: null, ...o,
});
const pair = (a: Partial<ServerView>, b: Partial<ServerView>): PairView =>
  ({ id: "p1", name: "pair", servers: [server(a), server({ id: "s2", name: "sip-2", hostName: "host-2", configuredRole: "backup", mode: "backup", vip: "disabled", ...b })] }) as unknown as PairView;

describe("override menu", () => {
  it("offers what applies to each server now", () => {
    const p = pair({}, {});
    expect(serverMenu(p, p.servers[0]).map((i) => i.label)).toEqual(["Restart…", "Graceful stop…", "Stop…"]);
    expect(serverMenu(p, p.servers[1]).map((i) => i.label)).toEqual(["Restart…", "Stop…"]);
    const stopped = pair({}, { processState: "stopped", mode: "unknown" });
    expect(serverMenu(stopped, stopped.servers[1]).map((i) => i.label)).toEqual(["Start…"]);
    const dark = pair({ processState: "stopped", mode: "unknown" }, {});
    expect(serverMenu(dark, dark.servers[1]).map((i) => i.label)).toEqual(["Promote…", "Restart…", "Stop…"]);
  });

  it("names the action on the confirm button and sends confirmMaintenance only when confirmed", () => {
    const p = pair({}, {});
    expect(confirmLabel(p, { kind: "app_stop", serverId: "s1", graceful: false })).toBe("Stop sip-1");
    expect(confirmLabel(p, { kind: "app_start", serverId: "s2", mode: "backup" })).toBe("Start sip-2 as backup");
    expect(confirmLabel(p, { kind: "manual_switchover" }, { name: "sip-2" })).toBe("Make sip-2 primary");
    expect(requestBody({ kind: "clear_holddown" }, "  ", false)).toEqual({ kind: "clear_holddown" });
    expect(requestBody({ kind: "promote", serverId: "s2" }, " why ", true)).toEqual({ kind: "promote", serverId: "s2", reason: "why", confirmMaintenance: true });
  });
});

describe("laterAlarm", () => {
  it("keeps whichever copy is further along, merging clear and acknowledgement", () => {
    const { laterAlarm } = filtersModule;
    const raised = alarm({});
    const cleared = alarm({ active: false, state: "cleared_unacknowledged", clearedAt: "2026-12-01T00:00:01Z" });
    expect(laterAlarm(cleared, raised)).toMatchObject({ state: "cleared_unacknowledged", active: false, clearedAt: cleared.clearedAt });
    expect(laterAlarm(raised, cleared).state).toBe("cleared_unacknowledged");
    const ackedWhileActive = alarm({ state: "acknowledged", acknowledgedAt: "2026-12-01T00:00:02Z", acknowledgedBy: "op", acknowledgeComment: "c" });
    expect(laterAlarm(cleared, ackedWhileActive)).toMatchObject({ state: "acknowledged", active: false, acknowledgedBy: "op", acknowledgeComment: "c" });
    expect(laterAlarm(undefined, raised)).toBe(raised);
  });
});
