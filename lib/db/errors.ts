/**
 * Database error classification, for errors from Prisma model calls, raw queries through the driver
 * adapter, and the pg driver itself (the controller's dedicated connections).
 */
type DbError = {
  code?: string;
  meta?: { code?: string; driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } };
};

function codes(e: unknown): { prisma: string | undefined; pg: string | undefined; kind: string | undefined } {
  if (!e || typeof e !== "object") return { prisma: undefined, pg: undefined, kind: undefined };
  const x = e as DbError;
  const cause = x.meta?.driverAdapterError?.cause;
  const pg = x.code && /^\d{2}[0-9A-Z]{3}$/.test(x.code) ? x.code : (x.meta?.code ?? cause?.originalCode);
  return { prisma: x.code && /^P\d{4}$/.test(x.code) ? x.code : undefined, pg, kind: cause?.kind };
}

/** A unique constraint refused the row (Prisma P2002, Postgres 23505). */
export function isUniqueViolation(e: unknown): boolean {
  const c = codes(e);
  return c.prisma === "P2002" || c.pg === "23505" || c.kind === "UniqueConstraintViolation";
}

/** The row references a row that no longer exists (Prisma P2003, Postgres 23503). */
export function isForeignKeyViolation(e: unknown): boolean {
  const c = codes(e);
  return c.prisma === "P2003" || c.pg === "23503" || c.kind === "ForeignKeyConstraintViolation";
}

/** Network and server-availability errors (node's socket codes; Postgres's admin-shutdown / cannot-connect classes). */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"]);
/** Prisma: can't reach the server, server closed the connection, timed out getting a pool connection, transaction timed out. */
const UNREACHABLE_PRISMA = new Set(["P1001", "P1002", "P1017", "P2024", "P2028"]);
const UNREACHABLE_TEXT = /Connection terminated|connection error|Query read timeout|timeout exceeded when trying to connect|Unable to start a transaction|Can't reach database|ECONNREFUSED|ECONNRESET|server closed the connection|terminating connection/i;

/**
 * The database cannot be reached (down, restarting, cut off, not answering): not a refusal of this
 * statement. The controller then keeps acting on its journal (lib/controller/writes.ts).
 */
export function isUnreachable(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const x = e as { code?: string; message?: string; cause?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };
  if (x.code && (UNREACHABLE_CODES.has(x.code) || UNREACHABLE_PRISMA.has(x.code))) return true;
  const kind = x.meta?.driverAdapterError?.cause?.kind;
  if (kind && /NotReachable|ConnectionClosed|SocketTimeout|TooManyConnections/i.test(kind)) return true;
  if (typeof x.message === "string" && UNREACHABLE_TEXT.test(x.message)) return true;
  return x.cause !== undefined && x.cause !== e ? isUnreachable(x.cause) : false;
}
