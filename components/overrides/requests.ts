/**
 * What a person can ask of a pair by hand (lib/controller/preflight.ts, OperatorRequest), as the panel
 * names it: the menu item, the dialog's title and the confirm button ("Stop sip-1").
 */
import type { PairView, ServerView } from "@/lib/views";
import { inWindow } from "@/lib/views";

export type Mode = "primary" | "backup";

export type OverrideRequest =
  | { kind: "manual_switchover" }
  | { kind: "promote"; serverId: string }
  | { kind: "app_start"; serverId: string; mode: Mode }
  | { kind: "app_stop"; serverId: string; graceful: boolean }
  | { kind: "app_restart"; serverId: string; mode: Mode }
  | { kind: "clear_holddown" };

export function serverOf(pair: PairView, req: OverrideRequest): ServerView | null {
  return "serverId" in req ? (pair.servers.find((s) => s.id === req.serverId) ?? null) : null;
}

/** The dialog's title: "Stop sip-1 on host-a1". */
export function titleOf(pair: PairView, req: OverrideRequest): string {
  const s = serverOf(pair, req);
  const on = s ? `${s.name} on ${s.hostName}` : "";
  switch (req.kind) {
    case "manual_switchover":
      return `Switch over ${pair.name}`;
    case "promote":
      return `Promote ${on}`;
    case "app_start":
      return `Start ${on}`;
    case "app_stop":
      return req.graceful ? `Graceful stop of ${on}` : `Stop ${on}`;
    case "app_restart":
      return `Restart ${on}`;
    case "clear_holddown":
      return `Clear the hold-down of ${pair.name}`;
  }
}

/** The confirm button names the action: "Stop sip-1", "Start sip-2 as backup". */
export function confirmLabel(pair: PairView, req: OverrideRequest, target?: { name: string } | null): string {
  const name = serverOf(pair, req)?.name ?? "";
  switch (req.kind) {
    case "manual_switchover":
      return target ? `Make ${target.name} primary` : "Switch over";
    case "promote":
      return `Promote ${name}`;
    case "app_start":
      return `Start ${name} as ${req.mode}`;
    case "app_stop":
      return req.graceful ? `Gracefully stop ${name}` : `Stop ${name}`;
    case "app_restart":
      return `Restart ${name} as ${req.mode}`;
    case "clear_holddown":
      return "Clear hold-down";
  }
}

/** The query of GET /api/pairs/:id/preflight (and, with reason, the body of POST …/operations). */
export function requestParams(req: OverrideRequest): Record<string, string> {
  const out: Record<string, string> = { kind: req.kind };
  if ("serverId" in req) out.serverId = req.serverId;
  if ("mode" in req) out.mode = req.mode;
  if ("graceful" in req) out.graceful = String(req.graceful);
  return out;
}

export function requestBody(req: OverrideRequest, reason: string, confirmMaintenance: boolean) {
  return {
    ...req,
    ...(reason.trim() ? { reason: reason.trim() } : {}),
    ...(confirmMaintenance ? { confirmMaintenance: true } : {}),
  };
}

/** In maintenance by its flag or by a current window. */
export function inMaintenance(pair: PairView, now = Date.now()): boolean {
  return pair.maintenance || inWindow(pair.maintenanceWindows, now);
}

export const hasPrimary = (pair: PairView) => pair.servers.some((s) => s.mode === "primary" && s.processState === "running" && s.agentConnected);
export const isRunning = (s: ServerView) => s.processState !== "stopped" && s.processState !== "failed" && s.processState !== "unknown";

/**
 * The menu of one server: what applies to it now (the preflight still decides). Start when it is not
 * running; Stop and Restart when it runs; Graceful stop for the primary; Promote when the pair has no primary.
 */
export function serverMenu(pair: PairView, s: ServerView): { label: string; req: OverrideRequest }[] {
  const items: { label: string; req: OverrideRequest }[] = [];
  const running = isRunning(s);
  if (!running) items.push({ label: "Start…", req: { kind: "app_start", serverId: s.id, mode: "backup" } });
  if (!hasPrimary(pair) && s.processState === "running") items.push({ label: "Promote…", req: { kind: "promote", serverId: s.id } });
  if (running) {
    items.push({ label: "Restart…", req: { kind: "app_restart", serverId: s.id, mode: s.mode === "primary" ? "primary" : "backup" } });
    if (s.mode === "primary") items.push({ label: "Graceful stop…", req: { kind: "app_stop", serverId: s.id, graceful: true } });
    items.push({ label: "Stop…", req: { kind: "app_stop", serverId: s.id, graceful: false } });
  }
  return items;
}
