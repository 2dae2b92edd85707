import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { sendTest } from "@/lib/queries/notifications";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/**
 * POST /api/notifications/channels/:id/test (admin) -> 202 { delivery }: a `test` event for this channel,
 * delivered through the outbox like any other (follow it in GET /api/notifications/deliveries).
 */
export const POST = route<P>({ allow: canAdmin }, async ({ params, actor }) => {
  const delivery = await sendTest(parseWith(IdParam, params).id, actor);
  return json({ delivery } satisfies ApiResponse<"POST /api/notifications/channels/:id/test">, 202);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
