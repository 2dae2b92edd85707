import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listOperations } from "@/lib/queries/operations";
import { OperationsQuery } from "@/lib/validation/misc";

/** GET /api/operations?pairId=&limit= (viewer) -> { operations } newest first, without steps. */
export const GET = route({ allow: canRead }, async ({ query }) => ({ operations: await listOperations(query(OperationsQuery)) }) satisfies ApiResponse<"GET /api/operations">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
