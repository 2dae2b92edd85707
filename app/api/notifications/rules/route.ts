import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createRule, listRules } from "@/lib/queries/notifications";
import { CreateRule } from "@/lib/validation/notifications";

/** GET /api/notifications/rules (admin) -> { rules }. */
export const GET = route({ allow: canAdmin }, async () => ({ rules: await listRules() }) satisfies ApiResponse<"GET /api/notifications/rules">);

/** POST /api/notifications/rules (admin) `{ name, channelId, events, severities?, kinds?, pairIds?, enabled? }` -> 201 { rule }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => {
  const input = await body(CreateRule);
  return json({ rule: await createRule(input, actor) } satisfies ApiResponse<"POST /api/notifications/rules">, 201);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
