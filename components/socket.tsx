"use client";
/**
 * One socket.io connection per tab, to the same origin (the session cookie authenticates it).
 * `generation` increases on every (re)connect: pages refetch when it changes, so nothing stays stale
 * after a reconnect. `useLive(event, handler)` subscribes a component to one event.
 */
import { createContext, useContext, useEffect, useRef, useState } from "react";
import { io, type Socket } from "socket.io-client";
import { loginPath } from "@/lib/validation/return-path";
import type { ClientToServerEvents, ControllerStateJson, ServerToClientEvents } from "@/lib/realtime/events";
import { Time } from "./Time";

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface LiveState {
  socket: LiveSocket | null;
  connected: boolean;
  /** Connected at least once (no "disconnected" banner during the first connect). */
  everConnected: boolean;
  generation: number;
  lastError: string | null;
}

const LiveContext = createContext<LiveState>({ socket: null, connected: false, everConnected: false, generation: 0, lastError: null });

export function LiveProvider({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<LiveState>({ socket: null, connected: false, everConnected: false, generation: 0, lastError: null });
  useEffect(() => {
    const socket: LiveSocket = io({ withCredentials: true, transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });
    setState((s) => ({ ...s, socket }));
    const onConnect = () => setState((s) => ({ ...s, connected: true, everConnected: true, generation: s.generation + 1, lastError: null }));
    const onDisconnect = (reason: string) => setState((s) => ({ ...s, connected: false, lastError: reason }));
    const onError = (err: Error) => {
      setState((s) => ({ ...s, connected: false, lastError: err.message }));
      // The server refuses an unauthenticated socket: the session has ended.
      if (/unauthori[sz]ed|401|not signed in|session/i.test(err.message)) {
        window.location.assign(loginPath(window.location.pathname + window.location.search));
      }
    };
    socket.on("connect", onConnect);
    socket.on("disconnect", onDisconnect);
    socket.on("connect_error", onError);
    return () => {
      socket.off("connect", onConnect);
      socket.off("disconnect", onDisconnect);
      socket.off("connect_error", onError);
      socket.disconnect();
    };
  }, []);
  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(LiveContext);
}

/** Subscribe to one server event; the handler may change between renders without resubscribing. */
export function useLive<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]) {
  const { socket } = useContext(LiveContext);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!socket) return;
    const fn = ((...args: unknown[]) => (ref.current as (...a: unknown[]) => void)(...args)) as ServerToClientEvents[E];
    // socket.io's typed overloads do not narrow a generic key; the cast keeps the public API typed.
    (socket as unknown as Socket).on(event as string, fn as (...a: unknown[]) => void);
    return () => {
      (socket as unknown as Socket).off(event as string, fn as (...a: unknown[]) => void);
    };
  }, [socket, event]);
}

/** Joins the room of one pair (operation updates, pair state) while mounted, and again after a reconnect. */
export function usePairRoom(pairId: string | null) {
  const { socket, generation } = useContext(LiveContext);
  useEffect(() => {
    if (!socket || !pairId || generation === 0) return;
    socket.emit("pair:subscribe", { pairId }, () => {});
    return () => {
      socket.emit("pair:unsubscribe", { pairId }, () => {});
    };
  }, [socket, pairId, generation]);
}

export function ConnectionBanner() {
  const { connected, everConnected, lastError } = useLiveState();
  const [show, setShow] = useState(false);
  // A short grace period so a page change or a fast reconnect does not flash the banner.
  useEffect(() => {
    if (connected) {
      setShow(false);
      return;
    }
    const t = setTimeout(() => setShow(true), everConnected ? 800 : 4000);
    return () => clearTimeout(t);
  }, [connected, everConnected]);
  if (!show || connected) return null;
  return (
    <div role="alert" data-testid="connection-banner" className="flex items-center gap-2 border-b border-bad/50 bg-bad-bg px-4 py-2 text-sm font-semibold text-bad">
      <svg viewBox="0 0 16 16" className="size-4 sy-pulse" aria-hidden fill="none" stroke="currentColor" strokeWidth="1.8"><path d="M8 1.8l6.5 12H1.5z" /><path d="M8 6.5v3.2M8 11.8v.1" /></svg>
      Live updates lost — reconnecting. What you see may be out of date; the page refreshes itself when the connection is back.
      {lastError && <span className="font-normal opacity-80">({lastError})</span>}
    </div>
  );
}

/**
 * The controller leading in this instance cannot reach the database: it goes on failing over, and what it
 * must write waits in its journal (written in order once the database is back). Pages that read the
 * database may fail meanwhile; the live views on this page stay current.
 */
export function ControllerBanner() {
  // Sent on every connect (and reconnect) by the instance whose controller leads, and on every change.
  const [state, setState] = useState<ControllerStateJson | null>(null);
  useLive("controller:state", setState);
  if (!state || state.writes !== "journal") return null;
  return (
    <div role="status" data-testid="journal-banner" className="flex flex-wrap items-center gap-x-2 border-b border-warn/50 bg-warn-bg px-4 py-2 text-sm text-warn">
      <svg viewBox="0 0 16 16" className="size-4 shrink-0" aria-hidden fill="none" stroke="currentColor" strokeWidth="1.8"><ellipse cx="8" cy="3.5" rx="5.5" ry="2" /><path d="M2.5 3.5v9c0 1.1 2.5 2 5.5 2s5.5-.9 5.5-2v-9" /><path d="M1.5 14.5l13-13" /></svg>
      <span className="font-semibold">Database unreachable — failover goes on.</span>
      <span>
        {state.pending > 0 ? `The controller's journal holds ${state.pending} record${state.pending === 1 ? "" : "s"}` : "The controller keeps its records in its journal"}
        {state.since && <> since <Time iso={state.since} /></>}; they are written to the database when it is back. Other pages may not load meanwhile.
      </span>
    </div>
  );
}
