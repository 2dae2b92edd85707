import { z } from "zod";
import { emptyToUndefined, Uuid } from "./common";

export const IdParam = z.object({ id: Uuid });

export const AlarmsQuery = z
  .object({
    pairId: z.preprocess(emptyToUndefined, Uuid.optional()),
    hostId: z.preprocess(emptyToUndefined, Uuid.optional()),
    /** active (default): not cleared; all: include cleared, newest first. */
    state: z.preprocess(emptyToUndefined, z.enum(["active", "all"], { message: "must be active or all" }).default("active")),
    limit: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(200)),
  })
  .strict();

/** Bodies of POST endpoints that take no input: nothing or {}. */
export const Empty = z.object({}).strict();
