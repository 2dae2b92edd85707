/**
 * The simulated VIP driver: no address moves. The state lives in memory and in the agent's state file
 * (stateDir/state.json, `vips.NAME.simulated`), written synchronously on every action, so that it survives
 * an agent restart the way a real interface would. Used by the demo, the tests and examples/agent.yaml.
 */
import type { VipObserved } from "../../protocol/agent";
import type { VipConfig } from "../config";
import type { StateStore } from "../store";
import { nowIso, syntheticRun } from "../util";
import type { ActionContext, VipDriver, VipResult } from "./driver";

export class SimulatedDriver implements VipDriver {
  readonly gated = false;
  readonly initialObserved: VipObserved;

  constructor(
    private readonly cfg: VipConfig,
    private readonly store: StateStore,
  ) {
    this.initialObserved = store.state.vips[cfg.name]?.simulated ? "enabled" : "disabled";
  }

  start() {}
  close() {}

  enable(ctx: ActionContext): Promise<VipResult> {
    return this.set(ctx, "enable");
  }

  disable(ctx: ActionContext): Promise<VipResult> {
    return this.set(ctx, "disable");
  }

  private async set(ctx: ActionContext, action: "enable" | "disable"): Promise<VipResult> {
    const c = this.cfg;
    const t0 = performance.now();
    const startedAt = nowIso();
    const on = action === "enable";
    this.store.state.vips[c.name] = { desired: on ? "enabled" : "disabled", simulated: on };
    this.store.save();
    const run = syntheticRun({ kind: "vip", driver: "simulated", action, target: c.name }, t0, startedAt, true, `${c.address}/${c.prefix} ${action}d (simulated)`, "", { exitCode: 0 });
    ctx.record(run);
    await ctx.settle(true, on ? "enabled" : "disabled");
    return { ok: true, runs: [run] };
  }
}
