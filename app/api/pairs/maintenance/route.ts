import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { setMaintenance } from "@/lib/queries/maintenance";
import { BulkMaintenance } from "@/lib/validation/maintenance";

/**
 * POST /api/pairs/maintenance (operator) `{ pairIds, maintenance, reason? }` -> { changed, unchanged }:
 * maintenance on or off for several pairs at once, one audit row per pair changed.
 */
export const POST = route({ allow: canOperate }, async ({ body, actor }) => (await setMaintenance(await body(BulkMaintenance), actor)) satisfies ApiResponse<"POST /api/pairs/maintenance">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
