import type { ApiResponse } from "@/lib/api-types";
import { canAdmin, canRead } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deleteHost, getHost, updateHost } from "@/lib/queries/hosts";
import { HostUpdate } from "@/lib/validation/hosts";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

export const GET = route<P>({ allow: canRead }, async ({ params }) => ({ host: await getHost(parseWith(IdParam, params).id) }) satisfies ApiResponse<"GET /api/hosts/:id">);

/** PATCH /api/hosts/:id (admin): any of name, address, agentUrl, agentToken. */
export const PATCH = route<P>({ allow: canAdmin }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  return { host: await updateHost(id, await body(HostUpdate), actor) } satisfies ApiResponse<"PATCH /api/hosts/:id">;
});

/** DELETE /api/hosts/:id (admin): 409 naming the pair while a pair still uses the host. */
export const DELETE = route<P>({ allow: canAdmin }, async ({ params, actor }) => {
  await deleteHost(parseWith(IdParam, params).id, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT } = otherMethods({ GET, PATCH, DELETE });
