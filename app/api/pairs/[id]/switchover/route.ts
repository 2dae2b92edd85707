import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { requestSwitchover, SwitchoverRequest } from "@/lib/controller/client";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/**
 * POST /api/pairs/:id/switchover (operator, admin), body `{ "reason"?: string }` (may be empty):
 * 202 with the operation; 409 naming each failed preflight check, or the operation already running.
 */
export const POST = route<P>({ allow: canOperate }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  const input = await body(SwitchoverRequest, { optional: true });
  const operation = await requestSwitchover(id, input, actor);
  return json({ operation } satisfies ApiResponse<"POST /api/pairs/:id/switchover">, 202);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
