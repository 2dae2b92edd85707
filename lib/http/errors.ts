/** The one error shape of the API: `{ "error": { "code", "message", "field"? } }` with the matching status. */
export type ErrorCode =
  | "invalid_input"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "payload_too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "unavailable"
  | "internal";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string, field?: string) => new ApiError(400, "invalid_input", message, { field });
export const unauthenticated = (message = "sign in or present an API token") => new ApiError(401, "unauthenticated", message);
export const forbidden = (message = "your role does not allow this") => new ApiError(403, "forbidden", message);
export const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);
export const conflict = (message: string) => new ApiError(409, "conflict", message);
/** The database cannot be reached: try again (failover does not depend on it: docs/controller.md). */
export const databaseUnavailable = () =>
  new ApiError(503, "unavailable", "the database cannot be reached; try again shortly (failover goes on without it)", { headers: { "retry-after": "5" } });
export const tooManyRequests = (retryAfterSeconds: number) =>
  new ApiError(429, "rate_limited", `too many failed attempts; retry in ${retryAfterSeconds} s`, {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export function errorBody(e: ApiError): ErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.extra.field ? { field: e.extra.field } : {}) } };
}

/** Maps Prisma's known request errors to API errors; null for anything else (a 500). */
export function fromPrismaError(err: unknown): ApiError | null {
  if (!err || typeof err !== "object") return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string" || !/^P\d{4}$/.test(code)) return null;
  const meta = ((err as { meta?: Record<string, unknown> }).meta ?? {}) as Record<string, unknown>;
  if (code === "P2002") {
    const fields = uniqueFields(meta);
    const model = typeof meta.modelName === "string" ? meta.modelName.toLowerCase() : "record";
    return conflict(fields.length ? `a ${model} with this ${fields.join(" + ")} already exists` : `this ${model} already exists`);
  }
  if (code === "P2025") return notFound(typeof meta.modelName === "string" ? meta.modelName : "record");
  if (code === "P2003") return conflict("the record is still referenced by another record");
  return null;
}

function uniqueFields(meta: Record<string, unknown>): string[] {
  if (Array.isArray(meta.target)) return meta.target.map(String);
  const cause = (meta.driverAdapterError as { cause?: { constraint?: { fields?: unknown } } } | undefined)?.cause;
  const fields = cause?.constraint?.fields;
  if (Array.isArray(fields)) return fields.map((f) => String(f).replace(/"/g, ""));
  return [];
}
