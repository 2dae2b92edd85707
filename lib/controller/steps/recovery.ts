/**
 * Failure policy of a manual switchover (README, docs/controller.md): bring the pair back to exactly one
 * primary holding the VIP. The old primary is re-promoted when it still runs on a connected host,
 * otherwise the other server is promoted; the server not chosen is demoted first (its agent disables its
 * VIP), so the VIP is never enabled on both hosts. Pure: the steps to append to the same operation.
 */
import { type OperationRecord, type PairWorld, type PlannedStep, type ServerState, type StepAction, serverStates } from "../model";
import { on, vipOn } from "../plan";
import { describeState } from "./verify";

export type RecoveryPlan = { steps: PlannedStep[]; keep: ServerState } | { steps: null; why: string };

export function planRecovery(w: PairWorld, op: Pick<OperationRecord, "fromServerId" | "toServerId" | "steps">): RecoveryPlan {
  const ss = serverStates(w);
  const from = ss.find((s) => s.cfg.id === op.fromServerId) ?? null;
  const to = ss.find((s) => s.cfg.id === op.toServerId) ?? null;
  const usable = (s: ServerState | null): s is ServerState => !!s && s.connected && s.app?.state === "running";
  const keep = usable(from) ? from : usable(to) ? to : null;
  if (!keep) return { steps: null, why: `recovery impossible: no server is running on a connected host (${describeState(w)})` };
  const other = keep === from ? to : from;
  const seq0 = Math.max(0, ...op.steps.map((s) => s.seq));
  const steps: PlannedStep[] = [];
  const add = (action: StepAction, s: ServerState | null, target: string) =>
    steps.push({ seq: seq0 + steps.length + 1, action, targetServerId: s?.cfg.id ?? null, targetHostId: s?.cfg.hostId ?? null, target });
  if (usable(other)) add("recover_demote", other, on(other.cfg));
  add("recover_promote", keep, `${on(keep.cfg)} (${vipOn(w.pair, keep.cfg)})`);
  add("recover_verify", null, `${w.pair.name}: one primary holding the VIP`);
  return { steps, keep };
}
