import { canRead } from "@/lib/auth/roles";
import { exportResponse } from "@/lib/http/export";
import { otherMethods, route } from "@/lib/http/route";
import { CSV_COLUMNS, csvRow, iterateAudit } from "@/lib/queries/audit";
import { AuditExportQuery } from "@/lib/validation/audit";

/**
 * GET /api/audit/export?format=csv|json (+ the list's filters) (viewer): every matching row, oldest first,
 * streamed, each with its sentence and operation; refused before the first byte or marked incomplete
 * (lib/http/export.ts).
 */
export const GET = route({ allow: canRead }, async ({ query, log, requestId }) => {
  const { format, ...filter } = query(AuditExportQuery);
  return exportResponse({ rows: iterateAudit(filter), format, csvColumns: CSV_COLUMNS, csvRow, name: "audit", log, requestId });
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
