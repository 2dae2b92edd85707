/** Building blocks shared by the schemas. No Node APIs: importable from client components for form checks. */
import { z } from "zod";

export const Uuid = z.uuid({ message: "must be a UUID" });

/** Names of hosts, pairs, servers and apps: what the agent protocol accepts too. */
export const Name = z
  .string({ message: "must be a string" })
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "may contain letters, digits, '.', '_' and '-' and must start with a letter or digit");

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function ipFamily(value: string): 4 | 6 | 0 {
  if (IPV4.test(value)) return 4;
  return z.ipv6().safeParse(value).success ? 6 : 0;
}

export const IpAddress = z
  .string({ message: "must be a string" })
  .trim()
  .refine((v) => ipFamily(v) !== 0, "must be an IPv4 or IPv6 address (without a prefix)");

/** A DNS name or an IP address. */
export const HostAddress = z
  .string({ message: "must be a string" })
  .trim()
  .min(1, "must not be empty")
  .max(253, "must be at most 253 characters")
  .refine(
    (v) => ipFamily(v) !== 0 || /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(v),
    "must be a host name or an IP address",
  );

/** Linux interface name (IFNAMSIZ 16 incl. NUL), aliases like eth0:1 allowed. */
export const InterfaceName = z
  .string({ message: "must be a string" })
  .trim()
  .min(1, "must not be empty")
  .max(15, "must be at most 15 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/, "is not a valid interface name");

export const AgentUrl = z
  .string({ message: "must be a string" })
  .trim()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return ["http:", "https:", "ws:", "wss:"].includes(u.protocol) && !!u.hostname && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "must be an http(s):// or ws(s):// URL without credentials");

export const Secret = z
  .string({ message: "must be a string" })
  .min(16, "must be at least 16 characters")
  .max(512, "must be at most 512 characters");

export const RoleSchema = z.enum(["admin", "operator", "viewer"], { message: "must be admin, operator or viewer" });

/**
 * Where a value holds a NUL character (U+0000), in a string or a key, at any depth: the path to it, or
 * null. Postgres's text types cannot store NUL (the statement fails), so no request value may hold one.
 */
export function nulAt(value: unknown, path: PropertyKey[] = []): PropertyKey[] | null {
  if (typeof value === "string") return value.includes("\u0000") ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = nulAt(v, [...path, i]);
      if (at) return at;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const at = k.includes("\u0000") ? [...path, k] : nulAt(v, [...path, k]);
      if (at) return at;
    }
  }
  return null;
}

/**
 * The text rule of every request value (lib/http/validate.ts runs it before each request schema, for
 * bodies, query strings and path parameters alike): no NUL anywhere, refused naming the field, instead of
 * a database error (500) once the value reaches a statement.
 */
export const NoNul = z.unknown().superRefine((value, ctx) => {
  const at = nulAt(value);
  if (at) ctx.addIssue({ code: "custom", path: at, message: "must not contain NUL characters" });
});

/** Treats "" from HTML forms and query strings as absent. */
export const emptyToUndefined = (v: unknown) => (v === "" ? undefined : v);

/** A query value listing choices, comma-separated ("critical,major"): each must be one of `values`. */
export function commaList<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.preprocess(
    (v) => (typeof v === "string" && v !== "" ? v.split(",").map((x) => x.trim()).filter(Boolean) : undefined),
    z.array(z.enum(values, { message: `each ${what} must be one of ${values.join(", ")}` })).max(values.length * 2, `too many ${what}s`).optional(),
  );
}
