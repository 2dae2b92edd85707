import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { listAudit } from "@/lib/queries/audit";
import { AuditListQuery } from "@/lib/validation/audit";

/** GET /api/audit?pairId&actor&action&outcome&from&to&cursor&limit (viewer) -> { items, nextCursor }. */
export const GET = route({ allow: canRead }, async ({ query }): Promise<ApiResponse<"GET /api/audit">> => listAudit(query(AuditListQuery)));

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
