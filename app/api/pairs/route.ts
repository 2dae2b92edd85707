import type { ApiResponse } from "@/lib/api-types";
import { canAdmin, canRead } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createPair, listPairs } from "@/lib/queries/pairs";
import { PairCreate } from "@/lib/validation/pairs";

/** GET /api/pairs (viewer) -> { pairs } with their two servers and the controller's view when present. */
export const GET = route({ allow: canRead }, async () => ({ pairs: await listPairs() }) satisfies ApiResponse<"GET /api/pairs">);

/** POST /api/pairs (admin) -> 201 { pair }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => {
  const pair = await createPair(await body(PairCreate), actor);
  return json({ pair } satisfies ApiResponse<"POST /api/pairs">, 201);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
