/**
 * demote, promote, recover_demote, recover_promote: `app.setMode` to the server's agent. The agent moves
 * the VIP with the mode on its own host (primary: enable + gratuitous ARP after the app confirmed;
 * backup: disable), so when the next planned step is that VIP step, it is finished here too, from the
 * command's driver runs with their own timing: one command, two recorded steps, in the source
 * document's order.
 */
import type { AgentSnapshot, CommandAck, DriverRun } from "../../../protocol/agent";
import { findVip, serverStates, type ServerCfg, type StepRecord } from "../model";
import { serverOf } from "../plan";
import { FAILED, ackError, ackSummary, describeRun, errorText, type StepContext, type StepHandler } from "./context";

const runEnd = (r: DriverRun) => Date.parse(r.startedAt) + r.durationMs;

/** Records the VIP step from the runs of the mode command that caused it. */
async function vipStepFromAck(ctx: StepContext, s: StepRecord, ack: CommandAck | null, modeFailed: boolean, server: ServerCfg, want: "enabled" | "disabled") {
  if (modeFailed) return ctx.finish(s, "skipped", { error: "not run: the mode change before it failed" });
  const runs = ack ? ack.runs.filter((r) => r.kind === "vip") : [];
  const failed = runs.find((r) => !r.ok);
  const t0 = runs.length ? Date.parse(runs[0].startedAt) : ctx.env.now();
  const t1 = runs.length ? Math.max(...runs.map(runEnd)) : ctx.env.now();
  const snapshot: AgentSnapshot | null = ack?.ok ? ack.snapshot : null;
  const app = snapshot?.apps.find((a) => a.name === server.appName) ?? null;
  const observed = findVip(snapshot, app, ctx.pair.vipAddress)?.observed ?? "unknown";
  if (failed || (ack && !ack.ok && !(want === "disabled" && ack.error.code === "NOT_RUNNING"))) {
    const error = failed ? describeRun(failed) : (ack && ackError(ack)) ?? "no acknowledgement";
    return ctx.finish(s, "failed", { startedAt: t0, finishedAt: t1, output: runs, error });
  }
  if (!runs.length && observed !== want) {
    return ctx.finish(s, "failed", { startedAt: t0, finishedAt: t1, output: runs, error: `the agent ran no VIP action and reports the VIP ${observed}` });
  }
  return ctx.finish(s, "succeeded", { startedAt: t0, finishedAt: t1, output: runs, error: runs.length ? null : `VIP already ${want} (no action needed)` });
}

export const setMode: StepHandler = async (ctx, i) => {
  const s = ctx.op.steps[i];
  const server = serverOf(ctx.pair, s.targetServerId);
  if (!server) throw new Error(`step ${s.seq} ${s.action} names no server of the pair`);
  const mode = s.action === "promote" || s.action === "recover_promote" ? "primary" : "backup";
  const recovering = s.action.startsWith("recover_");
  if (recovering && !serverStates(ctx.env.world()).find((x) => x.cfg.id === server.id)?.connected) {
    await ctx.finish(s, "skipped", { error: `agent of ${server.hostName} is disconnected` });
    return 1;
  }
  const vipAction = mode === "primary" ? "vip_enable" : "vip_disable";
  const n = ctx.op.steps[i + 1];
  const paired = n && n.action === vipAction && n.targetServerId === server.id && n.status !== "succeeded" ? n : null;

  ctx.start(s);
  let ack: CommandAck | null = null;
  let error: string | null = null;
  try {
    ack = await ctx.env.command(server.hostId, { type: "app.setMode", app: server.appName, mode });
    error = ackError(ack);
  } catch (e) {
    error = errorText(e);
  }
  const runs = ack?.runs ?? [];
  const vipRuns = runs.filter((r) => r.kind === "vip");
  const otherRuns = runs.filter((r) => r.kind !== "vip");
  // A failure of the VIP action alone leaves the mode change itself done (the VIP step fails instead).
  const vipOnlyFailure = !!ack && !ack.ok && ack.error.code === "FAILED" && vipRuns.some((r) => !r.ok) && otherRuns.every((r) => r.ok);
  // Demoting a server that does not run: nothing to tell it, but its agent still takes the VIP down.
  const notRunning = mode === "backup" && !!ack && !ack.ok && ack.error.code === "NOT_RUNNING";
  const modeFailed = !!error && !(paired && vipOnlyFailure) && !notRunning;
  await ctx.finish(s, notRunning ? "skipped" : modeFailed ? "failed" : "succeeded", {
    ack: ack ? ackSummary(ack) : null,
    output: paired ? otherRuns : runs,
    error: modeFailed || notRunning ? error : null,
  });
  if (!paired) return modeFailed ? FAILED : 1;
  await vipStepFromAck(ctx, paired, ack, modeFailed, server, mode === "primary" ? "enabled" : "disabled");
  return paired.status === "failed" || modeFailed ? FAILED : 2;
};
