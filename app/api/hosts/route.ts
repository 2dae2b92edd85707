import type { ApiResponse } from "@/lib/api-types";
import { canAdmin, canRead } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createHost, listHosts } from "@/lib/queries/hosts";
import { HostCreate } from "@/lib/validation/hosts";

/** GET /api/hosts (viewer) -> { hosts }; agentToken is never returned (hasAgentToken instead). */
export const GET = route({ allow: canRead }, async () => ({ hosts: await listHosts() }) satisfies ApiResponse<"GET /api/hosts">);

/** POST /api/hosts (admin) { name, address, agentUrl, agentToken } -> 201 { host }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => {
  const host = await createHost(await body(HostCreate), actor);
  return json({ host } satisfies ApiResponse<"POST /api/hosts">, 201);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
