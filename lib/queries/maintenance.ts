/**
 * Maintenance: scheduled windows per pair and the bulk maintenance switch, each change with its audit row.
 * The leader hears every change (the MaintenanceWindow trigger notifies like a pair's) and decides again at
 * each window's start and end (decide.ts wakes at the next boundary): no polling.
 */
import { db, type Prisma } from "@/lib/db";
import { conflict, notFound } from "@/lib/http/errors";
import type { MaintenanceWindowView } from "@/lib/views";
import { audited, type Tx } from "./tx";

export interface WindowJson extends MaintenanceWindowView {
  pairName: string;
  state: "current" | "upcoming" | "past" | "cancelled";
  createdAt: string;
  cancelledAt: string | null;
}

type Row = Prisma.MaintenanceWindowGetPayload<{ include: { pair: { select: { name: true } } } }>;

function toJson(w: Row, now = Date.now()): WindowJson {
  const state = w.cancelledAt ? "cancelled" : w.endsAt.getTime() <= now ? "past" : w.startsAt.getTime() <= now ? "current" : "upcoming";
  return {
    id: w.id,
    pairId: w.pairId,
    pairName: w.pair.name,
    startsAt: w.startsAt.toISOString(),
    endsAt: w.endsAt.toISOString(),
    reason: w.reason,
    createdBy: w.createdBy,
    createdAt: w.createdAt.toISOString(),
    cancelledAt: w.cancelledAt?.toISOString() ?? null,
    state,
  };
}

const include = { pair: { select: { name: true } } } as const;

export async function listWindows(q: { pairId?: string; state: "open" | "current" | "upcoming" | "past" | "all"; limit: number }): Promise<WindowJson[]> {
  const now = new Date();
  const live = { cancelledAt: null };
  const where: Prisma.MaintenanceWindowWhereInput = {
    ...(q.pairId ? { pairId: q.pairId } : {}),
    ...(q.state === "open" ? { ...live, endsAt: { gt: now } } : {}),
    ...(q.state === "current" ? { ...live, startsAt: { lte: now }, endsAt: { gt: now } } : {}),
    ...(q.state === "upcoming" ? { ...live, startsAt: { gt: now } } : {}),
    ...(q.state === "past" ? { OR: [{ endsAt: { lte: now } }, { cancelledAt: { not: null } }] } : {}),
  };
  const past = q.state === "past" || q.state === "all";
  const rows = await db.maintenanceWindow.findMany({ where, include, orderBy: [{ startsAt: past ? "desc" : "asc" }, { id: "asc" }], take: q.limit });
  return rows.map((r) => toJson(r, now.getTime()));
}

async function pairNames(tx: Tx, ids: string[]): Promise<Map<string, string>> {
  const pairs = await tx.pair.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
  const missing = ids.filter((id) => !pairs.some((p) => p.id === id));
  if (missing.length) throw notFound(`pair${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  return new Map(pairs.map((p) => [p.id, p.name]));
}

/** One window per pair, the same times and reason for all (a patch night over several pairs). */
export async function scheduleWindows(input: { pairIds: string[]; startsAt: string; endsAt: string; reason: string }, actor: string): Promise<WindowJson[]> {
  return audited(async (tx, audit) => {
    const names = await pairNames(tx, input.pairIds);
    const out: WindowJson[] = [];
    for (const pairId of input.pairIds) {
      const w = await tx.maintenanceWindow.create({ data: { pairId, startsAt: new Date(input.startsAt), endsAt: new Date(input.endsAt), reason: input.reason, createdBy: actor }, include });
      await audit({ actor, action: "maintenance.schedule", targetType: "pair", targetId: pairId, pairId, outcome: "success", details: { name: names.get(pairId), windowId: w.id, startsAt: input.startsAt, endsAt: input.endsAt, reason: input.reason } });
      out.push(toJson(w));
    }
    return out;
  });
}

/** Ends a current window now, or cancels an upcoming one. 409 for one that is over already. */
export async function endWindow(id: string, actor: string): Promise<WindowJson> {
  return audited(async (tx, audit) => {
    const w = await tx.maintenanceWindow.findUnique({ where: { id }, include });
    if (!w) throw notFound("maintenance window");
    const before = toJson(w);
    if (before.state === "past" || before.state === "cancelled") throw conflict(`this maintenance window of ${w.pair.name} is ${before.state === "past" ? "over" : "cancelled"} already`);
    const now = new Date();
    const row = await tx.maintenanceWindow.update({ where: { id }, data: before.state === "current" ? { endsAt: now } : { cancelledAt: now }, include });
    const action = before.state === "current" ? "maintenance.end" : "maintenance.cancel";
    await audit({ actor, action, targetType: "pair", targetId: w.pairId, pairId: w.pairId, outcome: "success", details: { name: w.pair.name, windowId: id, startsAt: before.startsAt, endsAt: before.endsAt, reason: w.reason } });
    return toJson(row, now.getTime());
  });
}

/** Maintenance on or off for several pairs; the pairs already so are left alone (and not audited). */
export async function setMaintenance(input: { pairIds: string[]; maintenance: boolean; reason?: string }, actor: string): Promise<{ changed: string[]; unchanged: string[] }> {
  return audited(async (tx, audit) => {
    const names = await pairNames(tx, input.pairIds);
    const r = { changed: [] as string[], unchanged: [] as string[] };
    for (const pairId of input.pairIds) {
      const u = await tx.pair.updateMany({ where: { id: pairId, maintenance: !input.maintenance }, data: { maintenance: input.maintenance } });
      if (u.count === 0) {
        r.unchanged.push(pairId);
        continue;
      }
      r.changed.push(pairId);
      await audit({ actor, action: "pair.maintenance", targetType: "pair", targetId: pairId, pairId, outcome: "success", details: { name: names.get(pairId), maintenance: input.maintenance, ...(input.reason ? { reason: input.reason } : {}) } });
    }
    return r;
  });
}
