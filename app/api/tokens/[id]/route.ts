import { canAdmin } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deleteToken } from "@/lib/queries/tokens";
import { IdParam } from "@/lib/validation/misc";

/** DELETE /api/tokens/:id (admin): revokes the token and disconnects its live sockets. */
export const DELETE = route<{ id: string }>({ allow: canAdmin }, async ({ params, actor }) => {
  await deleteToken(parseWith(IdParam, params).id, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, POST, PUT, PATCH } = otherMethods({ DELETE });
