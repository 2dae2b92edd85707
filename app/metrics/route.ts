import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { METRICS_CONTENT_TYPE, metricsText } from "@/lib/metrics";

export const dynamic = "force-dynamic";

/**
 * GET /metrics (viewer: an API token as `Authorization: Bearer sy_…`, Prometheus's `authorization`
 * credentials_file) -> the Prometheus text exposition. Without authentication: METRICS_LISTEN (server.ts).
 */
export const GET = route({ allow: canRead }, async () => new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" } }));

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
