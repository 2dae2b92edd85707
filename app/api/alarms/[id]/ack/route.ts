import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { acknowledgeAlarm } from "@/lib/queries/alarms";
import { AlarmAckBody, IdParam } from "@/lib/validation/misc";

/**
 * POST /api/alarms/:id/ack (operator), body `{ "comment"?: string }` (may be empty) -> { alarm }; also after
 * its condition cleared; 404 unknown, 409 when already acknowledged.
 */
export const POST = route<{ id: string }>({ allow: canOperate }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  const { comment } = await body(AlarmAckBody, { optional: true });
  return { alarm: await acknowledgeAlarm(id, actor, comment ?? null) } satisfies ApiResponse<"POST /api/alarms/:id/ack">;
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
