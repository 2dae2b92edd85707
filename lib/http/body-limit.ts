/**
 * Bounded request bodies, before anything reads them (issues 9 and 13: six anonymous 400 MB bodies took
 * the panel from 1.7 to 4.4 GB and starved the controller sharing its event loop).
 *
 * server.ts creates its HTTP server with `httpServerOptions()` and calls `refuseOversizedBody(req, res)`
 * first for every request it handles: the API and the pages alike (no route takes a large body; matching
 * on the path would invite bypasses such as absolute-form request targets). socket.io's requests never
 * get there: engine.io takes them first and bounds them itself (maxHttpBufferSize, lib/realtime/server.ts).
 *   - `Content-Length` over MAX_BODY_BYTES: 413 at once (`Connection: close`), written before anything
 *     reads the body; nothing reads it afterwards either (the socket stops reading once the HTTP parser's
 *     small buffer is full) and the connection is closed;
 *   - no `Content-Length` (chunked): the bytes are counted as the HTTP parser delivers them. The chunk that
 *     passes the limit is the last one delivered: the route wrapper's reader (lib/http/validate.ts) sees
 *     it and answers 413; should nothing answer within a second, this module answers 413 itself;
 *   - whenever a response is sent while the body is still arriving (413, or a 401 before the body was
 *     read), the connection is closed instead of Node draining the rest of the body to reuse it.
 * Closing means: FIN after the answer, stop reading, and the socket destroyed a second later, so that a
 * client still sending gets to read the answer before the reset.
 */
import { IncomingMessage, type ServerOptions, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { config } from "@/lib/config";
import { log } from "@/lib/log";
import { ApiError, errorBody } from "./errors";

/** Upper bound on request bodies (bytes), for server.ts and the route wrapper alike. */
export const MAX_BODY_BYTES = 256 * 1024;

export const payloadTooLarge = () => new ApiError(413, "payload_too_large", `request body over ${MAX_BODY_BYTES / 1024} kB`);

/**
 * Time to receive a whole request, headers and body (Node's `requestTimeout`; env HTTP_REQUEST_TIMEOUT,
 * default 30 s): a body trickling in is answered 408 and its connection closed. It does not apply once
 * the request is complete, so long responses (socket.io long-polling, the streamed audit export) and
 * websockets are not affected.
 */
export function requestTimeoutMs(): number {
  return config().HTTP_REQUEST_TIMEOUT;
}

/** Time to receive the request's headers (Node's `headersTimeout`; env HTTP_HEADERS_TIMEOUT, default 10 s, at most the request timeout). */
export function headersTimeoutMs(): number {
  return Math.min(config().HTTP_HEADERS_TIMEOUT, requestTimeoutMs());
}

/** How long a closing connection stays half-open (answer sent, FIN sent, nothing read) before it is destroyed. */
const LINGER_MS = 1000;
/** How long after passing the limit a chunked body waits for the route to answer before this module does. */
const ANSWER_GRACE_MS = 1000;

/** An IncomingMessage that stops delivering its body past a byte limit. */
export class LimitedIncomingMessage extends IncomingMessage {
  private limit: { max: number; seen: number; onOver: () => void } | null = null;
  private cut = false;

  /** Counts body bytes from now on; the chunk that passes `max` is the last one delivered, then `onOver` runs once. */
  limitBody(max: number, onOver: () => void): void {
    this.limit = { max, seen: 0, onOver };
  }

  // The HTTP parser hands every body chunk to push() (the Readable producer API).
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null || chunk === undefined) return super.push(chunk, encoding);
    if (this.cut) return false;
    const l = this.limit;
    if (l) {
      l.seen += (chunk as Buffer).length;
      if (l.seen > l.max) {
        this.cut = true;
        super.push(chunk, encoding);
        l.onOver();
        return false;
      }
    }
    return super.push(chunk, encoding);
  }
}

export function httpServerOptions(): ServerOptions<typeof LimitedIncomingMessage> {
  const requestTimeout = requestTimeoutMs();
  return {
    IncomingMessage: LimitedIncomingMessage,
    requestTimeout,
    headersTimeout: headersTimeoutMs(),
    // How often Node checks those two timeouts (its default, 30 s, would let a 30 s timeout run to 60 s).
    connectionsCheckingInterval: Math.min(1000, requestTimeout),
  };
}

/**
 * The request guard of server.ts. Returns true when it answered the request (413), which must then not
 * be passed on; otherwise it has armed the limit and the request goes on as usual.
 */
export function refuseOversizedBody(req: IncomingMessage, res: ServerResponse): boolean {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    answerTooLarge(req, res);
    return true;
  }
  if (declared === undefined && req instanceof LimitedIncomingMessage) {
    req.limitBody(MAX_BODY_BYTES, () => {
      setTimeout(() => {
        if (!res.headersSent && !req.socket.destroyed) answerTooLarge(req, res);
      }, ANSWER_GRACE_MS).unref();
    });
  }
  // Answered before the body arrived in full: close rather than drain the rest for keep-alive.
  res.once("finish", () => {
    if (!req.complete) closeAfterAnswer(req.socket);
  });
  return false;
}

/**
 * 413 in the API's error shape, written to the socket directly: `res` is left alone so that Node neither
 * drains the body after it nor resets the connection while the client is still sending.
 */
function answerTooLarge(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify(errorBody(payloadTooLarge()));
  const requestId = res.getHeader("x-request-id");
  const head = [
    "HTTP/1.1 413 Payload Too Large",
    ...(typeof requestId === "string" ? [`x-request-id: ${requestId}`] : []),
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    "cache-control: no-store",
    "connection: close",
  ];
  req.socket.write(head.join("\r\n") + "\r\n\r\n" + body);
  closeAfterAnswer(req.socket);
  log.warn("request body refused", { requestId, method: req.method, path: (req.url ?? "").split("?")[0], status: 413, contentLength: req.headers["content-length"] ?? "chunked" });
}

function closeAfterAnswer(socket: Socket): void {
  socket.end();
  // After anything Node scheduled when the response finished (its drain of the unread body resumes reading).
  setImmediate(() => socket.pause());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
