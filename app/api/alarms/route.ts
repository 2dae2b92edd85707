import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listAlarms } from "@/lib/queries/alarms";
import { AlarmsQuery } from "@/lib/validation/misc";

/**
 * GET /api/alarms (viewer) -> { alarms, nextCursor }, newest first.
 * ?state=open (default) | unacknowledged | present | all | active,cleared_unacknowledged,acknowledged,cleared
 * (comma-separated) &severity=critical,major &kind=primary_failed,… &pairId &hostId &limit &cursor.
 */
export const GET = route({ allow: canRead }, async ({ query }) => (await listAlarms(query(AlarmsQuery))) satisfies ApiResponse<"GET /api/alarms">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
