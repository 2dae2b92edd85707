/**
 * The web side and the controller talk by typed messages on one named channel (a node:worker_threads
 * BroadcastChannel): the controller runs in a thread of its own (thread.ts), and any module of the web
 * side — server.ts's socket.io, or a Next route handler in its own module graph — reaches it by this
 * name, with no shared object in between. Both sides validate what they receive.
 *
 *   web → controller   { type: "who" }                                   who leads in this process?
 *                      { type: "preflight"  | "request" | "views", id, to: controllerId, ... }
 *   controller → web   { type: "here", controllerId, epoch, journal }    epoch null: not (or not yet) leading;
 *                                                                         journal: records waiting for the database
 *                      { type: "reply", id, result }
 */
import { z } from "zod";
import { OperatorRequest } from "./preflight";

export const CONTROLLER_CHANNEL = "switchyard:controller";

const id = z.string().min(1).max(64);
const uuid = z.uuid();

export const ToController = z.discriminatedUnion("type", [
  z.object({ type: z.literal("who") }),
  z.object({ type: z.literal("preflight"), id, to: z.string(), pairId: uuid, request: OperatorRequest, confirmMaintenance: z.boolean() }),
  /** A manual switchover or an override (preflight.ts: OperatorRequest). */
  z.object({
    type: z.literal("request"),
    id,
    to: z.string(),
    pairId: uuid,
    actor: z.string().min(1).max(200),
    reason: z.string().max(500).nullable(),
    request: OperatorRequest,
    confirmMaintenance: z.boolean(),
  }),
  z.object({ type: z.literal("views"), id, to: z.string() }),
  /** The controller's Prometheus text (lib/controller/metrics.ts), whether it leads or not. */
  z.object({ type: z.literal("metrics"), id, to: z.string() }),
]);
export type ToController = z.infer<typeof ToController>;
/** A request to one controller, without the envelope (`id`, `to`) that ask() adds. */
export type RequestBody = Extract<ToController, { to: string }> extends infer R ? (R extends unknown ? Omit<R, "id" | "to"> : never) : never;

export const FromController = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("here"),
    controllerId: z.string(),
    epoch: z.number().int().nullable(),
    /** The leader runs on its journal (the database cannot be reached): how many records wait, since when (ms). */
    journal: z.object({ pending: z.number().int().nonnegative(), since: z.number().nullable() }).nullable(),
  }),
  /** `result` is produced by the controller's own code (service.ts); its shape per request is Replies. */
  z.object({ type: z.literal("reply"), id, result: z.unknown() }),
]);
export type FromController = z.infer<typeof FromController>;

/** A request that reached a controller which does not lead (any more): the web side uses the database. */
export const NOT_LEADER = "not_leader" as const;
