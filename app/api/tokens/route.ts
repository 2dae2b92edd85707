import type { ApiResponse } from "@/lib/api-types";
import { canAdmin } from "@/lib/auth/roles";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { createToken, listTokens } from "@/lib/queries/tokens";
import { TokenCreate } from "@/lib/validation/tokens";

/** GET /api/tokens (admin) -> { tokens } (prefixes only, never the secret). */
export const GET = route({ allow: canAdmin }, async () => ({ tokens: await listTokens() }) satisfies ApiResponse<"GET /api/tokens">);

/** POST /api/tokens (admin) { name, role, expiresInDays? } -> 201 { token: { ..., token: "sy_..." } }, shown once. */
export const POST = route({ allow: canAdmin }, async ({ body, principal, actor }) =>
  json({ token: await createToken(await body(TokenCreate), principal, actor) } satisfies ApiResponse<"POST /api/tokens">, 201),
);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ GET, POST });
