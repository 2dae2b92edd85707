import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { getPreflight, PreflightQuery } from "@/lib/controller/client";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/**
 * GET /api/pairs/:id/preflight (viewer): the checks a request must pass now, what it would do (`effect`) and
 * the operation it would start (Preflight in lib/views.ts). Default a switchover; `?kind=app_stop&serverId=…
 * &graceful=true`, `?kind=promote&serverId=…`, `&confirmMaintenance=true` … as POST …/operations takes them.
 */
export const GET = route<P>({ allow: canRead }, async ({ params, query }) => {
  const { request, confirmMaintenance } = query(PreflightQuery);
  const { preflight } = await getPreflight(parseWith(IdParam, params).id, request, confirmMaintenance);
  return { preflight } satisfies ApiResponse<"GET /api/pairs/:id/preflight">;
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
