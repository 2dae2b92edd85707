import { z } from "zod";
import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deleteChannel, getChannel, updateChannel } from "@/lib/queries/notifications";
import { CHANNEL_CONFIGS, UpdateChannel } from "@/lib/validation/notifications";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

export const GET = route<P>({ allow: canAdmin }, async ({ params }) => ({ channel: await getChannel(parseWith(IdParam, params).id) }) satisfies ApiResponse<"GET /api/notifications/channels/:id">);

/**
 * PATCH /api/notifications/channels/:id (admin): any of name, enabled, config (whole, for the channel's
 * type), secret (a string replaces it, null removes it). Moving an SMTP server or trap target needs the
 * secret again (400).
 */
export const PATCH = route<P>({ allow: canAdmin }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  const input = await body(UpdateChannel);
  const channel = await updateChannel(id, input, actor, (type, config) => parseWith(z.object({ config: CHANNEL_CONFIGS[type] }), { config }).config);
  return { channel } satisfies ApiResponse<"PATCH /api/notifications/channels/:id">;
});

/** DELETE /api/notifications/channels/:id (admin): with its rules and its delivery log. */
export const DELETE = route<P>({ allow: canAdmin }, async ({ params, actor }) => {
  await deleteChannel(parseWith(IdParam, params).id, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT } = otherMethods({ GET, PATCH, DELETE });
