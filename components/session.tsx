"use client";
/** The signed-in user (from GET /api/auth/me) and what their role allows. */
import { createContext, useContext, useEffect, useState } from "react";
import type { SessionUserDto as Me } from "@/lib/views";
import { api } from "./api";

const MeContext = createContext<{ me: Me | null; loading: boolean }>({ me: null, loading: true });

export function MeProvider({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<{ me: Me | null; loading: boolean }>({ me: null, loading: true });
  useEffect(() => {
    let live = true;
    api("GET /api/auth/me")
      .then(({ user }) => live && setState({ me: user, loading: false }))
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
