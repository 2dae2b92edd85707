import type { ApiResponse } from "@/lib/api-types";
import { json } from "@/lib/http/json";
import { otherMethods, route } from "@/lib/http/route";
import { localControllerState } from "@/lib/controller/client";
import { checkDatabase } from "@/lib/queries/health";
import pkg from "@/package.json" with { type: "json" };

export const dynamic = "force-dynamic";

/**
 * GET /api/health -> { status, db, version, controller }; no auth. 503 when the database does not answer.
 * `controller`: the writes of the controller leading in this instance (null when another instance leads):
 * "journal" while it fails over without the database, with the records waiting for it.
 */
export const GET = route({ allow: "public" }, async () => {
  const [dbState, controller] = await Promise.all([checkDatabase(), localControllerState().catch(() => null)]);
  const ok = dbState === "ok";
  return json({ status: ok ? "ok" : "degraded", db: dbState, version: pkg.version, controller } satisfies ApiResponse<"GET /api/health">, ok ? 200 : 503);
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
