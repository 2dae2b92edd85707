import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createUser, listUsers } from "@/lib/queries/users";
import { UserCreate } from "@/lib/validation/users";

/** GET /api/users (admin) -> { users }. */
export const GET = route({ allow: canAdmin }, async () => ({ users: await listUsers() }) satisfies ApiResponse<"GET /api/users">);

/** POST /api/users (admin) { username, password, role } -> 201 { user }. */
export const POST = route({ allow: canAdmin }, async ({ body, actor }) => json({ user: await createUser(await body(UserCreate), actor) } satisfies ApiResponse<"POST /api/users">, 201));

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
