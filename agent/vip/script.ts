/**
 * The script driver (Genesys "VIP control scripts"): the operator's own enable, disable and (optional)
 * status scripts, named in the agent's configuration only. Each is run directly (no shell) with a timeout
 * (the whole process group is killed) and the documented environment (./driver.ts vipEnv):
 * SWITCHYARD_ACTION (also the first argument), SWITCHYARD_VIP, SWITCHYARD_PREFIX, SWITCHYARD_INTERFACE,
 * SWITCHYARD_VIP_NAME. enable/disable: exit 0 = done. status: exit 0 = enabled, 1 or 3 = disabled,
 * anything else or a timeout = unknown. The enable script sends its own gratuitous ARP.
 */
import type { DriverRun } from "../../protocol/agent";
import type { VipConfig } from "../config";
import { describeFailure, runVip, type ActionContext, type Observation, type VipDriver, type VipResult } from "./driver";

type Scripts = NonNullable<VipConfig["scripts"]>;

export class ScriptDriver implements VipDriver {
  readonly gated = false;
  readonly initialObserved = "unknown" as const;
  /** Only with a status script; without one the observed state is the last action's result. */
  readonly read?: () => Promise<Observation>;
  private readonly scripts: Scripts;

  constructor(private readonly cfg: VipConfig) {
    if (!cfg.scripts) throw new Error(`VIP ${cfg.name}: the script driver needs scripts.enable and scripts.disable`);
    const s = cfg.scripts;
    this.scripts = s;
    if (s.status) {
      const status = s.status;
      this.read = () => this.status(status);
    }
  }

  start() {}
  close() {}

  enable(ctx: ActionContext): Promise<VipResult> {
    return this.act(ctx, "enable", this.scripts.enable, "enabled");
  }

  disable(ctx: ActionContext): Promise<VipResult> {
    return this.act(ctx, "disable", this.scripts.disable, "disabled");
  }

  private async act(ctx: ActionContext, action: "enable" | "disable", script: string, result: "enabled" | "disabled"): Promise<VipResult> {
    ctx.saveSoon(); // desired state, written while the script runs
    const run = await runVip(this.cfg, action, script, [action], this.scripts.timeoutMs);
    const runs: DriverRun[] = [run];
    ctx.record(run);
    const read = await ctx.settle(run.ok, result);
    if (read) runs.push(read); // a failed action: the status script's answer goes with it
    return run.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure(`${action} script`, run) };
  }

  private async status(script: string): Promise<Observation> {
    const run = await runVip(this.cfg, "status", script, ["status"], this.scripts.timeoutMs);
    const observed = run.timedOut ? "unknown" : run.exitCode === 0 ? "enabled" : run.exitCode === 1 || run.exitCode === 3 ? "disabled" : "unknown";
    return { observed, run };
  }
}
