import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listAlarms } from "@/lib/queries/alarms";
import { AlarmsQuery } from "@/lib/validation/misc";

/** GET /api/alarms?state=active|all&pairId&hostId&limit (viewer) -> { alarms }. */
export const GET = route({ allow: canRead }, async ({ query }) => ({ alarms: await listAlarms(query(AlarmsQuery)) }) satisfies ApiResponse<"GET /api/alarms">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
