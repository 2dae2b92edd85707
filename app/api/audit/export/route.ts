import { canRead } from "@/lib/auth/roles";
import { route } from "@/lib/http/route";
import { CSV_COLUMNS, csvRow, iterateAudit } from "@/lib/queries/audit";
import { AuditExportQuery } from "@/lib/validation/audit";

/** GET /api/audit/export?format=csv|json (+ the list's filters) (viewer): every matching row, oldest first, streamed. */
export const GET = route({ allow: canRead }, async ({ query, log }) => {
  const { format, ...filter } = query(AuditExportQuery);
  const rows = iterateAudit(filter);
  const enc = new TextEncoder();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        if (format === "csv") {
          controller.enqueue(enc.encode(CSV_COLUMNS.join(",") + "\r\n"));
          for await (const r of rows) controller.enqueue(enc.encode(csvRow(r)));
        } else {
          controller.enqueue(enc.encode("["));
          let first = true;
          for await (const r of rows) {
            controller.enqueue(enc.encode((first ? "\n" : ",\n") + JSON.stringify(r)));
            first = false;
          }
          controller.enqueue(enc.encode("\n]\n"));
        }
        controller.close();
      } catch (err) {
        log.error("audit export failed", { err });
        controller.error(err);
      }
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="switchyard-audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
