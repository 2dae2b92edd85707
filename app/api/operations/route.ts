import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listOperations } from "@/lib/queries/operations";
import { OperationsQuery } from "@/lib/validation/operations";

/**
 * GET /api/operations?pairId&kind&status&requestedBy&from&to&q&cursor&limit (viewer) -> { operations,
 * nextCursor }: the history over all pairs, newest first, without steps (GET /api/operations/:id has them).
 */
export const GET = route({ allow: canRead }, async ({ query }): Promise<ApiResponse<"GET /api/operations">> => listOperations(query(OperationsQuery)));

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
