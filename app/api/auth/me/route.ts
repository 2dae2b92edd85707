import type { ApiResponse } from "@/lib/api-types";
import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";

/** GET /api/auth/me -> who is calling and how. */
export const GET = route({ allow: canRead }, async ({ principal }) => ({
  user: { id: principal.userId, username: principal.username, role: principal.role },
  via: principal.kind === "token" ? "token" : "session",
  ...(principal.kind === "token" ? { token: { id: principal.credentialId, name: principal.tokenName ?? principal.credentialId } } : {}),
}) satisfies ApiResponse<"GET /api/auth/me">);

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
