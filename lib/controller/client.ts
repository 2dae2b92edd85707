/**
 * The web side of the controller: what the API routes and the live channel ask of it.
 *
 * When the controller of this process leads (the common single-instance case), requests go to it over
 * the channel (messages.ts): preflight from its live observed state, and a switchover started by it at
 * once (one transaction: the operation, already running, with its audit row; then the demote command)
 * before the 202 is answered. Otherwise (a standby instance, SWITCHYARD_CONTROLLER=off): preflight from
 * the PairStatus the leader keeps, and a request is a pending Operation row with its audit row; the
 * leader hears it from the row's trigger (pg_notify) and claims it.
 */
import { randomUUID } from "node:crypto";
import { BroadcastChannel } from "node:worker_threads";
import { z } from "zod";
import { config } from "@/lib/config";
import { conflict, notFound, ApiError } from "@/lib/http/errors";
import { isLeaseAlive } from "@/lib/queries/lease";
import { activeOperationOf, insertRequestedOperation, operationView, recordRefusal } from "@/lib/queries/operations";
import { loadPairPolicy } from "@/lib/queries/pairs";
import { loadPairView } from "@/lib/queries/status";
import type { ControllerStateJson } from "@/lib/realtime/events";
import type { OperationView, PairView, Preflight } from "@/lib/views";
import { CONTROLLER_CHANNEL, FromController, NOT_LEADER, type RequestBody, type ToController } from "./messages";
import type { SwitchoverResult } from "./operations";
import { computePreflight, describeFailedChecks, withRequestedTarget } from "./preflight";

export const SwitchoverRequest = z
  .object({
    reason: z.string().trim().max(500, "must be at most 500 characters").optional(),
    /** The server the caller means to make primary; refused (409) if it is not the backup any more. */
    toServerId: z.uuid("must be a server id").optional(),
  })
  .strict();
export type SwitchoverRequest = z.infer<typeof SwitchoverRequest>;

/** How long a module that has not heard yet waits for this process's controllers to say who leads. */
const WHO_WAIT_MS = 250;
/** A request to the local leader that is not answered within this long is an error (503). */
const REPLY_TIMEOUT_MS = 10_000;

let channel: BroadcastChannel | null = null;
/** Controllers of this process that answered: the epoch they lead in (null: standing by), their journal. */
const controllers = new Map<string, { epoch: number | null; journal: { pending: number; since: number | null } | null }>();
/** When this module asked "who" (it waits for the answers once, at most WHO_WAIT_MS; later ones are pushed). */
let askedAt: number | null = null;
const onLeader = new Set<() => void>();
const replies = new Map<string, (result: unknown) => void>();

function open(): BroadcastChannel {
  if (channel) return channel;
  const ch = new BroadcastChannel(CONTROLLER_CHANNEL);
  ch.unref();
  ch.onmessage = (e) => {
    const p = FromController.safeParse((e as { data: unknown }).data);
    if (!p.success) return; // requests of other web modules travel on the same channel
    if (p.data.type === "reply") return replies.get(p.data.id)?.(p.data.result);
    controllers.set(p.data.controllerId, { epoch: p.data.epoch, journal: p.data.journal });
    if (p.data.epoch !== null) for (const f of [...onLeader]) f();
  };
  channel = ch;
  return ch;
}

type Leader = { controllerId: string; epoch: number; journal: { pending: number; since: number | null } | null };

function leader(): Leader | null {
  let best: Leader | null = null;
  for (const [controllerId, { epoch, journal }] of controllers) if (epoch !== null && (!best || epoch > best.epoch)) best = { controllerId, epoch, journal };
  return best;
}

/** The controller leading in this process, if any (asked once per module, then kept up to date). */
async function localLeader(): Promise<Leader | null> {
  if (config().SWITCHYARD_CONTROLLER === "off") return null;
  const ch = open();
  if (askedAt === null) {
    askedAt = Date.now();
    ch.postMessage({ type: "who" } satisfies ToController);
  }
  const left = WHO_WAIT_MS - (Date.now() - askedAt);
  if (!leader() && left > 0) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        onLeader.delete(done);
        resolve();
      };
      const timer = setTimeout(done, left);
      onLeader.add(done);
    });
  }
  return leader();
}

/** The epoch the controller of this process leads in, or null (tests, diagnostics). */
export async function localLeaderEpoch(): Promise<number | null> {
  return (await localLeader())?.epoch ?? null;
}

async function ask<T>(to: string, m: RequestBody): Promise<T | typeof NOT_LEADER> {
  const ch = open();
  const id = randomUUID();
  const result = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      replies.delete(id);
      reject(new ApiError(503, "internal", "the controller did not answer in time; try again"));
    }, REPLY_TIMEOUT_MS);
    replies.set(id, (r) => {
      clearTimeout(timer);
      replies.delete(id);
      resolve(r);
    });
    ch.postMessage({ ...m, id, to } as ToController);
  });
  if (result && typeof result === "object" && (result as { kind?: string }).kind === "error") throw new Error(`controller: ${(result as { message: string }).message}`);
  return result as T | typeof NOT_LEADER;
}

// ---------------------------------------------------------------- what the API asks

export async function getPreflight(pairId: string): Promise<{ pairName: string; preflight: Preflight }> {
  const leader = await localLeader();
  if (leader) {
    const r = await ask<{ pairName: string; preflight: Preflight } | null>(leader.controllerId, { type: "preflight", pairId });
    if (r && r !== NOT_LEADER) return r;
  }
  return preflightFromDatabase(pairId);
}

/** Preflight, then the operation. Throws 409 naming what is not ready, or the operation already running. */
export async function requestSwitchover(pairId: string, input: SwitchoverRequest, actor: string): Promise<OperationView> {
  const leader = await localLeader();
  if (leader) {
    const r = await ask<SwitchoverResult>(leader.controllerId, { type: "switchover", pairId, actor, reason: input.reason ?? null, toServerId: input.toServerId ?? null });
    switch (r === NOT_LEADER ? "not_leader" : r.kind) {
      case "accepted":
        return (r as Extract<SwitchoverResult, { kind: "accepted" }>).operation;
      case "busy": {
        const b = r as Extract<SwitchoverResult, { kind: "busy" }>;
        throw await busy(pairId, b.pairName, b.operationId);
      }
      case "refused": {
        const f = r as Extract<SwitchoverResult, { kind: "refused" }>;
        throw await refused(pairId, f.pairName, input, actor, f.preflight);
      }
      default:
        break; // not the leader any more, or the pair is not controlled (incomplete): the database decides
    }
  }
  return requestThroughDatabase(pairId, input, actor);
}

/** The live views of every pair from the local leader (the socket.io snapshot on connect), or null. */
/** The local leader's writes (database or journal); null when no controller of this process leads. */
export async function localControllerState(): Promise<ControllerStateJson | null> {
  const l = await localLeader();
  if (!l) return null;
  return l.journal
    ? { writes: "journal", pending: l.journal.pending, since: l.journal.since === null ? null : new Date(l.journal.since).toISOString() }
    : { writes: "database", pending: 0, since: null };
}

export async function livePairViews(): Promise<PairView[] | null> {
  const leader = await localLeader();
  if (!leader) return null;
  const r = await ask<PairView[]>(leader.controllerId, { type: "views" });
  return r === NOT_LEADER ? null : r;
}

// ---------------------------------------------------------------- the database path (no local leader)

async function preflightFromDatabase(pairId: string): Promise<{ pairName: string; preflight: Preflight }> {
  const pair = await loadPairPolicy(pairId);
  if (!pair) throw notFound("pair");
  const [view, active, alive] = await Promise.all([loadPairView(pairId), activeOperationOf(pairId), isLeaseAlive()]);
  return { pairName: pair.name, preflight: computePreflight(view, { maintenance: pair.maintenance, activeOperation: active, controllerActive: alive }) };
}

async function busy(pairId: string, pairName: string, operationId: string | null): Promise<ApiError> {
  const id = operationId ?? (await activeOperationOf(pairId))?.id ?? null;
  return conflict(`a switchover is already running for ${pairName}${id ? ` (operation ${id})` : ""}`);
}

/** The refusal's audit row, written before the 409 (a refusal is not on any hot path). */
async function refused(pairId: string, pairName: string, input: SwitchoverRequest, actor: string, preflight: Preflight): Promise<ApiError> {
  await recordRefusal(pairId, actor, { reason: input.reason ?? null, failed: preflight.checks.filter((c) => !c.ok) }).catch(() => undefined);
  return conflict(`switchover of ${pairName} refused: ${describeFailedChecks(preflight)}`);
}

async function requestThroughDatabase(pairId: string, input: SwitchoverRequest, actor: string): Promise<OperationView> {
  const found = await preflightFromDatabase(pairId);
  const preflight = withRequestedTarget(found.preflight, input.toServerId);
  if (preflight.checks.some((c) => c.id === "no_operation" && !c.ok)) throw await busy(pairId, found.pairName, null);
  if (!preflight.ok) throw await refused(pairId, found.pairName, input, actor, preflight);
  const op = await insertRequestedOperation(
    { pairId, kind: "manual_switchover", status: "pending", requestedBy: actor, reason: input.reason ?? null, decision: null, fromServerId: null, toServerId: preflight.target?.id ?? null, epoch: null, steps: [] },
    { target: preflight.target },
  );
  if (!op) throw await busy(pairId, found.pairName, null);
  return operationView(op);
}
