/**
 * Observed status the controller keeps for every panel instance: PairStatus (the pair's view and the
 * controller's small memory) and HostStatus (the agent link and its last snapshot). Written by the leader
 * in bounded multi-row statements on its own connection (`exec`), read by the API and standby instances.
 */
import { db } from "@/lib/db";
import { poolExec, type Exec } from "@/lib/db/connection";
import { isForeignKeyViolation } from "@/lib/db/errors";
import type { PairView } from "@/lib/views";
import { CONTROLLER_ACTOR } from "@/lib/controller/model";
import type { AuditRunner } from "./tx";

export interface PairStatusRow {
  id: string;
  status: string;
  state: unknown;
}
export interface HostBeatRow {
  id: string;
  connected: boolean;
  lastHeartbeatAt: string | null;
  rttMs: number | null;
}
export interface HostStatusRow extends HostBeatRow {
  agentVersion: string | null;
  snapshot: unknown;
}

/** A pair or host deleted between the statement's check and its insert: retried once (then skipped). */
async function retryFk<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isForeignKeyViolation(e)) throw e;
    return fn();
  }
}

// TIMESTAMP(3) columns hold UTC (Prisma's convention): convert explicitly, whatever the session time zone.
const UTC_NOW = `(now() AT TIME ZONE 'UTC')`;

/** One statement: upserts PairStatus rows; pairs deleted meanwhile are skipped. */
export async function upsertPairStatus(rows: PairStatusRow[], exec: Exec = poolExec): Promise<void> {
  if (!rows.length) return;
  await retryFk(() =>
    exec(
      `INSERT INTO "PairStatus" ("pairId", status, state, "updatedAt")
       SELECT s.id::uuid, s.status, s.state, ${UTC_NOW}
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, status text, state jsonb)
       WHERE EXISTS (SELECT 1 FROM "Pair" p WHERE p.id = s.id::uuid)
       ON CONFLICT ("pairId") DO UPDATE SET status = EXCLUDED.status, state = EXCLUDED.state, "updatedAt" = EXCLUDED."updatedAt"`,
      [JSON.stringify(rows)],
    ),
  );
}

/** One statement: upserts full HostStatus rows (with the snapshot); hosts deleted meanwhile are skipped. */
export async function upsertHostStatus(rows: HostStatusRow[], exec: Exec = poolExec): Promise<void> {
  if (!rows.length) return;
  await retryFk(() =>
    exec(
      `INSERT INTO "HostStatus" ("hostId", connected, "lastHeartbeatAt", "rttMs", "agentVersion", snapshot, "updatedAt")
       SELECT s.id::uuid, s.connected, (s."lastHeartbeatAt"::timestamptz AT TIME ZONE 'UTC'), s."rttMs", s."agentVersion", s.snapshot, ${UTC_NOW}
       FROM jsonb_to_recordset($1::jsonb) AS s(id text, connected boolean, "lastHeartbeatAt" text, "rttMs" double precision, "agentVersion" text, snapshot jsonb)
       WHERE EXISTS (SELECT 1 FROM "Host" h WHERE h.id = s.id::uuid)
       ON CONFLICT ("hostId") DO UPDATE SET connected = EXCLUDED.connected, "lastHeartbeatAt" = EXCLUDED."lastHeartbeatAt",
         "rttMs" = EXCLUDED."rttMs", "agentVersion" = EXCLUDED."agentVersion", snapshot = EXCLUDED.snapshot, "updatedAt" = EXCLUDED."updatedAt"`,
      [JSON.stringify(rows.map((r) => ({ ...r, snapshot: r.snapshot ?? null })))],
    ),
  );
}

/** One statement: the heartbeat columns of existing HostStatus rows (snapshot untouched). */
export async function updateHostBeats(rows: HostBeatRow[], exec: Exec = poolExec): Promise<void> {
  if (!rows.length) return;
  await exec(
    `UPDATE "HostStatus" h SET connected = s.connected, "lastHeartbeatAt" = (s."lastHeartbeatAt"::timestamptz AT TIME ZONE 'UTC'), "rttMs" = s."rttMs", "updatedAt" = ${UTC_NOW}
     FROM jsonb_to_recordset($1::jsonb) AS s(id text, connected boolean, "lastHeartbeatAt" text, "rttMs" double precision)
     WHERE h."hostId" = s.id::uuid`,
    [JSON.stringify(rows)],
  );
}

/** The persisted state of every pair: its last view and the memory the controller kept with it. */
export async function loadPairStates(): Promise<{ pairId: string; state: unknown }[]> {
  return db.pairStatus.findMany({ select: { pairId: true, state: true } });
}

/** The persisted view of one pair (what the leader last wrote), or null. */
export async function loadPairView(pairId: string): Promise<PairView | null> {
  const s = await db.pairStatus.findUnique({ where: { pairId }, select: { state: true } });
  const v = s?.state as PairView | null | undefined;
  return v && typeof v === "object" && Array.isArray((v as PairView).servers) ? v : null;
}

export interface ModeChange {
  pairId: string;
  serverId: string;
  serverName: string;
  hostName: string;
  mode: "primary" | "backup";
}

/** "now primary" / "now backup" (Genesys 00-5150 / 00-5151), one audit row each. */
export function recordModeChanges(queue: AuditRunner, modes: ModeChange[], epoch: number) {
  return queue.run(async (_tx, audit) => {
    for (const m of modes) {
      await audit({
        actor: CONTROLLER_ACTOR,
        action: m.mode === "primary" ? "server.now_primary" : "server.now_backup",
        targetType: "server",
        targetId: m.serverId,
        pairId: m.pairId,
        outcome: "info",
        details: { code: m.mode === "primary" ? "00-5150" : "00-5151", message: `${m.serverName} on ${m.hostName} is now ${m.mode}`, epoch },
      });
    }
  });
}
