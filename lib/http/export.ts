/**
 * A CSV or JSON download streamed from an async iterator of rows (the audit and operations exports).
 * Everything that can be refused is refused before the first byte: the caller validates the query, and
 * the first batch of rows is read here before the response starts, so a bad filter or a database that does
 * not answer is an error in the one shape (400, 500), never a 200 that stops. Later batches are read as the
 * client reads (backpressure: memory stays at one batch). Should the database fail after the first byte,
 * the file ends with the line `# export incomplete: …` (the JSON array is left unclosed, so no parser takes
 * the part for the whole) and the transfer is aborted rather than ended, so that neither a person reading
 * the file nor a client checking the transfer can mistake it for a complete export.
 */
import type { Logger } from "@/lib/log";

/** Bytes gathered into one chunk of the download before it is handed on. */
const CHUNK_BYTES = 64 * 1024;

export interface ExportOptions<T> {
  rows: AsyncGenerator<T>;
  format: "csv" | "json";
  /** The CSV header line's cells. */
  csvColumns: readonly string[];
  csvRow(row: T): string;
  /** The file name's stem: `switchyard-<name>-<time>.<format>`. */
  name: string;
  log: Pick<Logger, "error">;
  requestId: string;
}

export async function exportResponse<T>(o: ExportOptions<T>): Promise<Response> {
  const { rows, format, log, requestId } = o;
  let next = await rows.next(); // the first batch, before any byte is sent
  let count = 0;
  const enc = new TextEncoder();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let text = format === "csv" ? o.csvColumns.join(",") + "\r\n" : "[";
  let done = false;
  let failure: Error | null = null;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // The marker went out with the previous chunk: now abort the transfer.
        if (failure) return controller.error(failure);
        try {
          while (!next.done && text.length < CHUNK_BYTES) {
            text += format === "csv" ? o.csvRow(next.value) : (count === 0 ? "\n" : ",\n") + JSON.stringify(next.value);
            count++;
            next = await rows.next();
          }
          if (next.done && format === "json") text += "\n]\n";
          done = next.done === true;
        } catch (err) {
          log.error(`${o.name} export failed after the first byte`, { err, rows: count });
          failure = new Error(`${o.name} export incomplete`);
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
      "content-disposition": `attachment; filename="switchyard-${o.name}-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
}
