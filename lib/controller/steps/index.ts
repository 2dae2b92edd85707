/**
 * Runs an operation's steps in order, one handler per step action, one agent command at a time, awaiting
 * only the agent's acknowledgement between commands. Every step is idempotent (setMode primary on a
 * primary, vip.disable of a disabled VIP are no-ops in the agent), so a controller that takes over resumes
 * an operation at its first unfinished step.
 *
 * When a step fails, the rest of the plan is skipped; a manual switchover then runs its recovery
 * (recovery.ts) as steps appended to the same operation, which ends `failed` either way.
 */
import type { OperationRecord, StepAction, StepRecord } from "../model";
import { FAILED, StepContext, type StepEnv, type StepHandler } from "./context";
import { app, holddownClear } from "./app";
import { setMode } from "./mode";
import { planRecovery } from "./recovery";
import { verify, describeState } from "./verify";
import { vip } from "./vip";

export type { StepEnv, CommandBody } from "./context";
export { describeState, verifyPredicate } from "./verify";

const HANDLERS: Record<StepAction, StepHandler> = {
  demote: setMode,
  promote: setMode,
  recover_demote: setMode,
  recover_promote: setMode,
  vip_enable: vip,
  vip_disable: vip,
  verify,
  recover_verify: verify,
  start: app,
  stop: app,
  restart: app,
  holddown_clear: holddownClear,
};

export interface RunResult {
  status: "succeeded" | "failed";
  error: string | null;
}

const pending = (s: StepRecord) => s.status === "pending" || s.status === "running";

export async function runOperation(env: StepEnv, op: OperationRecord): Promise<RunResult> {
  const ctx = new StepContext(env, op);
  /** The first failure of the planned steps; a failure after it is the recovery's. */
  let failure: string | null = null;
  let recovered = "";
  for (let i = 0; i < op.steps.length; ) {
    const s = op.steps[i];
    if (!pending(s)) {
      i++;
      continue;
    }
    const handler = HANDLERS[s.action] as StepHandler | undefined;
    const n = handler ? await handler(ctx, i) : (await ctx.finish(s, "failed", { error: `unknown step action ${s.action}` }), FAILED);
    if (n !== FAILED) {
      i += n;
      continue;
    }
    const failed = op.steps.findLast((x) => x.status === "failed")!;
    const error = `step ${failed.seq} ${failed.action} (${failed.target}) failed: ${failed.error}`;
    for (const rest of op.steps) if (rest.status === "pending") await ctx.finish(rest, "skipped", { error: `not run: step ${failed.seq} failed` });
    if (failure !== null) {
      return { status: "failed", error: `${failure}; recovery after "${failure.slice(0, 80)}" failed too (${describeState(env.world())})` };
    }
    failure = error;
    if (op.kind !== "manual_switchover") return { status: "failed", error };
    const plan = planRecovery(env.world(), op);
    if (!plan.steps) return { status: "failed", error: `${error}; ${plan.why}` };
    const added: StepRecord[] = plan.steps.map((p) => ({ ...p, status: "pending", startedAt: null, finishedAt: null, ack: null, output: null, error: null }));
    op.steps.push(...added);
    env.added(added);
    recovered = `recovered: ${plan.keep.cfg.name} is primary with the VIP on ${plan.keep.cfg.hostName}`;
    i++;
  }
  return failure === null ? { status: "succeeded", error: null } : { status: "failed", error: `${failure}; ${recovered}` };
}
