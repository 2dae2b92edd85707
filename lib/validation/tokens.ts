import { z } from "zod";
import { RoleSchema } from "./common";

export const TokenCreate = z
  .object({
    name: z
      .string({ message: "must be a string" })
      .trim()
      .min(1, "must not be empty")
      .max(64, "must be at most 64 characters")
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "may contain letters, digits, spaces, '.', '_' and '-'"),
    role: RoleSchema,
    /** Days until the token expires; absent: never. */
    expiresInDays: z.number({ message: "must be a number" }).int("must be a whole number").min(1, "must be at least 1").max(3650, "must be at most 3650").optional(),
  })
  .strict();
export type TokenCreate = z.infer<typeof TokenCreate>;
