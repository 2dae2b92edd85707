import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { acknowledgeAlarm } from "@/lib/queries/alarms";
import { IdParam } from "@/lib/validation/misc";

/** POST /api/alarms/:id/ack (operator) -> { alarm }; 409 when already acknowledged. */
export const POST = route<{ id: string }>({ allow: canOperate }, async ({ params, actor }) => ({
  alarm: await acknowledgeAlarm(parseWith(IdParam, params).id, actor),
}) satisfies ApiResponse<"POST /api/alarms/:id/ack">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
