/**
 * The API side of the controller: switchover requests and preflight.
 *
 * When this process holds the leadership (the common single-instance case), both go to the in-process
 * controller (local.ts): preflight from the live observed state with no query, and a request is ONE
 * transaction (the Operation already claimed by this epoch, with its steps, + its audit row) after which
 * the demote command goes out at once.
 *
 * Otherwise (a standby instance): preflight from the PairStatus the leader keeps, and a request is an
 * Operation row (pending, activeKey = pairId, so the database lets one per pair through) + its audit row;
 * the leader is told by the Operation trigger (pg_notify) and claims it with an idempotent
 * UPDATE ... WHERE status = 'pending'.
 */
import { z } from "zod";
import { db } from "@/lib/db";
import { conflict, notFound } from "@/lib/http/errors";
import { audited } from "@/lib/queries/tx";
import { toOperationView } from "@/lib/queries/operations";
import type { OperationView, PairView, Preflight } from "@/lib/views";
import { computePreflight, describeFailedChecks, withRequestedTarget } from "./preflight";
import { getLocalController } from "./local";

export const SwitchoverRequest = z
  .object({
    reason: z.string().trim().max(500, "must be at most 500 characters").optional(),
    /** The server the caller means to make primary; refused (409) if it is not the backup any more. */
    toServerId: z.uuid("must be a server id").optional(),
  })
  .strict();
export type SwitchoverRequest = z.infer<typeof SwitchoverRequest>;

async function activeOperationOf(pairId: string) {
  return db.operation.findUnique({ where: { activeKey: pairId }, select: { id: true, kind: true } });
}

export async function getPreflight(pairId: string): Promise<{ pairName: string; preflight: Preflight }> {
  const local = getLocalController()?.preflight(pairId);
  if (local) return local;
  return getPreflightFromDb(pairId);
}

async function getPreflightFromDb(pairId: string): Promise<{ pairName: string; preflight: Preflight }> {
  const pair = await db.pair.findUnique({ where: { id: pairId }, select: { name: true, maintenance: true, status: { select: { state: true } } } });
  if (!pair) throw notFound("pair");
  const [active, lease] = await Promise.all([
    activeOperationOf(pairId),
    db.$queryRaw<{ alive: boolean }[]>`SELECT ("expiresAt" > now()) AS alive FROM "ControllerLease" WHERE id = 1`,
  ]);
  const view = (pair.status?.state as unknown as PairView | undefined) ?? null;
  const preflight = computePreflight(view && typeof view === "object" && Array.isArray(view.servers) ? view : null, {
    maintenance: pair.maintenance,
    activeOperation: active,
    controllerActive: !!lease[0]?.alive,
  });
  return { pairName: pair.name, preflight };
}

function isUniqueViolation(e: unknown): boolean {
  return !!e && typeof e === "object" && (e as { code?: string }).code === "P2002";
}

/** The refusal's audit row, written before the 409 (a refusal is not on the hot path). */
async function refusalAudit(pairId: string, input: SwitchoverRequest, actor: string, preflight: Preflight) {
  await audited((_tx, audit) =>
    audit({ actor, action: "operation.refused", targetType: "pair", targetId: pairId, pairId, outcome: "denied", details: { reason: input.reason ?? null, failed: preflight.checks.filter((c) => !c.ok) } }),
  ).catch(() => undefined);
}

/** Preflight, then one transaction: the Operation + its audit row. Throws 409 naming what is not ready. */
export async function requestSwitchover(pairId: string, input: SwitchoverRequest, actor: string): Promise<OperationView> {
  const local = getLocalController();
  if (local) {
    const r = await local.requestSwitchover(pairId, { reason: input.reason ?? null, actor, toServerId: input.toServerId });
    switch (r.kind) {
      case "accepted":
        return r.operation;
      case "busy": {
        const id = r.operationId ?? (await activeOperationOf(pairId))?.id ?? null;
        throw conflict(`a switchover is already running for ${r.pairName}${id ? ` (operation ${id})` : ""}`);
      }
      case "refused":
        await refusalAudit(pairId, input, actor, r.preflight);
        throw conflict(`switchover of ${r.pairName} refused: ${describeFailedChecks(r.preflight)}`);
      case "not_found":
        break; // not configured in the controller (an incomplete pair, or not loaded yet): the database decides
    }
  }
  return requestThroughDatabase(pairId, input, actor);
}

async function requestThroughDatabase(pairId: string, input: SwitchoverRequest, actor: string): Promise<OperationView> {
  const fromDb = await getPreflightFromDb(pairId);
  const pairName = fromDb.pairName;
  const preflight = withRequestedTarget(fromDb.preflight, input.toServerId);
  const busy = () =>
    activeOperationOf(pairId).then((a) =>
      conflict(`a switchover is already running for ${pairName}${a ? ` (operation ${a.id})` : ""}`),
    );
  const running = preflight.checks.find((c) => c.id === "no_operation" && !c.ok);
  if (running) throw await busy();
  if (!preflight.ok) {
    await refusalAudit(pairId, input, actor, preflight);
    throw conflict(`switchover of ${pairName} refused: ${describeFailedChecks(preflight)}`);
  }
  try {
    const op = await audited(async (tx, audit) => {
      const row = await tx.operation.create({
        data: { pairId, kind: "manual_switchover", status: "pending", requestedBy: actor, reason: input.reason ?? null, activeKey: pairId, toServerId: preflight.target?.id ?? null },
      });
      await audit({
        actor,
        action: "operation.requested",
        targetType: "operation",
        targetId: row.id,
        pairId,
        outcome: "success",
        details: { kind: "manual_switchover", reason: input.reason ?? null, target: preflight.target },
      });
      return row;
    });
    return toOperationView(op);
  } catch (e) {
    if (isUniqueViolation(e)) throw await busy();
    throw e;
  }
}
