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
import { operationKindPhrase } from "@/lib/operation-kinds";
import { badRequest, conflict, notFound, ApiError } from "@/lib/http/errors";
import { parseWith } from "@/lib/http/validate";
import { isLeaseAlive } from "@/lib/queries/lease";
import { activeOperationOf, insertRequestedOperation, loadAutoFailovers, operationView, recordRefusal } from "@/lib/queries/operations";
import { loadPairPolicy } from "@/lib/queries/pairs";
import { loadPairView } from "@/lib/queries/status";
import type { ControllerStateJson } from "@/lib/realtime/events";
import type { OperationView, PairView, Preflight } from "@/lib/views";
import { CONTROLLER_CHANNEL, FromController, NOT_LEADER, type RequestBody, type ToController } from "./messages";
import type { RequestResult } from "./operations";
import { computePreflight, describeFailedChecks, describeRequest, OperatorRequest, SWITCHOVER } from "./preflight";

/** What every request of a person may carry besides what it asks for. */
const RequestOptions = {
  reason: z.string().trim().max(500, "must be at most 500 characters").optional(),
  /** The pair is in maintenance and the sender acts by hand on purpose (refused without it). */
  confirmMaintenance: z.boolean({ message: "must be true or false" }).optional(),
};

/** POST /api/pairs/:id/switchover: the switchover request's body. */
export const SwitchoverRequest = z
  .object({
    ...RequestOptions,
    /** The server the caller means to make primary; refused (409) if it is not the backup any more. */
    toServerId: z.uuid("must be a server id").optional(),
  })
  .strict();
export type SwitchoverRequest = z.infer<typeof SwitchoverRequest>;

/** POST /api/pairs/:id/operations: `{ kind, …what the kind needs, reason?, confirmMaintenance? }`. */
export function parseOperationBody(raw: unknown): { request: OperatorRequest; options: RequestOptions } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw badRequest("the body must be a JSON object");
  const { reason, confirmMaintenance, ...rest } = raw as Record<string, unknown>;
  const options = parseWith(z.object(RequestOptions).strict(), { reason, confirmMaintenance });
  const request = parseWith(OperatorRequest, rest);
  const known = new Set(Object.keys(request));
  const unknown = Object.keys(rest).filter((k) => !known.has(k));
  if (unknown.length) throw badRequest(`unknown field${unknown.length > 1 ? "s" : ""} for ${request.kind}: ${unknown.join(", ")}`);
  return { request, options };
}
export interface RequestOptions {
  reason?: string;
  confirmMaintenance?: boolean;
}

/** GET /api/pairs/:id/preflight?kind=…&serverId&toServerId&mode&graceful&confirmMaintenance (default: a switchover). */
export const PreflightQuery = z
  .object({
    kind: z.string().optional(),
    serverId: z.string().optional(),
    toServerId: z.string().optional(),
    mode: z.string().optional(),
    graceful: z.enum(["true", "false"], { message: "must be true or false" }).optional(),
    confirmMaintenance: z.enum(["true", "false"], { message: "must be true or false" }).optional(),
  })
  .strict()
  .transform(({ graceful, confirmMaintenance, kind, ...q }, ctx) => {
    const fields = Object.fromEntries(Object.entries({ ...q, graceful: graceful === undefined ? undefined : graceful === "true" }).filter(([, v]) => v !== undefined));
    const r = OperatorRequest.safeParse({ kind: kind ?? "manual_switchover", ...fields });
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
      return z.NEVER;
    }
    return { request: r.data, confirmMaintenance: confirmMaintenance === "true" };
  });

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

export async function getPreflight(pairId: string, request: OperatorRequest = SWITCHOVER, confirmMaintenance = false): Promise<{ pairName: string; preflight: Preflight }> {
  const leader = await localLeader();
  if (leader) {
    const r = await ask<{ pairName: string; preflight: Preflight } | null>(leader.controllerId, { type: "preflight", pairId, request, confirmMaintenance });
    if (r && r !== NOT_LEADER) return r;
  }
  return preflightFromDatabase(pairId, request, confirmMaintenance);
}

/** Preflight, then the operation (a switchover or an override). Throws 409 naming what is not ready, or the operation already running. */
export async function requestOperation(pairId: string, request: OperatorRequest, options: RequestOptions, actor: string): Promise<OperationView> {
  const leader = await localLeader();
  const confirmMaintenance = !!options.confirmMaintenance;
  if (leader) {
    const r = await ask<RequestResult>(leader.controllerId, { type: "request", pairId, actor, reason: options.reason ?? null, request, confirmMaintenance });
    switch (r === NOT_LEADER ? "not_leader" : r.kind) {
      case "accepted":
        return (r as Extract<RequestResult, { kind: "accepted" }>).operation;
      case "busy": {
        const b = r as Extract<RequestResult, { kind: "busy" }>;
        throw await busy(pairId, b.pairName, b.operationId, b.operationKind);
      }
      case "refused": {
        const f = r as Extract<RequestResult, { kind: "refused" }>;
        throw await refused(pairId, f.pairName, request, options, actor, f.preflight);
      }
      default:
        break; // not the leader any more, or the pair is not controlled (incomplete): the database decides
    }
  }
  return requestThroughDatabase(pairId, request, options, actor);
}

/** The switchover route's request (its body names only the direction). */
export function requestSwitchover(pairId: string, input: SwitchoverRequest, actor: string): Promise<OperationView> {
  const { toServerId, ...options } = input;
  return requestOperation(pairId, { kind: "manual_switchover", ...(toServerId ? { toServerId } : {}) }, options, actor);
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

/**
 * The Prometheus text of this process's controller (the leader's if one of them leads, else any: it says
 * switchyard_leader 0), or null when this process runs none (SWITCHYARD_CONTROLLER=off).
 */
export async function localControllerMetrics(): Promise<string | null> {
  if (config().SWITCHYARD_CONTROLLER === "off") return null;
  const l = await localLeader();
  const to = l?.controllerId ?? [...controllers.keys()][0];
  if (!to) return null;
  const r = await ask<string>(to, { type: "metrics" });
  return r === NOT_LEADER ? null : r;
}

export async function livePairViews(): Promise<PairView[] | null> {
  const leader = await localLeader();
  if (!leader) return null;
  const r = await ask<PairView[]>(leader.controllerId, { type: "views" });
  return r === NOT_LEADER ? null : r;
}

// ---------------------------------------------------------------- the database path (no local leader)

async function preflightFromDatabase(pairId: string, request: OperatorRequest, confirmMaintenance: boolean): Promise<{ pairName: string; preflight: Preflight }> {
  const pair = await loadPairPolicy(pairId);
  if (!pair) throw notFound("pair");
  const [view, active, alive, failovers] = await Promise.all([loadPairView(pairId), activeOperationOf(pairId), isLeaseAlive(), loadAutoFailovers(pairId)]);
  const from = failovers.get(pairId)?.holdDownFrom ?? null;
  const ctx = {
    maintenance: pair.maintenance,
    autoFailover: pair.autoFailover,
    activeOperation: active,
    controllerActive: alive,
    holdDownUntil: from === null ? null : from + pair.holdDownSeconds * 1000,
    now: Date.now(),
    confirmMaintenance,
  };
  return { pairName: pair.name, preflight: computePreflight(view, ctx, request) };
}

async function busy(pairId: string, pairName: string, operationId: string | null, operationKind: string | null = null): Promise<ApiError> {
  const active = operationId && operationKind ? null : await activeOperationOf(pairId);
  const id = operationId ?? active?.id ?? null;
  const kind = operationKind ?? (active && active.id === id ? active.kind : null);
  return conflict(`${kind ? `a ${operationKindPhrase(kind)}` : "an operation"} is already running for ${pairName}${id ? ` (operation ${id})` : ""}`);
}

/** The refusal's audit row, written before the 409 (a refusal is not on any hot path). */
async function refused(pairId: string, pairName: string, request: OperatorRequest, options: RequestOptions, actor: string, preflight: Preflight): Promise<ApiError> {
  const failed = preflight.checks.filter((c) => !c.ok);
  await recordRefusal(pairId, actor, { kind: request.kind, request, reason: options.reason ?? null, failed }).catch(() => undefined);
  const what = describeRequest(request, await loadPairView(pairId).catch(() => null));
  return conflict(`${what} of ${pairName} refused: ${describeFailedChecks(preflight)}`);
}

async function requestThroughDatabase(pairId: string, request: OperatorRequest, options: RequestOptions, actor: string): Promise<OperationView> {
  const { pairName, preflight } = await preflightFromDatabase(pairId, request, !!options.confirmMaintenance);
  if (preflight.checks.some((c) => c.id === "no_operation" && !c.ok)) throw await busy(pairId, pairName, null);
  const intent = preflight.intent;
  if (!preflight.ok || !intent) throw await refused(pairId, pairName, request, options, actor, preflight);
  // Pending: the leader re-runs the preflight on its live state when it claims the row (requestOf).
  const op = await insertRequestedOperation(
    {
      pairId,
      kind: intent.kind,
      status: "pending",
      requestedBy: actor,
      reason: options.reason ?? null,
      decision: null,
      fromServerId: intent.fromServerId,
      toServerId: intent.toServerId,
      params: { ...intent.params, ...(options.confirmMaintenance ? { confirmMaintenance: true } : {}) },
      epoch: null,
      steps: [],
    },
    { target: preflight.target, effect: preflight.effect },
  );
  if (!op) throw await busy(pairId, pairName, null);
  return operationView(op);
}
