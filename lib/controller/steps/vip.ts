/**
 * vip_enable and vip_disable on their own. The VIP follows its server on each host, and the host's agent
 * moves it: with the mode change it is told (the mode step right before finishes the VIP step from that
 * command's runs), or by itself when its server fails (the agent takes the VIP down on its host at once).
 * A VIP step that is not the consequence of a mode command of this operation therefore sends nothing:
 * it waits, event-driven and bounded, until that agent reports the VIP in the wanted state, and records
 * what the agent ran. Skipped with the reason when that agent is disconnected: nothing can run there.
 */
import { serverStates, type PairWorld, type ServerCfg } from "../model";
import { serverOf } from "../plan";
import { FAILED, describeRun, type StepHandler } from "./context";

function vipOf(w: PairWorld, server: ServerCfg) {
  return serverStates(w).find((x) => x.cfg.id === server.id)!;
}

export const vip: StepHandler = async (ctx, i) => {
  const s = ctx.op.steps[i];
  const server = serverOf(ctx.pair, s.targetServerId);
  if (!server) throw new Error(`step ${s.seq} ${s.action} names no server of the pair`);
  const want = s.action === "vip_enable" ? "enabled" : "disabled";
  if (!vipOf(ctx.env.world(), server).connected) {
    await ctx.finish(s, "skipped", {
      error: `agent of ${server.hostName} is disconnected: the script cannot run there (the VIP may still be enabled on ${server.hostName} until it is back)`,
    });
    return 1;
  }
  const now = vipOf(ctx.env.world(), server);
  if (want === "disabled" && now.app?.state === "running" && now.vip?.observed === "enabled") {
    // Its server runs (a host back after a disconnect): its agent keeps the VIP with it. Deciding which
    // one keeps it is the both-primary resolution's job, which then announces it from the keeper.
    await ctx.finish(s, "skipped", { error: `${server.name} runs (${now.app.mode}) on ${server.hostName}, which is connected again: its VIP stays until it is demoted` });
    return 1;
  }
  ctx.start(s);
  const ok = await ctx.env.waitFor((w) => {
    const st = vipOf(w, server);
    return !st.connected || st.vip?.observed === want;
  }, ctx.env.verifyTimeoutMs);
  const st = vipOf(ctx.env.world(), server);
  const run = st.vip?.lastRun ?? null;
  const ran = run && run.action === (want === "enabled" ? "enable" : "disable") ? [run] : [];
  if (!st.connected) {
    await ctx.finish(s, "skipped", { output: ran, error: `agent of ${server.hostName} disconnected while its VIP was being ${want}` });
    return 1;
  }
  if (!ok) {
    const why = run && !run.ok ? describeRun(run) : `the agent reports the VIP ${st.vip?.observed ?? "unknown"}`;
    await ctx.finish(s, "failed", { output: ran, error: `VIP not ${want} on ${server.hostName} within ${ctx.env.verifyTimeoutMs} ms: ${why}` });
    return FAILED;
  }
  await ctx.finish(s, "succeeded", {
    output: ran,
    ack: { observed: want, by: `the agent of ${server.hostName}` },
    error: null,
  });
  return 1;
};
