/** verify and recover_verify: wait, event-driven and bounded, for the end state the operation must reach. */
import { type OperationRecord, type PairWorld, type ServerState, type StepRecord, isObservedPrimary, serverStates, vipHolders } from "../model";
import { FAILED, type StepHandler } from "./context";

export function describeState(w: PairWorld): string {
  return serverStates(w)
    .map((s) =>
      s.connected
        ? `${s.cfg.name}: ${s.app?.state ?? "absent"}/${s.app?.mode ?? "unknown"}, VIP ${s.vip?.observed ?? "unknown"} on ${s.cfg.hostName}`
        : `${s.cfg.name}: agent of ${s.cfg.hostName} disconnected`,
    )
    .join("; ");
}

/** The end state each kind of operation must reach (recover_verify: exactly one primary holding the VIP). */
export function verifyPredicate(op: Pick<OperationRecord, "kind" | "fromServerId" | "toServerId">, step: Pick<StepRecord, "action">) {
  return (w: PairWorld): boolean => {
    const ss = serverStates(w);
    const by = (id: string | null) => ss.find((s) => s.cfg.id === id) ?? null;
    const from = by(op.fromServerId);
    const to = by(op.toServerId);
    const vipOff = (s: ServerState | null) => !s || !s.connected || s.vip?.observed !== "enabled";
    const primaryWithVip = (s: ServerState | null) => !!s && isObservedPrimary(s) && s.vip?.observed === "enabled";
    const backupNoVip = (s: ServerState | null) => !!s && s.connected && s.app?.state === "running" && s.app.mode === "backup" && s.vip?.observed !== "enabled";
    if (step.action === "recover_verify") {
      return ss.filter(primaryWithVip).length === 1 && ss.filter((s) => s.connected && s.vip?.observed === "enabled").length === 1;
    }
    switch (op.kind) {
      case "manual_switchover":
        return backupNoVip(from) && primaryWithVip(to);
      case "split_brain_resolution":
      case "vip_repair":
        // One holder, the keeper; the demoted one (if it runs) backup.
        return primaryWithVip(to) && vipHolders(ss).length === 1 && (!from || !from.connected || from.app?.state !== "running" || from.app.mode === "backup");
      case "failover":
        return primaryWithVip(to) && vipOff(from);
      case "disconnect_failover":
        return primaryWithVip(to);
      case "restart": // history only (restarts belong to the agents)
        return backupNoVip(to);
      case "promote":
      case "app_stop": // graceful: the backup took over before the stop step
        return primaryWithVip(to) && vipHolders(ss).length === 1;
      case "app_start":
      case "app_restart":
      case "clear_holddown":
        return true; // no verify step is planned: the agent's acknowledgement is the outcome
    }
  };
}

export const verify: StepHandler = async (ctx, i) => {
  const s = ctx.op.steps[i];
  ctx.start(s);
  const ok = await ctx.env.waitFor(verifyPredicate(ctx.op, s), ctx.env.verifyTimeoutMs);
  const found = describeState(ctx.env.world());
  await ctx.finish(s, ok ? "succeeded" : "failed", {
    output: null,
    ack: { observed: found },
    error: ok ? null : `end state not observed within ${ctx.env.verifyTimeoutMs} ms; state found: ${found}`,
  });
  return ok ? 1 : FAILED;
};
