/**
 * start, stop, restart (an operator's overrides): one `app.start` / `app.stop` / `app.restart` command to the
 * server's agent, in the operation's mode. The agent supervises the process: a start answers once it runs
 * (and, with a mode, once the mode hook and the VIP moved: those runs are the step's output); a stop
 * answers once it exited (SIGTERM, SIGKILL after its stopTimeoutMs). holddown_clear sends nothing: the
 * operation's success is what ends the hold-down (operations.ts).
 */
import type { CommandAck } from "../../../protocol/agent";
import { serverOf } from "../plan";
import { FAILED, ackError, ackSummary, errorText, type StepHandler } from "./context";

export const app: StepHandler = async (ctx, i) => {
  const s = ctx.op.steps[i];
  const server = serverOf(ctx.pair, s.targetServerId);
  if (!server) throw new Error(`step ${s.seq} ${s.action} names no server of the pair`);
  const mode = ctx.op.params.mode;
  ctx.start(s);
  let ack: CommandAck | null = null;
  let error: string | null = null;
  try {
    const body =
      s.action === "stop"
        ? ({ type: "app.stop", app: server.appName } as const)
        : ({ type: s.action === "start" ? "app.start" : "app.restart", app: server.appName, ...(mode ? { mode } : {}) } as const);
    ack = await ctx.env.command(server.hostId, body);
    error = ackError(ack);
  } catch (e) {
    error = errorText(e);
  }
  await ctx.finish(s, error ? "failed" : "succeeded", { ack: ack ? ackSummary(ack) : null, output: ack?.runs ?? [], error });
  return error ? FAILED : 1;
};

export const holddownClear: StepHandler = async (ctx, i) => {
  const s = ctx.op.steps[i];
  await ctx.finish(s, "succeeded", { ack: { cleared: true } });
  return 1;
};
