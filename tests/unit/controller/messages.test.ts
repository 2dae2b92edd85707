import { describe, expect, it } from "vitest";
import { FromController, ToController } from "@/lib/controller/messages";

const pairId = "0b5cf8b2-4f8e-4e5a-9b1d-2a6f3c1d9e01";

describe("web ↔ controller messages", () => {
  it("accepts the requests the web side sends", () => {
    expect(ToController.safeParse({ type: "who" }).success).toBe(true);
    expect(ToController.safeParse({ type: "preflight", id: "r1", to: "c1", pairId }).success).toBe(true);
    expect(ToController.safeParse({ type: "switchover", id: "r2", to: "c1", pairId, actor: "alice", reason: null, toServerId: null }).success).toBe(true);
  });

  it("refuses malformed ones (a controller then ignores them)", () => {
    expect(ToController.safeParse({ type: "switchover", id: "r2", to: "c1", pairId: "not-a-uuid", actor: "alice", reason: null, toServerId: null }).success).toBe(false);
    expect(ToController.safeParse({ type: "switchover", id: "r2", to: "c1", pairId, actor: "", reason: null, toServerId: null }).success).toBe(false);
    expect(ToController.safeParse({ type: "switchover", id: "r2", to: "c1", pairId, actor: "a", reason: "x".repeat(501), toServerId: null }).success).toBe(false);
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
