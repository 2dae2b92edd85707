import { canAdmin } from "@/lib/auth/roles";
import { noContent } from "@/lib/http/json";
import { parseWith, route } from "@/lib/http/route";
import { deleteUser } from "@/lib/queries/users";
import { IdParam } from "@/lib/validation/misc";

/** DELETE /api/users/:id (admin): 409 for yourself or the last admin; ends the user's sessions and sockets. */
export const DELETE = route<{ id: string }>({ allow: canAdmin }, async ({ params, principal, actor }) => {
  await deleteUser(parseWith(IdParam, params).id, principal, actor);
  return noContent();
});
