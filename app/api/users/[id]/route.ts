import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { otherMethods, parseWith, route } from "@/lib/http/route";
import { deleteUser, updateUserRole } from "@/lib/queries/users";
import { UserUpdate } from "@/lib/validation/users";
import { IdParam } from "@/lib/validation/misc";

type P = { id: string };

/** PATCH /api/users/:id (admin) { role } -> { user }; 409 when it would demote the last admin. Audited (`user.role`). */
export const PATCH = route<P>({ allow: canAdmin }, async ({ params, body, actor }) => {
  const { id } = parseWith(IdParam, params);
  return { user: await updateUserRole(id, await body(UserUpdate), actor) } satisfies ApiResponse<"PATCH /api/users/:id">;
});

/** DELETE /api/users/:id (admin): 409 for yourself or the last admin; ends the user's sessions and sockets. */
export const DELETE = route<P>({ allow: canAdmin }, async ({ params, principal, actor }) => {
  await deleteUser(parseWith(IdParam, params).id, principal, actor);
  return noContent();
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, POST, PUT } = otherMethods({ PATCH, DELETE });
