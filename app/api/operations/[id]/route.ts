import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { getOperation } from "@/lib/queries/operations";
import { IdParam } from "@/lib/validation/misc";

/** GET /api/operations/:id (viewer) -> { operation } with its ordered steps. */
export const GET = route<{ id: string }>({ allow: canRead }, async ({ params }) => ({
  operation: await getOperation(parseWith(IdParam, params).id),
}) satisfies ApiResponse<"GET /api/operations/:id">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
