/** The operations history's query (list and export). */
import { z } from "zod";
import { OPERATION_KIND_NAMES, isKnownOperationKind, type KnownOperationKind } from "@/lib/operation-kinds";
import { AuditSearch, fromBeforeTo, fromBeforeToMsg, isoTime } from "./audit";
import { emptyToUndefined, Uuid } from "./common";

export const OPERATION_STATUSES = ["pending", "running", "succeeded", "failed"] as const;
export type OperationStatusName = (typeof OPERATION_STATUSES)[number];

/** "a,b" → ["a","b"] (one value, or several separated by commas); each must be one of `allowed`. */
function commaList<T extends string>(allowed: readonly T[], is: (v: string) => v is T, what: string) {
  return z.preprocess(
    emptyToUndefined,
    z
      .string({ message: "must be a string" })
      .max(500, "must be at most 500 characters")
      .transform((v, ctx) => {
        const items = [...new Set(v.split(",").map((x) => x.trim()).filter(Boolean))];
        const bad = items.find((x) => !is(x));
        if (bad !== undefined || !items.length) {
          ctx.addIssue({ code: "custom", message: `must be ${what} (or several, comma-separated): ${allowed.join(", ")}` });
          return z.NEVER;
        }
        return items as T[];
      })
      .optional(),
  );
}

const isStatus = (v: string): v is OperationStatusName => (OPERATION_STATUSES as readonly string[]).includes(v);

/** Largest createdAt a cursor may name (the year 9999), in epoch milliseconds. */
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `<epoch ms>.<operation id>`: the last row of the previous page (`nextCursor`). */
export const OperationCursor = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .max(60, "must be a cursor from a previous page")
    .regex(/^\d{1,15}\.[0-9a-fA-F-]{36}$/, "must be a cursor from a previous page")
    .transform((v, ctx) => {
      const [ms, id] = [Number(v.slice(0, v.indexOf("."))), v.slice(v.indexOf(".") + 1).toLowerCase()];
      if (ms > MAX_MS || !Uuid.safeParse(id).success) {
        ctx.addIssue({ code: "custom", message: "must be a cursor from a previous page" });
        return z.NEVER;
      }
      return { at: new Date(ms), id };
    })
    .optional(),
);

const filterShape = {
  pairId: z.preprocess(emptyToUndefined, Uuid.optional()),
  /** Kinds of lib/operation-kinds.ts: a misspelt kind is a 400, not an empty list. */
  kind: commaList<KnownOperationKind>(OPERATION_KIND_NAMES, isKnownOperationKind, "an operation kind"),
  status: commaList<OperationStatusName>(OPERATION_STATUSES, isStatus, "an operation status"),
  /** Exactly as recorded: a username, "token:<name>" or "controller". */
  requestedBy: z.preprocess(emptyToUndefined, z.string({ message: "must be a string" }).max(128, "must be at most 128 characters").optional()),
  /** Operations created at or after / at or before. */
  from: isoTime,
  to: isoTime,
  /** Free text: reason, decision, error, requester, pair and server names (case-insensitive, literal). */
  q: AuditSearch,
};

export const OperationFilter = z.object(filterShape).strict().refine(fromBeforeTo, fromBeforeToMsg);
export type OperationFilter = z.infer<typeof OperationFilter>;

export const OperationsQuery = z
  .object({
    ...filterShape,
    cursor: OperationCursor,
    limit: z.preprocess(
      emptyToUndefined,
      z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(500, "must be at most 500").default(100),
    ),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToMsg);
export type OperationsQuery = z.infer<typeof OperationsQuery>;

export const OperationsExportQuery = z
  .object({
    ...filterShape,
    format: z.preprocess(emptyToUndefined, z.enum(["csv", "json"], { message: "must be csv or json" }).default("json")),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToMsg);
export type OperationsExportQuery = z.infer<typeof OperationsExportQuery>;
