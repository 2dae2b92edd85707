import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { acknowledgeAlarms } from "@/lib/queries/alarms";
import { AlarmBulkAckBody } from "@/lib/validation/misc";

/**
 * POST /api/alarms/ack (operator) body `{ ids: [...], comment? }` -> { acknowledged, skipped }: every alarm
 * acknowledged with the same comment, one audit row each; unknown or already acknowledged ones are skipped
 * with the reason (200 all the same: the others are acknowledged).
 */
export const POST = route({ allow: canOperate }, async ({ body, actor }) => {
  const { ids, comment } = await body(AlarmBulkAckBody);
  return (await acknowledgeAlarms(ids, actor, comment ?? null)) satisfies ApiResponse<"POST /api/alarms/ack">;
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
