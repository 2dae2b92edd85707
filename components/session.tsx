"use client";
/** The signed-in user (from GET /api/auth/me) and what their role allows. */
import { createContext, useContext, useEffect, useState } from "react";
import { api } from "./api";

export type Role = "admin" | "operator" | "viewer";
export interface Me {
  id: string;
  username: string;
  role: Role;
}

const MeContext = createContext<{ me: Me | null; loading: boolean }>({ me: null, loading: true });

export function MeProvider({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<{ me: Me | null; loading: boolean }>({ me: null, loading: true });
  useEffect(() => {
    let live = true;
    api<Record<string, unknown>>("/api/auth/me")
      .then((j) => {
        const u = (j.user ?? j.principal ?? j) as Record<string, unknown>;
        if (live) setState({ me: { id: String(u.id ?? u.userId ?? ""), username: String(u.username ?? ""), role: (u.role as Role) ?? "viewer" }, loading: false });
      })
      .catch(() => live && setState({ me: null, loading: false }));
    return () => {
      live = false;
    };
  }, []);
  return <MeContext.Provider value={state}>{children}</MeContext.Provider>;
}

export function useMe() {
  return useContext(MeContext);
}

export const canOperate = (me: Me | null) => me?.role === "operator" || me?.role === "admin";
export const canAdmin = (me: Me | null) => me?.role === "admin";
