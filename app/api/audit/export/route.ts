import { canRead } from "@/lib/auth/roles";
import { otherMethods, route } from "@/lib/http/route";
import { CSV_COLUMNS, csvRow, iterateAudit } from "@/lib/queries/audit";
import { AuditExportQuery } from "@/lib/validation/audit";

/** Bytes gathered into one chunk of the download before it is handed on. */
const CHUNK_BYTES = 64 * 1024;

/**
 * GET /api/audit/export?format=csv|json (+ the list's filters) (viewer): every matching row, oldest first,
 * streamed. Everything that can be refused is refused before the first byte: the query is validated and
 * the first batch of rows is read before the response starts, so a bad filter or a database that does not
 * answer is an error in the one shape (400, 500), never a 200 that stops. Later batches are read as the
 * client reads (backpressure: memory stays at one batch). Should the database fail after the first byte,
 * the file ends with the line `# export incomplete: …` (the JSON array is left unclosed, so no parser takes
 * the part for the whole) and the transfer is aborted rather than ended, so that neither a person reading
 * the file nor a client checking the transfer can mistake it for a complete export.
 */
export const GET = route({ allow: canRead }, async ({ query, log, requestId }) => {
  const { format, ...filter } = query(AuditExportQuery);
  const rows = iterateAudit(filter);
  let next = await rows.next(); // the first batch, before any byte is sent
  let count = 0;
  const enc = new TextEncoder();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let text = format === "csv" ? CSV_COLUMNS.join(",") + "\r\n" : "[";
  let done = false;
  let failure: Error | null = null;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // The marker went out with the previous chunk: now abort the transfer.
        if (failure) return controller.error(failure);
        try {
          while (!next.done && text.length < CHUNK_BYTES) {
            text += format === "csv" ? csvRow(next.value) : (count === 0 ? "\n" : ",\n") + JSON.stringify(next.value);
            count++;
            next = await rows.next();
          }
          if (next.done && format === "json") text += "\n]\n";
          done = next.done === true;
        } catch (err) {
          log.error("audit export failed after the first byte", { err, rows: count });
          failure = new Error("audit export incomplete");
          text += `\n# export incomplete: the database failed after ${count} rows (request ${requestId}); this file is not the whole history, export again\n`;
        }
        controller.enqueue(enc.encode(text));
        text = "";
        if (done) controller.close();
      },
      async cancel() {
        await rows.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="switchyard-audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});

/** Every other method: 405 with Allow (lib/http/route.ts). */
export const { HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = otherMethods({ GET });
