/**
 * Hosts: the agent credential is write-only; responses say `hasAgentToken: true`. `status` is what the active
 * controller last persisted in HostStatus (connection, heartbeat, RTT, version, and the apps and VIPs from
 * the agent's snapshot), or null before the controller has seen the host.
 */
import { z } from "zod";
import { db } from "@/lib/db";
import type { HostDto, HostStatusDto } from "@/lib/views";
import { badRequest, conflict, notFound } from "@/lib/http/errors";
import type { HostCreate, HostUpdate } from "@/lib/validation/hosts";
import { audited } from "./tx";

/**
 * The parts of the persisted AgentSnapshot (protocol/agent.ts) the API shows: picked field by field, so
 * nothing else the snapshot may carry ever reaches a response. A row that does not parse shows no apps/VIPs.
 */
const SnapshotPick = z.object({
  apps: z.array(z.object({ name: z.string(), state: z.string(), mode: z.string(), vip: z.string().nullable().catch(null) })).catch([]),
  vips: z
    .array(
      z.object({
        name: z.string(),
        address: z.string(),
        observed: z.enum(["enabled", "disabled", "unknown"]).catch("unknown"),
        duplicate: z.object({ detected: z.boolean() }).catch({ detected: false }),
      }),
    )
    .catch([]),
});

function fromSnapshot(snapshot: unknown): Pick<HostStatusDto, "apps" | "vips"> {
  const r = SnapshotPick.safeParse(snapshot);
  if (!r.success) return { apps: [], vips: [] };
  return {
    apps: r.data.apps.map((a) => ({ name: a.name, state: a.state, mode: a.mode, vip: a.vip })),
    vips: r.data.vips.map((v) => ({ name: v.name, address: v.address, observed: v.observed, duplicate: v.duplicate.detected })),
  };
}

const select = {
  id: true,
  name: true,
  address: true,
  agentUrl: true,
  agentToken: true,
  createdAt: true,
  updatedAt: true,
  status: { select: { connected: true, lastHeartbeatAt: true, rttMs: true, agentVersion: true, snapshot: true, updatedAt: true } },
} as const;

type Row = {
  id: string;
  name: string;
  address: string;
  agentUrl: string;
  agentToken: string;
  createdAt: Date;
  updatedAt: Date;
  status: { connected: boolean; lastHeartbeatAt: Date | null; rttMs: number | null; agentVersion: string | null; snapshot: unknown; updatedAt: Date } | null;
};

export function toHostDto(h: Row): HostDto {
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    agentUrl: h.agentUrl,
    hasAgentToken: h.agentToken.length > 0,
    createdAt: h.createdAt.toISOString(),
    updatedAt: h.updatedAt.toISOString(),
    status: h.status
      ? {
          connected: h.status.connected,
          lastHeartbeatAt: h.status.lastHeartbeatAt?.toISOString() ?? null,
          rttMs: h.status.rttMs,
          agentVersion: h.status.agentVersion,
          updatedAt: h.status.updatedAt.toISOString(),
          ...fromSnapshot(h.status.snapshot),
        }
      : null,
  };
}

export async function listHosts(): Promise<HostDto[]> {
  const rows = await db.host.findMany({ select, orderBy: { name: "asc" } });
  return rows.map(toHostDto);
}

export async function getHost(id: string): Promise<HostDto> {
  const row = await db.host.findUnique({ where: { id }, select });
  if (!row) throw notFound("host");
  return toHostDto(row);
}

/** What an audit row may say about a host change: never the credential. */
function auditable(input: Partial<HostCreate>) {
  const { agentToken, ...rest } = input;
  return agentToken === undefined ? rest : { ...rest, agentTokenChanged: true };
}

export async function createHost(input: HostCreate, actor: string): Promise<HostDto> {
  return audited(async (tx, audit) => {
    if (await tx.host.findUnique({ where: { name: input.name }, select: { id: true } })) {
      throw conflict(`a host named ${input.name} already exists`);
    }
    const row = await tx.host.create({ data: input, select });
    await audit({ actor, action: "host.create", targetType: "host", targetId: row.id, outcome: "success", details: auditable(input) });
    return toHostDto(row);
  });
}

export async function updateHost(id: string, input: HostUpdate, actor: string): Promise<HostDto> {
  return audited(async (tx, audit) => {
    const before = await tx.host.findUnique({ where: { id }, select: { id: true, name: true, agentUrl: true } });
    if (!before) throw notFound("host");
    // The controller presents the host's agent token to whatever agentUrl says: a new URL without the
    // token again would let an admin account (or whoever holds its session) collect the token at a
    // listener of their choosing. Whoever moves the URL must know the token.
    if (input.agentUrl !== undefined && input.agentUrl !== before.agentUrl && input.agentToken === undefined) {
      throw badRequest("agentToken: re-enter the agent token when changing the agent URL", "agentToken");
    }
    if (input.name && input.name !== before.name && (await tx.host.findUnique({ where: { name: input.name }, select: { id: true } }))) {
      throw conflict(`a host named ${input.name} already exists`);
    }
    const row = await tx.host.update({ where: { id }, data: input, select });
    await audit({ actor, action: "host.update", targetType: "host", targetId: id, outcome: "success", details: { name: before.name, changes: auditable(input) } });
    return toHostDto(row);
  });
}

export async function deleteHost(id: string, actor: string): Promise<void> {
  await audited(async (tx, audit) => {
    const host = await tx.host.findUnique({ where: { id }, select: { id: true, name: true } });
    if (!host) throw notFound("host");
    const used = await tx.server.findMany({ where: { hostId: id }, select: { name: true, pair: { select: { name: true } } } });
    if (used.length > 0) {
      const pairs = [...new Set(used.map((s) => s.pair.name))].join(", ");
      throw conflict(`host ${host.name} is used by pair ${pairs}; delete the pair or move its server first`);
    }
    await tx.host.delete({ where: { id } });
    await audit({ actor, action: "host.delete", targetType: "host", targetId: id, outcome: "success", details: { name: host.name } });
  });
}
