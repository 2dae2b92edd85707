import type { ApiResponse } from "@/lib/api-types";
import { canOperate } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { endWindow } from "@/lib/queries/maintenance";
import { IdParam } from "@/lib/validation/misc";

/** DELETE /api/maintenance-windows/:id (operator) -> { window }: ends a current window now, cancels an upcoming one; 409 once over. */
export const DELETE = route<{ id: string }>({ allow: canOperate }, async ({ params, actor }) => ({
  window: await endWindow(parseWith(IdParam, params).id, actor),
}) satisfies ApiResponse<"DELETE /api/maintenance-windows/:id">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, POST, PUT, PATCH } = otherMethods({ DELETE });
