/** The one place request input meets zod: bodies, query strings and path params. */
import type { z } from "zod";
import { MAX_BODY_BYTES, payloadTooLarge } from "./body-limit";
import { NoNul } from "@/lib/validation/common";
import { ApiError, badRequest } from "./errors";

/** "servers.1.hostId: must be a UUID" — the first issue, naming the field. */
export function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const field = issue.path.map(String).join(".");
  return { field, message: field ? `${field}: ${issue.message}` : issue.message };
}

/** Request input through its schema, after the rule every request value obeys (no NUL, lib/validation/common.ts). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = NoNul.pipe(schema).safeParse(value);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error.issues[0]);
  throw badRequest(message, field || undefined);
}

/** `optional`: an empty body (with or without a content type) reads as `{}` (endpoints whose fields are all optional). */
export async function readJson(req: Request, opts: { optional?: boolean } = {}): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (Number(req.headers.get("content-length")) > MAX_BODY_BYTES) throw payloadTooLarge();
  const json = /^application\/(.+\+)?json\b/i.test(type);
  if (!json && !opts.optional) throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  const text = await readText(req.body, MAX_BODY_BYTES);
  if (text.trim() === "") {
    if (opts.optional) return {};
    throw badRequest("request body is empty; expected a JSON object");
  }
  if (!json) throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
}

/**
 * The body as UTF-8 text, read chunk by chunk with a byte counter: past `max` bytes it stops reading (the
 * rest is left unread; server.ts closes the connection) and throws 413. Holds at most `max` bytes and one chunk.
 */
async function readText(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch {
        throw badRequest("the request body did not arrive in full");
      }
      if (r.done) break;
      size += r.value.byteLength;
      if (size > max) throw payloadTooLarge();
      chunks.push(r.value);
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

export async function parseBody<S extends z.ZodType>(req: Request, schema: S, opts: { optional?: boolean } = {}): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(req, opts));
}

/** Query string as an object (repeated keys: the last wins). */
export function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const params = new URL(req.url, "http://localhost").searchParams;
  const obj: Record<string, string> = {};
  for (const [k, v] of params) obj[k] = v;
  return parseWith(schema, obj);
}
