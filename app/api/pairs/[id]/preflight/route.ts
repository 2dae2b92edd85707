import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { getPreflight } from "@/lib/controller/client";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/** GET /api/pairs/:id/preflight: the checks a manual switchover must pass now (Preflight in lib/views.ts). */
export const GET = route<P>({ allow: canRead }, async ({ params }) => {
  const { preflight } = await getPreflight(parseWith(IdParam, params).id);
  return { preflight } satisfies ApiResponse<"GET /api/pairs/:id/preflight">;
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
