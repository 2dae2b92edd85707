import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { verifyChain } from "@/lib/queries/audit";

/** GET /api/audit/verify (viewer) -> { ok, checked, firstBroken? }. */
export const GET = route({ allow: canRead }, async (): Promise<ApiResponse<"GET /api/audit/verify">> => verifyChain());

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
