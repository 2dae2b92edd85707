import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { route } from "@/lib/http/route";
import { createUser, listUsers } from "@/lib/queries/users";
import { UserCreate } from "@/lib/validation/users";

/** GET /api/users (admin) -> { users }. */
export const GET = route({ allow: canAdmin }, async () => ({ users: await listUsers() }));

/** POST /api/users (admin) { username, password, role } -> 201 { user }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => json({ user: await createUser(await body(UserCreate), actor) }, 201));
