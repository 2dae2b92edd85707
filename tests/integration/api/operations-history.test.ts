/**
 * The operations history (GET /api/operations, /api/operations/export) and the audit's sentences, over a
 * real switchover and a real failover: real agents and simulated SIP Servers, the controller in this
 * process, the route handlers called in-process with a viewer's API token. The VIP moving time is checked
 * against the step times the controller recorded.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { createUser } from "@/lib/queries/users";
import { createToken } from "@/lib/queries/tokens";
import * as list from "@/app/api/operations/route";
import * as one from "@/app/api/operations/[id]/route";
import * as exportRoute from "@/app/api/operations/export/route";
import * as audit from "@/app/api/audit/route";
import * as auditExport from "@/app/api/audit/export/route";
import { runController, type ControllerHandle } from "@/lib/controller";
import { operationsOf, quietLog, startLabPair, waitFor, waitHealthy, waitOperationDone, type LabPair } from "../controller/lab";
import { switchover } from "../controller/api";
import { killGroup } from "../agent/helpers";
import { call } from "./client";

// One controller and one lab pair for the whole file: each test reads what the first one made.
let controller: ControllerHandle;
let lab: LabPair;
let token: string;

afterAll(async () => {
  await lab?.cleanup();
  await controller?.stop();
});

beforeAll(async () => {
  controller = runController({ log: quietLog, databaseUrl: process.env.DATABASE_URL! });
  await waitFor("leadership", async () => controller.epoch !== null);
  const username = `viewer-${randomBytes(3).toString("hex")}`;
  const u = await createUser({ username, password: "correct horse battery staple 2", role: "viewer" }, "test");
  token = (await createToken({ name: `t-${username}`, role: "viewer" }, { kind: "user", userId: u.id, username, role: "viewer", credentialId: "test" }, "test")).token;
});

const get = (path: string) => call(list.GET, { token, path });
const ms = (d: Date | null) => d!.getTime();

/** The VIP moving time by hand, from the rows: first demote/vip_disable/promote start → vip_enable end. */
function expectedMoving(steps: { seq: number; action: string; startedAt: Date | null; finishedAt: Date | null }[], starts: string[]) {
  const enable = steps.find((s) => s.action === "vip_enable")!;
  const first = Math.min(...steps.filter((s) => starts.includes(s.action) && s.seq < enable.seq).map((s) => ms(s.startedAt)));
  return ms(enable.finishedAt) - first;
}

describe("operations history", () => {
  it("lists a real switchover and a real failover with names, who and why, durations and the VIP moving time", async () => {
    lab = await startLabPair();
    await waitHealthy(lab, 0);
    expect((await switchover(lab.pairId, { reason: "patching host 1" })).status).toBe(202);
    await waitOperationDone(lab.pairId, "manual_switchover");
    const v = await waitHealthy(lab, 1);
    killGroup(v.servers[1].pid, "SIGKILL");
    await waitOperationDone(lab.pairId, "failover");
    await waitHealthy(lab, 0);
    const [sw, fo] = await operationsOf(lab.pairId);
    const [h1, h2] = lab.hosts;

    const r = await get(`/api/operations?pairId=${lab.pairId}`);
    expect(r.status).toBe(200);
    expect(r.json.nextCursor).toBeNull();
    const [a, b] = r.json.operations;
    expect(r.json.operations).toHaveLength(2);
    // Newest first: the failover, then the switchover.
    expect(a).toMatchObject({
      id: fo.id,
      kind: "failover",
      status: "succeeded",
      pairName: lab.name,
      requestedBy: "controller",
      reason: null,
      decision: `primary sip-2 exited with signal SIGKILL on ${h2.name}; promoting sip-1`,
      from: { id: h2.serverId, name: "sip-2", hostName: h2.name, hostAddress: "127.0.0.1" },
      to: { id: h1.serverId, name: "sip-1", hostName: h1.name, hostAddress: "127.0.0.1" },
      stepCount: 4,
      steps: [],
      error: null,
    });
    expect(b).toMatchObject({
      id: sw.id,
      kind: "manual_switchover",
      requestedBy: expect.stringMatching(/^token:/),
      reason: "patching host 1",
      from: { name: "sip-1", hostName: h1.name },
      to: { name: "sip-2", hostName: h2.name },
      stepCount: 5,
    });
    expect(a.durationMs).toBe(ms(fo.finishedAt) - ms(fo.startedAt));
    expect(b.durationMs).toBe(ms(sw.finishedAt) - ms(sw.startedAt));
    // The VIP moving time from the recorded step times: switchover from the demote, failover from the promote.
    expect(b.vipMovingMs).toBe(expectedMoving(sw.steps, ["demote", "vip_disable"]));
    expect(a.vipMovingMs).toBe(expectedMoving(fo.steps, ["promote"]));
    expect(a.vipMovingMs).toBeGreaterThanOrEqual(0);
    expect(b.vipMovingMs).toBeLessThanOrEqual(b.durationMs);
    // The failover's vip_disable on the failed host comes after the vip_enable: it does not count.
    expect(fo.steps.map((s) => s.action)).toEqual(["promote", "vip_enable", "vip_disable", "verify"]);

    // One operation keeps its steps.
    const detail = await call(one.GET, { token, params: { id: sw.id } });
    expect(detail.json.operation.steps.map((s: { action: string }) => s.action)).toEqual(["demote", "vip_disable", "promote", "vip_enable", "verify"]);
  });

  it("filters by pair, kind, status, requester, time and text", async () => {
    const p = `pairId=${lab.pairId}`;
    const kinds = async (q: string) => (await get(`/api/operations?${p}&${q}`)).json.operations.map((o: { kind: string }) => o.kind);
    expect(await kinds("kind=failover")).toEqual(["failover"]);
    expect(await kinds("kind=manual_switchover,failover")).toEqual(["failover", "manual_switchover"]);
    expect(await kinds("kind=vip_repair")).toEqual([]);
    expect(await kinds("status=succeeded")).toEqual(["failover", "manual_switchover"]);
    expect(await kinds("status=failed,running")).toEqual([]);
    expect(await kinds("requestedBy=controller")).toEqual(["failover"]);
    expect(await kinds("q=PATCHING")).toEqual(["manual_switchover"]);
    expect(await kinds("q=SIGKILL")).toEqual(["failover"]);
    expect(await kinds(`q=${lab.name}`)).toEqual(["failover", "manual_switchover"]);
    expect(await kinds("q=50%25_off")).toEqual([]);
    // By its id (the audit links an operation's rows this way), in any case.
    const [sw] = await operationsOf(lab.pairId);
    expect(await kinds(`q=${sw.id.toUpperCase()}`)).toEqual(["manual_switchover"]);
    expect(await kinds("from=2999-01-01T00:00:00Z")).toEqual([]);
    expect(await kinds("to=2000-01-01T00:00:00Z")).toEqual([]);
    expect(await kinds(`from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual(["failover", "manual_switchover"]);
    // Over all pairs (no pairId): ours are there.
    const all = (await get("/api/operations?limit=500")).json.operations.map((o: { pairId: string }) => o.pairId);
    expect(all.filter((id: string) => id === lab.pairId)).toHaveLength(2);
  });

  it("pages with a cursor, newest first, ties on the creation time broken by id, nothing twice or lost", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const ids = Array.from({ length: 5 }, () => randomUUID());
    await db.operation.createMany({ data: ids.map((id) => ({ id, pairId: lab.pairId, kind: "vip_repair", status: "failed", requestedBy: "controller", error: "test row", createdAt: at })) });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/operations?pairId=${lab.pairId}&kind=vip_repair&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...r.json.operations.map((o: { id: string }) => o.id));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort().reverse());
    const failed = (await get(`/api/operations?pairId=${lab.pairId}&status=failed`)).json.operations[0];
    expect(failed).toMatchObject({ kind: "vip_repair", vipMovingMs: null, durationMs: null, stepCount: 0, from: null, to: null, error: "test row" });
    await db.operation.deleteMany({ where: { id: { in: ids } } });
  });

  it("exports CSV and JSON with names rather than ids, oldest first", async () => {
    const csv = await call(exportRoute.GET, { token, path: `/api/operations/export?format=csv&pairId=${lab.pairId}` });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="switchyard-operations-.*\.csv"/);
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe("id,kind,kindLabel,pair,status,requestedBy,reason,decision,from,fromHost,fromAddress,to,toHost,toAddress,createdAt,startedAt,finishedAt,durationMs,vipMovingMs,stepCount,error,steps");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`,manual_switchover,Manual switchover,${lab.name},succeeded,`);
    expect(lines[1]).toContain(`,sip-1,${lab.hosts[0].name},127.0.0.1,sip-2,${lab.hosts[1].name},127.0.0.1,`);
    expect(lines[2]).toContain(`,failover,Failover,${lab.name},succeeded,controller,`);
    expect(lines[2]).toContain(`1 promote sip-1 on ${lab.hosts[0].name}: succeeded`);
    // No id of the pair, its servers or hosts anywhere: names only.
    for (const id of [lab.pairId, lab.hosts[0].serverId, lab.hosts[1].serverId, lab.hosts[0].hostId, lab.hosts[1].hostId]) expect(csv.text).not.toContain(id);

    const js = await call(exportRoute.GET, { token, path: `/api/operations/export?pairId=${lab.pairId}` });
    expect(js.headers.get("content-type")).toMatch(/^application\/json/);
    expect(js.json.map((o: { kind: string }) => o.kind)).toEqual(["manual_switchover", "failover"]);
    const [sw, fo] = js.json;
    expect(sw).toMatchObject({ pair: lab.name, from: "sip-1", to: "sip-2", reason: "patching host 1", stepCount: 5, kindLabel: "Manual switchover" });
    expect(sw.steps.map((s: { action: string; target: string }) => `${s.action} ${s.target}`)[0]).toBe(`demote sip-1 on ${lab.hosts[0].name}`);
    const listed = (await get(`/api/operations?pairId=${lab.pairId}`)).json.operations;
    expect(fo.vipMovingMs).toBe(listed[0].vipMovingMs);
    expect(sw.vipMovingMs).toBe(listed[1].vipMovingMs);
    for (const id of [lab.pairId, lab.hosts[0].serverId, lab.hosts[1].serverId]) expect(js.text).not.toContain(id);
  });

  it("answers 400 naming the field for bad input, list and export alike, before the first byte", async () => {
    const bad: [string, string][] = [
      ["kind=switchover", "kind"],
      ["kind=,", "kind"],
      ["kind=failover,nope", "kind"],
      ["status=done", "status"],
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=abc", "limit"],
      ["limit=1.5", "limit"],
      ["cursor=zzz", "cursor"],
      ["cursor=999999999999999.00000000-0000-4000-8000-000000000000", "cursor"],
      ["cursor=1.not-a-uuid-but-thirty-six-characters", "cursor"],
      ["from=yesterday", "from"],
      ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"],
      ["to=-271821-04-20T00:00:00Z", "to"],
      ["pairId=abc", "pairId"],
      ["pairId=%00", "pairId"],
      ["q=a%00b", "q"],
      ["requestedBy=%00", "requestedBy"],
      [`requestedBy=${"x".repeat(129)}`, "requestedBy"],
      ["q=" + "x".repeat(201), "q"],
      ["colour=blue", ""],
    ];
    for (const [q, field] of bad) {
      for (const [handler, path] of [
        [list.GET, "/api/operations"],
        [exportRoute.GET, "/api/operations/export"],
      ] as const) {
        if (path.endsWith("export") && /^(limit|cursor)=/.test(q)) continue; // the export has neither
        const r = await call(handler, { token, path: `${path}?${q}` });
        expect(r.status, `${path}?${q}`).toBe(400);
        expect(r.json.error.code).toBe("invalid_input");
        if (field) expect(r.json.error.field, `${path}?${q}`).toBe(field);
      }
    }
    const fmt = await call(exportRoute.GET, { token, path: "/api/operations/export?format=xml" });
    expect(fmt.status).toBe(400);
    expect(fmt.json.error.field).toBe("format");
    expect((await call(exportRoute.GET, { token, path: "/api/operations/export?limit=5" })).status).toBe(400);
    expect((await call(list.GET, { path: "/api/operations" })).status).toBe(401);
  });

  it("audit rows read as sentences and link to their operation; a critical alarm's outcome is its severity", async () => {
    const [sw, fo] = await operationsOf(lab.pairId);
    const r = await call(audit.GET, { token, path: `/api/audit?pairId=${lab.pairId}&limit=500` });
    expect(r.status).toBe(200);
    const items = r.json.items as { action: string; sentence: string; operationId: string | null; targetId: string; outcome: string; details: Record<string, unknown> }[];
    expect(items.every((i) => typeof i.sentence === "string" && i.sentence.length > 0)).toBe(true);
    const finished = items.filter((i) => i.action === "operation.finished");
    const foRow = finished.find((i) => i.operationId === fo.id)!;
    const [h1, h2] = lab.hosts;
    expect(foRow.sentence).toMatch(
      new RegExp(`^controller: failover on ${lab.name}: sip-1 on ${h1.name} promoted after primary sip-2 exited with signal SIGKILL on ${h2.name} — succeeded in \\d+ ms$`),
    );
    // The failover's "before" is before the fault: the failed primary's host held the VIP (its agent took it down).
    const before = (foRow.details as { before: { server: string; vip: string }[] }).before;
    expect(before.find((b) => b.server === "sip-2")!.vip).toBe("enabled");
    const swRow = finished.find((i) => i.operationId === sw.id)!;
    expect(swRow.sentence).toMatch(
      new RegExp(`^controller: manual switchover on ${lab.name}: sip-1 on ${h1.name} demoted, sip-2 on ${h2.name} promoted, requested by token:\\S+ \\(reason: patching host 1\\) — succeeded in \\d+ ms$`),
    );
    // Every operation.* row names its operation; others name none.
    for (const i of items) {
      if (i.action.startsWith("operation.") && i.action !== "operation.refused") expect([sw.id, fo.id], i.action).toContain(i.operationId);
      else expect(i.operationId).toBeNull();
    }
    const raised = items.find((i) => i.action === "alarm.raised" && i.details.kind === "primary_failed")!;
    expect(raised.outcome).toBe("critical");
    expect(raised.sentence).toBe(`controller raised a critical alarm on ${lab.name}: primary sip-2 exited with signal SIGKILL on ${h2.name}`);
    const critical = await call(audit.GET, { token, path: `/api/audit?pairId=${lab.pairId}&outcome=critical` });
    expect(critical.json.items.map((i: { action: string }) => i.action)).toEqual(["alarm.raised"]);

    const csv = await call(auditExport.GET, { token, path: `/api/audit/export?format=csv&pairId=${lab.pairId}&action=operation.finished` });
    const lines = csv.text.trim().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain(`,${fo.id},`);
    expect(lines[2]).toContain(`controller: failover on ${lab.name}: sip-1 on ${h1.name} promoted after primary sip-2 exited`);
  });
});
