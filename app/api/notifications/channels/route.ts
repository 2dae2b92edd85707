import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createChannel, listChannels } from "@/lib/queries/notifications";
import { CreateChannel } from "@/lib/validation/notifications";

/** GET /api/notifications/channels (admin) -> { channels }: never a secret, only `hasSecret`. */
export const GET = route({ allow: canAdmin }, async () => ({ channels: await listChannels() }) satisfies ApiResponse<"GET /api/notifications/channels">);

/** POST /api/notifications/channels (admin) `{ name, type, enabled?, config, secret? }` -> 201 { channel }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => {
  const input = await body(CreateChannel);
  return json({ channel: await createChannel(input, actor) } satisfies ApiResponse<"POST /api/notifications/channels">, 201);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
