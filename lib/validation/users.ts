import { z } from "zod";
import { RoleSchema } from "./common";

export const Username = z
  .string({ message: "must be a string" })
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "may contain letters, digits, '.', '_', '@' and '-'");

export const NewPassword = z
  .string({ message: "must be a string" })
  .min(10, "must be at least 10 characters")
  .max(256, "must be at most 256 characters");

export const UserCreate = z.object({ username: Username, password: NewPassword, role: RoleSchema }).strict();
export type UserCreate = z.infer<typeof UserCreate>;

/** PATCH /api/users/:id: an admin changes a user's role. */
export const UserUpdate = z.object({ role: RoleSchema }).strict();
export type UserUpdate = z.infer<typeof UserUpdate>;

/** Login accepts any password length (existing passwords may predate the rules). */
export const LoginInput = z
  .object({
    username: z.string({ message: "must be a string" }).trim().min(1, "must not be empty").max(64, "must be at most 64 characters"),
    password: z.string({ message: "must be a string" }).min(1, "must not be empty").max(256, "must be at most 256 characters"),
  })
  .strict();
export type LoginInput = z.infer<typeof LoginInput>;
