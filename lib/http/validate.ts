/** The one place request input meets zod: bodies, query strings and path params. */
import type { z } from "zod";
import { ApiError, badRequest } from "./errors";

/** Upper bound on JSON bodies (bytes). */
export const MAX_BODY_BYTES = 256 * 1024;

/** "servers.1.hostId: must be a UUID" — the first issue, naming the field. */
export function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const field = issue.path.map(String).join(".");
  return { field, message: field ? `${field}: ${issue.message}` : issue.message };
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error.issues[0]);
  throw badRequest(message, field || undefined);
}

export async function readJson(req: Request): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  }
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError(413, "payload_too_large", `body larger than ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === "") throw badRequest("request body is empty; expected a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
}

export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(req));
}

/** Query string as an object (repeated keys: the last wins). */
export function parseQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const params = new URL(req.url, "http://localhost").searchParams;
  const obj: Record<string, string> = {};
  for (const [k, v] of params) obj[k] = v;
  return parseWith(schema, obj);
}
