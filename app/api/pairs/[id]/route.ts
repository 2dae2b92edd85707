import type { ApiResponse } from "@/lib/api-types";
import { canAdmin, canRead } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deletePair, getPair, updatePair } from "@/lib/queries/pairs";
import { IdParam } from "@/lib/validation/misc";
import { PairUpdate } from "@/lib/validation/pairs";

type P = { id: string };

export const GET = route<P>({ allow: canRead }, async ({ params }) => ({ pair: await getPair(parseWith(IdParam, params).id) }) satisfies ApiResponse<"GET /api/pairs/:id">);

/** PATCH /api/pairs/:id (admin): name, VIP, policy, or both servers; 409 while an operation runs. */
export const PATCH = route<P>({ allow: canAdmin }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  return { pair: await updatePair(id, await body(PairUpdate), actor) } satisfies ApiResponse<"PATCH /api/pairs/:id">;
});

export const DELETE = route<P>({ allow: canAdmin }, async ({ params, actor }) => {
  await deletePair(parseWith(IdParam, params).id, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT } = otherMethods({ GET, PATCH, DELETE });
