/** Pairs with their two servers and their PairView (the controller's, or "unknown" until it has observed the pair). */
import { db } from "@/lib/db";
import { ApiError, badRequest, conflict, notFound } from "@/lib/http/errors";
import type { PairCreate, PairUpdate, ServerInput } from "@/lib/validation/pairs";
import { PairVip } from "@/lib/validation/pairs";
import { inWindow, unobservedPairView, type PairDto, type PairView, type ServerDto } from "@/lib/views";
import type { HostCfg, PairCfg } from "@/lib/controller/model";
import { audited, type Tx } from "./tx";

const include = {
  servers: { include: { host: { select: { name: true } } } },
  status: { select: { state: true } },
} as const;

type Row = Awaited<ReturnType<typeof loadRow>>;
function loadRow(id: string, tx: Tx = db) {
  return tx.pair.findUnique({ where: { id }, include });
}

type ServerRow = { id: string; name: string; hostId: string; appName: string; configuredRole: string; host: { name: string } };

/** A pair's servers, configured primary (SIP Server 1) first. */
function serverDtos(servers: ServerRow[]): ServerDto[] {
  return [...servers]
    .sort((a, b) => (a.configuredRole === b.configuredRole ? 0 : a.configuredRole === "primary" ? -1 : 1))
    .map((s) => ({
      id: s.id,
      name: s.name,
      hostId: s.hostId,
      hostName: s.host.name,
      appName: s.appName,
      configuredRole: s.configuredRole as "primary" | "backup",
    }));
}

export function toPairDto(p: NonNullable<Row>): PairDto {
  const servers = serverDtos(p.servers);
  const config: Omit<PairDto, "view"> = {
    id: p.id,
    name: p.name,
    vipAddress: p.vipAddress,
    vipPrefix: p.vipPrefix,
    vipInterface: p.vipInterface,
    autoFailover: p.autoFailover,
    disconnectGraceSeconds: p.disconnectGraceSeconds,
    heartbeatTimeoutMs: p.heartbeatTimeoutMs,
    holdDownSeconds: p.holdDownSeconds,
    maintenance: p.maintenance,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    servers,
  };
  const observed = p.status?.state as PairView | null | undefined;
  // Configuration wins for what an admin may just have changed and the controller has not republished yet.
  // (A current maintenance window keeps it in maintenance whatever the flag.)
  const view = observed
    ? { ...observed, name: p.name, maintenance: p.maintenance || inWindow(observed.maintenanceWindows, Date.now()), autoFailover: p.autoFailover }
    : unobservedPairView(config);
  return { ...config, view };
}

export async function listPairs(): Promise<PairDto[]> {
  const rows = await db.pair.findMany({ include, orderBy: { name: "asc" } });
  return rows.map(toPairDto);
}

export async function getPair(id: string): Promise<PairDto> {
  const row = await loadRow(id);
  if (!row) throw notFound("pair");
  return toPairDto(row);
}

/** What the database path of a switchover request needs of the pair; null when it does not exist. */
export function loadPairPolicy(id: string): Promise<{ name: string; maintenance: boolean; autoFailover: boolean; holdDownSeconds: number } | null> {
  return db.pair.findUnique({ where: { id }, select: { name: true, maintenance: true, autoFailover: true, holdDownSeconds: true } });
}

export async function pairExists(id: string): Promise<boolean> {
  return (await db.pair.count({ where: { id } })) > 0;
}

/** The persisted views of every pair (the live channel's snapshot on connect). */
export async function listPairViews(): Promise<PairView[]> {
  const rows = await db.pairStatus.findMany({ select: { state: true } });
  return rows.map((r) => r.state as unknown as PairView).filter((v) => v && typeof v === "object");
}

async function checkServers(tx: Tx, servers: ServerInput[]) {
  for (const [i, s] of servers.entries()) {
    const host = await tx.host.findUnique({ where: { id: s.hostId }, select: { id: true } });
    if (!host) throw badRequest(`servers.${i}.hostId: no host with id ${s.hostId}`, `servers.${i}.hostId`);
  }
}

async function checkUnique(tx: Tx, v: { name?: string; vipAddress?: string }, selfId?: string) {
  if (v.name) {
    const other = await tx.pair.findUnique({ where: { name: v.name }, select: { id: true } });
    if (other && other.id !== selfId) throw conflict(`a pair named ${v.name} already exists`);
  }
  if (v.vipAddress) {
    const other = await tx.pair.findFirst({ where: { vipAddress: v.vipAddress, NOT: selfId ? { id: selfId } : undefined }, select: { name: true } });
    if (other) throw conflict(`VIP ${v.vipAddress} is already used by pair ${other.name}`);
  }
}

function serverRows(servers: ServerInput[]) {
  return servers.map((s, i) => ({ name: s.name, hostId: s.hostId, appName: s.appName, configuredRole: i === 0 ? ("primary" as const) : ("backup" as const) }));
}

export async function createPair(input: PairCreate, actor: string): Promise<PairDto> {
  return audited(async (tx, audit) => {
    await checkUnique(tx, input);
    await checkServers(tx, input.servers);
    const { servers, ...fields } = input;
    const created = await tx.pair.create({ data: { ...fields, servers: { create: serverRows(servers) } }, select: { id: true } });
    const row = (await loadRow(created.id, tx))!;
    await audit({ actor, action: "pair.create", targetType: "pair", targetId: row.id, pairId: row.id, outcome: "success", details: { ...input } });
    return toPairDto(row);
  });
}

async function assertNoActiveOperation(tx: Tx, pairId: string, what: string) {
  const op = await tx.operation.findUnique({ where: { activeKey: pairId }, select: { id: true, kind: true } });
  if (op) throw conflict(`cannot ${what} while operation ${op.kind} (${op.id}) is in progress`);
}

export async function updatePair(id: string, input: PairUpdate, actor: string): Promise<PairDto> {
  return audited(async (tx, audit) => {
    const before = await loadRow(id, tx);
    if (!before) throw notFound("pair");
    const merged = PairVip.safeParse({ vipAddress: input.vipAddress ?? before.vipAddress, vipPrefix: input.vipPrefix ?? before.vipPrefix });
    if (!merged.success) {
      const issue = merged.error.issues[0];
      const field = issue.path.join(".");
      throw new ApiError(400, "invalid_input", `${field}: ${issue.message}`, { field });
    }
    await checkUnique(tx, input, id);
    const { servers, ...fields } = input;
    if (servers || input.vipAddress !== undefined || input.vipPrefix !== undefined || input.vipInterface !== undefined) {
      await assertNoActiveOperation(tx, id, "change the servers or the VIP");
    }
    if (servers) {
      await checkServers(tx, servers);
      const current = toPairDto(before).servers;
      const same = servers.every((s, i) => current[i] && current[i].hostId === s.hostId && current[i].name === s.name && current[i].appName === s.appName);
      if (!same) {
        await tx.server.deleteMany({ where: { pairId: id } });
        await tx.server.createMany({ data: serverRows(servers).map((s) => ({ ...s, pairId: id })) });
      }
    }
    await tx.pair.update({ where: { id }, data: fields });
    const row = (await loadRow(id, tx))!;
    await audit({ actor, action: "pair.update", targetType: "pair", targetId: id, pairId: id, outcome: "success", details: { name: before.name, changes: input } });
    return toPairDto(row);
  });
}

export async function deletePair(id: string, actor: string): Promise<void> {
  await audited(async (tx, audit) => {
    const pair = await tx.pair.findUnique({ where: { id }, select: { id: true, name: true, vipAddress: true } });
    if (!pair) throw notFound("pair");
    await assertNoActiveOperation(tx, id, "delete the pair");
    await tx.pair.delete({ where: { id } });
    await audit({ actor, action: "pair.delete", targetType: "pair", targetId: id, pairId: id, outcome: "success", details: { name: pair.name, vipAddress: pair.vipAddress } });
  });
}

/**
 * What the controller controls: every host (with its agent credential) and every complete pair (both
 * servers configured) with its policy. The same server mapping as the API's PairDto.
 */
export async function loadControllerConfig(): Promise<{ hosts: HostCfg[]; pairs: PairCfg[] }> {
  const [hosts, pairs] = await Promise.all([
    db.host.findMany({ select: { id: true, name: true, address: true, agentUrl: true, agentToken: true }, orderBy: { name: "asc" } }),
    db.pair.findMany({
      include: {
        servers: { include: { host: { select: { name: true } } } },
        maintenanceWindows: { where: { endsAt: { gt: new Date() }, cancelledAt: null }, orderBy: { startsAt: "asc" } },
      },
      orderBy: { name: "asc" },
    }),
  ]);
  const out: PairCfg[] = [];
  for (const { servers, maintenanceWindows, createdAt: _c, updatedAt: _u, ...policy } of pairs) {
    const [first, second] = serverDtos(servers);
    if (servers.length !== 2 || first?.configuredRole !== "primary" || second?.configuredRole !== "backup") continue; // incomplete: nothing to control yet
    const windows = maintenanceWindows.map((w) => ({ id: w.id, startsAt: w.startsAt.getTime(), endsAt: w.endsAt.getTime(), reason: w.reason, createdBy: w.createdBy }));
    out.push({ ...policy, servers: [first, second], ...(windows.length ? { windows } : {}) });
  }
  return { hosts, pairs: out };
}
