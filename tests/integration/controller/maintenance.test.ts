/**
 * Maintenance windows (issue 10): scheduled per pair (start, end, who, why); during one the controller takes
 * no automatic action, and it decides again the moment the window ends (a timer at the boundary, no
 * polling). Ended early, cancelled, listed; maintenance switched on and off for several pairs at once.
 * Real Postgres, agents and simulated SIP Servers; the controller runs in this process.
 */
import { describe, expect, it } from "vitest";
import * as windows from "@/app/api/maintenance-windows/route";
import * as windowOne from "@/app/api/maintenance-windows/[id]/route";
import * as bulk from "@/app/api/pairs/maintenance/route";
import { db } from "@/lib/db";
import { auditOf, operationsOf, pairView, controllerSuite, waitFor, waitHealthy, waitOperationDone, startLabPair } from "./lab";
import { callAs } from "./api";
import { killGroup } from "../agent/helpers";

const suite = controllerSuite();
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("maintenance windows", () => {
  it("no automatic action inside a window; the controller acts the moment it ends", async () => {
    const lab = await suite.start();
    const v0 = await waitHealthy(lab, 0);
    const r = await callAs(windows.POST, "POST", "/api/maintenance-windows", { pairIds: [lab.pairId], startsAt: at(800), endsAt: at(3800), reason: "patching host 1" });
    expect(r.status).toBe(201);
    const win = r.body.windows[0];
    expect(win).toMatchObject({ pairId: lab.pairId, pairName: lab.name, state: "upcoming", reason: "patching host 1", createdBy: expect.stringMatching(/^token:/) });
    // The window starts by itself (the controller woke at its start): the view says maintenance.
    const inside = await waitFor("window started", async () => ((await pairView(lab.pairId))?.maintenance ? await pairView(lab.pairId) : null), 5000);
    expect(inside!.maintenanceWindows.map((w) => w.id)).toEqual([win.id]);

    killGroup(v0.servers[0].pid, "SIGKILL");
    const note = await waitFor("the non-action explained", async () =>
      (await auditOf(lab.pairId)).find((e) => e.action === "decision" && String((e.details as { reason?: string }).reason).startsWith("maintenance window until")),
    );
    expect((note.details as { reason: string }).reason).toMatch(/^maintenance window until \d\d:\d\d:\d\d UTC \(token:[^:]+: patching host 1\): no action \(would have: /);
    expect(await operationsOf(lab.pairId)).toEqual([]);

    // At the window's end, with nothing else happening, the controller decides again and acts.
    const op = await waitOperationDone(lab.pairId, "failover", 1, 10_000);
    expect(op.createdAt.getTime()).toBeGreaterThanOrEqual(Date.parse(win.endsAt));
    expect(op.status).toBe("succeeded");
    expect((await pairView(lab.pairId))?.maintenance).toBe(false);
  });

  it("list, end early, cancel; clear errors; several pairs at once", async () => {
    const a = await suite.start();
    const b = await startLabPair();
    try {
      await waitHealthy(a, 0);
      const now = await callAs(windows.POST, "POST", "/api/maintenance-windows", { pairIds: [a.pairId, b.pairId], startsAt: at(-1000), endsAt: at(3_600_000), reason: "patch night" });
      expect(now.status).toBe(201);
      expect(now.body.windows.map((w: { state: string }) => w.state)).toEqual(["current", "current"]);
      const later = await callAs(windows.POST, "POST", "/api/maintenance-windows", { pairIds: [a.pairId], startsAt: at(86_400_000), endsAt: at(90_000_000), reason: "next week" });
      const listed = await callAs(windows.GET, "GET", `/api/maintenance-windows?pairId=${a.pairId}`);
      expect(listed.body.windows.map((w: { state: string }) => w.state)).toEqual(["current", "upcoming"]);
      await waitFor("a in maintenance", async () => (await pairView(a.pairId))?.maintenance === true);

      const ended = await callAs(windowOne.DELETE, "DELETE", `/api/maintenance-windows/${now.body.windows[0].id}`, undefined, { id: now.body.windows[0].id });
      expect(ended.body.window.state).toBe("past");
      await waitFor("a out of maintenance", async () => (await pairView(a.pairId))?.maintenance === false);
      const again = await callAs(windowOne.DELETE, "DELETE", `/api/maintenance-windows/${now.body.windows[0].id}`, undefined, { id: now.body.windows[0].id });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toBe(`this maintenance window of ${a.name} is over already`);
      const cancelled = await callAs(windowOne.DELETE, "DELETE", `/api/maintenance-windows/${later.body.windows[0].id}`, undefined, { id: later.body.windows[0].id });
      expect(cancelled.body.window).toMatchObject({ state: "cancelled", cancelledAt: expect.any(String) });
      expect((await auditOf(a.pairId)).map((e) => e.action).filter((x) => x.startsWith("maintenance."))).toEqual(["maintenance.schedule", "maintenance.schedule", "maintenance.end", "maintenance.cancel"]);

      const bad: [unknown, RegExp][] = [
        [{ pairIds: [a.pairId], startsAt: at(5000), endsAt: at(1000), reason: "x" }, /endsAt: must be after startsAt/],
        [{ pairIds: [a.pairId], startsAt: at(-9000), endsAt: at(-1000), reason: "x" }, /endsAt: is in the past/],
        [{ pairIds: [a.pairId], startsAt: at(0), endsAt: at(40 * 86_400_000), reason: "x" }, /at most 31 days/],
        [{ pairIds: [a.pairId], startsAt: "tomorrow", endsAt: at(1000), reason: "x" }, /ISO 8601/],
        [{ pairIds: [a.pairId], startsAt: at(0), endsAt: at(1000), reason: " " }, /say why/],
        [{ pairIds: [a.pairId, a.pairId], startsAt: at(0), endsAt: at(1000), reason: "x" }, /names a pair twice/],
      ];
      for (const [body, message] of bad) {
        const r = await callAs(windows.POST, "POST", "/api/maintenance-windows", body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.message, JSON.stringify(body)).toMatch(message);
      }
      const ghost = "00000000-0000-4000-8000-000000000000";
      const missing = await callAs(windows.POST, "POST", "/api/maintenance-windows", { pairIds: [a.pairId, ghost], startsAt: at(0), endsAt: at(1000), reason: "x" });
      expect(missing.status).toBe(404);
      expect(missing.body.error.message).toContain(ghost);
      expect(await db.maintenanceWindow.count({ where: { pairId: a.pairId } })).toBe(2); // nothing written by the refused ones

      // The bulk switch: on for both, again (unchanged), off for both.
      const on = await callAs(bulk.POST, "POST", "/api/pairs/maintenance", { pairIds: [a.pairId, b.pairId], maintenance: true, reason: "core switch upgrade" });
      expect(on.body).toEqual({ changed: [a.pairId, b.pairId], unchanged: [] });
      expect((await callAs(bulk.POST, "POST", "/api/pairs/maintenance", { pairIds: [a.pairId], maintenance: true })).body).toEqual({ changed: [], unchanged: [a.pairId] });
      await waitFor("both in maintenance", async () => (await pairView(a.pairId))?.maintenance === true);
      expect((await callAs(bulk.POST, "POST", "/api/pairs/maintenance", { pairIds: [a.pairId, b.pairId], maintenance: false })).body.changed).toHaveLength(2);
      expect((await auditOf(b.pairId)).filter((e) => e.action === "pair.maintenance").map((e) => (e.details as { maintenance: boolean }).maintenance)).toEqual([true, false]);
    } finally {
      await b.cleanup();
    }
  });
});
