import { z } from "zod";
import { ALARM_KINDS } from "../controller/model";
import { commaList, emptyToUndefined, Uuid } from "./common";

export const IdParam = z.object({ id: Uuid });

const ALARM_STATE_FILTERS = ["active", "cleared_unacknowledged", "acknowledged", "cleared", "open", "unacknowledged", "present", "all"] as const;

export const AlarmsQuery = z
  .object({
    pairId: z.preprocess(emptyToUndefined, Uuid.optional()),
    hostId: z.preprocess(emptyToUndefined, Uuid.optional()),
    /** One or more states (comma-separated); default open: the condition present, or cleared and not yet acknowledged. */
    state: commaList(ALARM_STATE_FILTERS, "state").transform((v) => (v?.length ? v : ["open" as const])),
    severity: commaList(["critical", "major", "minor", "warning"], "severity"),
    kind: commaList(ALARM_KINDS, "kind"),
    limit: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").default(200)),
    cursor: z.preprocess(emptyToUndefined, Uuid.optional()),
  })
  .strict();

/** POST /api/alarms/:id/ack: an optional comment. */
export const AlarmAckBody = z
  .object({ comment: z.string({ message: "must be a string" }).max(500, "must be at most 500 characters").nullish() })
  .strict();

/** POST /api/alarms/ack: several alarms at once, one comment for all. */
export const AlarmBulkAckBody = AlarmAckBody.extend({
  ids: z.array(Uuid, { message: "must be a list of alarm ids" }).min(1, "name at least one alarm").max(500, "at most 500 alarms at once"),
}).strict();

/** Bodies of POST endpoints that take no input: nothing or {}. */
export const Empty = z.object({}).strict();
