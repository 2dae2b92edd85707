import { canRead } from "@/lib/auth/roles";
import { exportResponse } from "@/lib/http/export";
import { otherMethods, route } from "@/lib/http/route";
import { OPERATION_CSV_COLUMNS, iterateOperations, operationCsvRow } from "@/lib/queries/operations";
import { OperationsExportQuery } from "@/lib/validation/operations";

/**
 * GET /api/operations/export?format=csv|json (+ the list's filters) (viewer): every matching operation,
 * oldest first, with names (pair, servers, hosts) rather than ids, its times, VIP moving time and steps;
 * refused before the first byte or marked incomplete (lib/http/export.ts).
 */
export const GET = route({ allow: canRead }, async ({ query, log, requestId }) => {
  const { format, ...filter } = query(OperationsExportQuery);
  return exportResponse({ rows: iterateOperations(filter), format, csvColumns: OPERATION_CSV_COLUMNS, csvRow: operationCsvRow, name: "operations", log, requestId });
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
