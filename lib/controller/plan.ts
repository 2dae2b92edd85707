/**
 * The planned steps of each kind of operation, in the source document's order. Pure.
 *
 * Manual switchover (SCI → SCS → LCA):   demote, vip_disable, promote, vip_enable, verify
 * Primary server failure:                promote, vip_enable, vip_disable (by the failed host's agent), verify
 * Primary server disconnected:           promote, vip_enable, vip_disable (skipped: unreachable), verify
 * Both primary after a reconnect:        demote (reconnected one), vip_disable, promote (keeper: announce
 *                                        the VIP again), vip_enable, verify
 * VIP on no host / on both hosts:        [demote, vip_disable (the stray holder)], promote, vip_enable, verify
 *
 * An operator's overrides:
 *   promote (nobody primary):            promote, vip_enable, verify
 *   start / restart in a mode:           start | restart (the agent sets the mode; primary: the VIP moves too)
 *   stop:                                stop
 *   graceful stop of the primary:        demote, vip_disable, promote (the backup), vip_enable, verify, stop
 *   clear the hold-down:                 holddown_clear
 *
 * A failed server is restarted by its own agent (in backup mode), never by an operation.
 */
import type { OperationKindName, OperationParams, PairCfg, PlannedStep, ServerCfg, StepAction } from "./model";

export type { PlannedStep, StepAction };

export const on = (s: ServerCfg) => `${s.name} on ${s.hostName}`;
export const vipOn = (pair: PairCfg, s: ServerCfg) => `VIP ${pair.vipAddress}/${pair.vipPrefix} on ${s.hostName}`;

export function serverOf(pair: PairCfg, id: string | null): ServerCfg | null {
  return pair.servers.find((s) => s.id === id) ?? null;
}

export function planSteps(kind: OperationKindName, pair: PairCfg, fromId: string | null, toId: string | null, params: OperationParams = {}): PlannedStep[] {
  const from = serverOf(pair, fromId);
  const to = serverOf(pair, toId);
  const steps: Omit<PlannedStep, "seq">[] = [];
  const srv = (action: StepAction, s: ServerCfg) => steps.push({ action, targetServerId: s.id, targetHostId: s.hostId, target: on(s) });
  const vip = (action: StepAction, s: ServerCfg) => steps.push({ action, targetServerId: s.id, targetHostId: s.hostId, target: vipOn(pair, s) });
  const verify = (text: string) => steps.push({ action: "verify", targetServerId: null, targetHostId: null, target: text });

  switch (kind) {
    case "manual_switchover":
    case "split_brain_resolution":
    case "vip_repair":
      if (!to) throw new Error(`${kind} needs the server to promote (or keep)`);
      if (from) {
        srv("demote", from);
        vip("vip_disable", from);
      } else if (kind !== "vip_repair") throw new Error(`${kind} needs the server to demote`);
      // The keeper is told primary again too: its agent enables the VIP if it lost it and announces it
      // (gratuitous ARPs), so that clients that followed the other host come back at once.
      srv("promote", to);
      vip("vip_enable", to);
      verify(`${pair.name}: ${to.name} primary, VIP only on ${to.hostName}`);
      break;
    case "failover":
    case "disconnect_failover":
      if (!to || !from) throw new Error(`${kind} needs both servers`);
      srv("promote", to);
      vip("vip_enable", to);
      vip("vip_disable", from);
      verify(`${pair.name}: ${to.name} primary with the VIP on ${to.hostName}`);
      break;
    case "restart":
      throw new Error("restarts belong to the host's agent: the controller plans none");
    case "promote":
      if (!to) throw new Error("promote needs the server to promote");
      srv("promote", to);
      vip("vip_enable", to);
      verify(`${pair.name}: ${to.name} primary, VIP only on ${to.hostName}`);
      break;
    case "app_start":
    case "app_restart": {
      if (!to) throw new Error(`${kind} needs its server`);
      const mode = params.mode ? ` in ${params.mode} mode` : "";
      steps.push({ action: kind === "app_start" ? "start" : "restart", targetServerId: to.id, targetHostId: to.hostId, target: `${on(to)}${mode}` });
      break;
    }
    case "app_stop":
      if (!from) throw new Error("app_stop needs the server to stop");
      if (to) {
        // Graceful: the backup takes over first (the planned switchover's steps), then the server stops.
        srv("demote", from);
        vip("vip_disable", from);
        srv("promote", to);
        vip("vip_enable", to);
        verify(`${pair.name}: ${to.name} primary, VIP only on ${to.hostName}`);
      }
      srv("stop", from);
      break;
    case "clear_holddown":
      steps.push({ action: "holddown_clear", targetServerId: null, targetHostId: null, target: `${pair.name}: the hold-down of its last automatic failover` });
      break;
  }
  return steps.map((s, i) => ({ ...s, seq: i + 1 }));
}
