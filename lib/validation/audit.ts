import { z } from "zod";
import { AuditAction } from "@/lib/audit-actions";
import { emptyToUndefined, Uuid } from "./common";

/** Years a date filter may name: four-digit ones, which JavaScript and Postgres both read and write alike. */
const YEARS = { min: 1, max: 9999 };

/** An optional ISO 8601 date-time filter (years 1-9999); "" is absent. */
export const isoTime = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO 8601 date-time, e.g. 2026-11-24T16:00:00Z")
    .transform((v) => new Date(v))
    .refine((d) => d.getUTCFullYear() >= YEARS.min && d.getUTCFullYear() <= YEARS.max, `must be between the years ${YEARS.min} and ${YEARS.max}`)
    .optional(),
);

/** Audit ids are Postgres bigints: a cursor above the largest one names no row and would fail the query. */
const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * What an audit row's outcome may be: success, failure, denied, info — and, for `alarm.raised`, the
 * alarm's severity (critical, major, minor, warning; rows written before 2026-12-02 say info).
 */
export const AuditOutcome = z.enum(["success", "failure", "denied", "info", "critical", "major", "minor", "warning"], {
  message: "must be success, failure, denied, info, critical, major, minor or warning",
});

/** Free-text search: actor, action, target and the details JSON (as text), case-insensitive, literal (no wildcards). */
export const AuditSearch = z.preprocess(
  (v) => (typeof v === "string" ? v.trim() : v),
  z.preprocess(
    emptyToUndefined,
    z
      .string({ message: "must be a string" })
      .max(200, "must be at most 200 characters")
      .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters")
      .optional(),
  ),
);

const filterShape = {
  pairId: z.preprocess(emptyToUndefined, Uuid.optional()),
  actor: z.preprocess(emptyToUndefined, z.string().max(128, "must be at most 128 characters").optional()),
  /** Only actions of the catalogue (lib/audit-actions.ts): a misspelt filter is a 400, not an empty list. */
  action: z.preprocess(emptyToUndefined, AuditAction.optional()),
  outcome: z.preprocess(emptyToUndefined, AuditOutcome.optional()),
  from: isoTime,
  to: isoTime,
  q: AuditSearch,
};

export const fromBeforeTo = (v: { from?: Date; to?: Date }) => !v.from || !v.to || v.from <= v.to;
export const fromBeforeToMsg = { path: ["to"], message: "must not be before from" };

/** Filters shared by the list and the export. */
export const AuditFilter = z.object(filterShape).strict().refine(fromBeforeTo, fromBeforeToMsg);
export type AuditFilter = z.infer<typeof AuditFilter>;

export const AuditListQuery = z
  .object({
    ...filterShape,
    /** Opaque cursor from the previous page's `nextCursor`. */
    cursor: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^\d{1,19}$/, "must be a cursor from a previous page")
        .refine((v) => !/^\d+$/.test(v) || BigInt(v) <= MAX_BIGINT, "must be a cursor from a previous page")
        .optional(),
    ),
    limit: z.preprocess(
      emptyToUndefined,
      z.coerce.number().int("must be a whole number").min(1, "must be at least 1").max(500, "must be at most 500").default(100),
    ),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToMsg);
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditExportQuery = z
  .object({
    ...filterShape,
    format: z.preprocess(emptyToUndefined, z.enum(["csv", "json"], { message: "must be csv or json" }).default("json")),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToMsg);
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;
