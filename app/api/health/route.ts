import type { ApiResponse } from "@/lib/api-types";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { checkDatabase } from "@/lib/queries/health";
import pkg from "@/package.json" with { type: "json" };

export const dynamic = "force-dynamic";

/** GET /api/health -> { status, db, version }; no auth. 503 when the database does not answer. */
export const GET = route({ allow: "public" }, async () => {
  const dbState = await checkDatabase();
  const ok = dbState === "ok";
  return json({ status: ok ? "ok" : "degraded", db: dbState, version: pkg.version } satisfies ApiResponse<"GET /api/health">, ok ? 200 : 503);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
