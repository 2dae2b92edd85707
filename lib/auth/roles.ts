/** Roles and the predicates every route and socket handler uses (never inline role checks). */
export type Role = "admin" | "operator" | "viewer";
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"] as const;

export interface Principal {
  kind: "user" | "token";
  userId: string;
  username: string;
  role: Role;
  /** Session id (kind "user") or token id (kind "token"). */
  credentialId: string;
  /** Token name when kind is "token". */
  tokenName?: string;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

/** The weaker of two roles (a token never exceeds its owner's current role). */
export function minRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export const canRead = (p: Principal | null | undefined): boolean => !!p && roleAtLeast(p.role, "viewer");
export const canOperate = (p: Principal | null | undefined): boolean => !!p && roleAtLeast(p.role, "operator");
export const canAdmin = (p: Principal | null | undefined): boolean => !!p && roleAtLeast(p.role, "admin");

/** The name written as `actor` in audit rows and `requestedBy` in operations. */
export function actorName(p: Principal): string {
  return p.kind === "token" ? `token:${p.tokenName ?? p.credentialId}` : p.username;
}
