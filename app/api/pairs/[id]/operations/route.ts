import { z } from "zod";
import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { parseOperationBody, requestOperation } from "@/lib/controller/client";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/**
 * POST /api/pairs/:id/operations (operator, admin): a switchover or an override, as an operation with its
 * steps. Body `{ kind, …, reason?, confirmMaintenance? }`:
 *   { kind: "manual_switchover", toServerId? }      { kind: "promote", serverId }   (the pair has no primary)
 *   { kind: "app_start", serverId, mode? }           { kind: "app_restart", serverId, mode? }
 *   { kind: "app_stop", serverId, graceful? }        { kind: "clear_holddown" }
 * 202 with the operation; 409 naming each failed preflight check (GET …/preflight?kind=… shows them and
 * what would happen), or the operation already running.
 */
export const POST = route<P>({ allow: canOperate }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  const { request, options } = parseOperationBody(await body(z.unknown()));
  const operation = await requestOperation(id, request, options, actor);
  return json({ operation } satisfies ApiResponse<"POST /api/pairs/:id/operations">, 202);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
