import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listDeliveries } from "@/lib/queries/notifications";
import { DeliveriesQuery } from "@/lib/validation/notifications";

/** GET /api/notifications/deliveries?status&channelId&event&limit&cursor (admin) -> { deliveries, nextCursor }: the delivery log, newest first. */
export const GET = route({ allow: canAdmin }, async ({ query }) => (await listDeliveries(query(DeliveriesQuery))) satisfies ApiResponse<"GET /api/notifications/deliveries">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
