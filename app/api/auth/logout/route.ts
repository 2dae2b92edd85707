import { canRead } from "@/lib/auth/roles";
import { clearSessionCookie, isSecureRequest } from "@/lib/auth/cookies";
import { noContent } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { logout } from "@/lib/queries/auth";

/** POST /api/auth/logout: ends the session (204) and clears the cookie. */
export const POST = route({ allow: canRead }, async ({ req, principal, actor }) => {
  await logout(principal, actor);
  return noContent({ "set-cookie": clearSessionCookie({ secure: isSecureRequest(req) }) });
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
