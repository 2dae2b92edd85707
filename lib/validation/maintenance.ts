/** Maintenance: scheduled windows and the bulk switch (operators and admins). */
import { z } from "zod";
import { emptyToUndefined, Uuid } from "./common";

/** At most this far ahead, and this long: a window is for planned work, not a way to switch a pair off for good. */
export const MAX_WINDOW_DAYS = 31;
const DAY_MS = 24 * 3600_000;

const PairIds = z
  .array(Uuid, { message: "must be a list of pair ids" })
  .min(1, "name at least one pair")
  .max(500, "at most 500 pairs at once")
  .refine((ids) => new Set(ids).size === ids.length, "names a pair twice");
const Reason = z.string({ message: "must be a string" }).trim().min(1, "say why (it is shown on the pair and in the audit)").max(500, "must be at most 500 characters");
const When = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-12-02T01:00:00Z" });

export const ScheduleWindows = z
  .object({ pairIds: PairIds, startsAt: When, endsAt: When, reason: Reason })
  .strict()
  .superRefine((v, ctx) => {
    const [start, end] = [Date.parse(v.startsAt), Date.parse(v.endsAt)];
    if (!(end > start)) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "must be after startsAt" });
    if (end <= Date.now()) ctx.addIssue({ code: "custom", path: ["endsAt"], message: "is in the past" });
    if (end - start > MAX_WINDOW_DAYS * DAY_MS) ctx.addIssue({ code: "custom", path: ["endsAt"], message: `a window lasts at most ${MAX_WINDOW_DAYS} days` });
    if (start - Date.now() > 365 * DAY_MS) ctx.addIssue({ code: "custom", path: ["startsAt"], message: "is more than a year ahead" });
  });
export type ScheduleWindows = z.infer<typeof ScheduleWindows>;

export const WindowsQuery = z
  .object({
    pairId: z.preprocess(emptyToUndefined, Uuid.optional()),
    /** open (default): current and upcoming; or current, upcoming, past, all. */
    state: z.preprocess(emptyToUndefined, z.enum(["open", "current", "upcoming", "past", "all"], { message: "must be open, current, upcoming, past or all" }).default("open")),
    limit: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(200)),
  })
  .strict();

/** POST /api/pairs/maintenance: switch maintenance on or off for several pairs at once. */
export const BulkMaintenance = z
  .object({ pairIds: PairIds, maintenance: z.boolean({ message: "must be true or false" }), reason: Reason.optional() })
  .strict();
