import type { ApiResponse } from "@/lib/api-types";
import { canOperate, canRead } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { listWindows, scheduleWindows } from "@/lib/queries/maintenance";
import { ScheduleWindows, WindowsQuery } from "@/lib/validation/maintenance";

/** GET /api/maintenance-windows?pairId&state=open|current|upcoming|past|all&limit (viewer) -> { windows }. */
export const GET = route({ allow: canRead }, async ({ query }) => ({ windows: await listWindows(query(WindowsQuery)) }) satisfies ApiResponse<"GET /api/maintenance-windows">);

/**
 * POST /api/maintenance-windows (operator) `{ pairIds, startsAt, endsAt, reason }` -> 201 { windows }: one
 * window per pair. During a window the pair is in maintenance (no automatic action) whatever its flag.
 */
export const POST = route({ allow: canOperate }, async ({ body, actor }) => {
  const input = await body(ScheduleWindows);
  return json({ windows: await scheduleWindows(input, actor) } satisfies ApiResponse<"POST /api/maintenance-windows">, 201);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
