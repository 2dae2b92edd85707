import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deleteRule, updateRule } from "@/lib/queries/notifications";
import { UpdateRule } from "@/lib/validation/notifications";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/** PATCH /api/notifications/rules/:id (admin): any field of the rule. */
export const PATCH = route<P>({ allow: canAdmin }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  return { rule: await updateRule(id, await body(UpdateRule), actor) } satisfies ApiResponse<"PATCH /api/notifications/rules/:id">;
});

/** DELETE /api/notifications/rules/:id (admin). */
export const DELETE = route<P>({ allow: canAdmin }, async ({ params, actor }) => {
  await deleteRule(parseWith(IdParam, params).id, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, POST, PUT } = otherMethods({ PATCH, DELETE });
