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
