import type { ApiResponse } from "@/lib/api-types";
import { isSecureRequest, sessionCookie } from "@/lib/auth/cookies";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { login } from "@/lib/queries/auth";
import { LoginInput } from "@/lib/validation/users";

/** POST /api/auth/login { username, password } -> { user } and the sy_session cookie. */
export const POST = route({ allow: "public", originCheck: "always" }, async ({ req, body, ip }) => {
  const input = await body(LoginInput);
  const { user, session } = await login(input.username, input.password, ip);
  const cookie = sessionCookie(session.token, {
    secure: isSecureRequest(req),
    maxAgeSeconds: (session.expiresAt.getTime() - Date.now()) / 1000,
  });
  return json({ user, expiresAt: session.expiresAt.toISOString() } satisfies ApiResponse<"POST /api/auth/login">, { status: 200, headers: { "set-cookie": cookie } });
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { GET, HEAD, OPTIONS, PUT, PATCH, DELETE } = otherMethods({ POST });
