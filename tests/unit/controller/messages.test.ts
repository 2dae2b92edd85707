import { describe, expect, it } from "vitest";
import { FromController, ToController } from "@/lib/controller/messages";

const pairId = "0b5cf8b2-4f8e-4e5a-9b1d-2a6f3c1d9e01";

describe("web ↔ controller messages", () => {
  it("accepts the requests the web side sends", () => {
    expect(ToController.safeParse({ type: "who" }).success).toBe(true);
    const sw = { kind: "manual_switchover" };
    expect(ToController.safeParse({ type: "preflight", id: "r1", to: "c1", pairId, request: sw, confirmMaintenance: false }).success).toBe(true);
    expect(ToController.safeParse({ type: "request", id: "r2", to: "c1", pairId, actor: "alice", reason: null, request: sw, confirmMaintenance: false }).success).toBe(true);
    const stop = { kind: "app_stop", serverId: pairId, graceful: true };
    expect(ToController.parse({ type: "request", id: "r2", to: "c1", pairId, actor: "alice", reason: "patch", request: stop, confirmMaintenance: true })).toMatchObject({ request: stop });
  });

  it("refuses malformed ones (a controller then ignores them)", () => {
    const ok = { type: "request", id: "r2", to: "c1", pairId, actor: "alice", reason: null, request: { kind: "manual_switchover" }, confirmMaintenance: false };
    expect(ToController.safeParse({ ...ok, pairId: "not-a-uuid" }).success).toBe(false);
    expect(ToController.safeParse({ ...ok, actor: "" }).success).toBe(false);
    expect(ToController.safeParse({ ...ok, reason: "x".repeat(501) }).success).toBe(false);
    expect(ToController.safeParse({ ...ok, request: { kind: "app_stop" } }).success).toBe(false); // no server
    expect(ToController.safeParse({ ...ok, request: { kind: "reboot_host", serverId: pairId } }).success).toBe(false);
    expect(ToController.safeParse({ type: "restart", id: "r3", to: "c1" }).success).toBe(false);
    // A controller's own answers travel on the same channel: they are not requests.
    expect(ToController.safeParse({ type: "here", controllerId: "c1", epoch: 3 }).success).toBe(false);
  });

  it("reads the controller's announcements and replies", () => {
    expect(FromController.parse({ type: "here", controllerId: "c1", epoch: null, journal: null })).toEqual({ type: "here", controllerId: "c1", epoch: null, journal: null });
    expect(FromController.parse({ type: "here", controllerId: "c1", epoch: 4, journal: { pending: 12, since: 1000 } })).toMatchObject({ journal: { pending: 12, since: 1000 } });
    expect(FromController.safeParse({ type: "here", controllerId: "c1", epoch: 1.5, journal: null }).success).toBe(false);
    expect(FromController.safeParse({ type: "here", controllerId: "c1", epoch: 4, journal: { pending: -1, since: null } }).success).toBe(false);
    expect(FromController.safeParse({ type: "who" }).success).toBe(false);
  });
});
