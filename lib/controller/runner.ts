/**
 * The operation runner: executes the planned steps of one operation in order, one command at a time,
 * awaiting only the agent's acknowledgement between commands. Step results are handed to the recorder,
 * which persists them (with their audit rows) off the hot path, in order.
 *
 * Every step is idempotent (setMode primary on a primary, vip.disable on a disabled VIP are no-ops in the
 * agent), so a controller that takes over can resume an operation at its first unfinished step.
 */
import type { CommandAck, Command, DriverRun, AgentSnapshot } from "../../protocol/agent";
import { type PairWorld, type ServerCfg, type OperationKindName, serverStates, type ServerState, isObservedPrimary, findVip } from "./model";
import { type PlannedStep, type StepAction, on, serverOf, vipOn } from "./plan";

export type StepStatus = "pending" | "running" | "succeeded" | "failed" | "skipped";

export interface StepRecord extends PlannedStep {
  status: StepStatus;
  startedAt: number | null;
  finishedAt: number | null;
  ack: Record<string, unknown> | null;
  output: DriverRun[] | null;
  error: string | null;
}

export interface RunnableOp {
  id: string;
  pairId: string;
  kind: OperationKindName;
  fromServerId: string | null;
  toServerId: string | null;
  steps: StepRecord[];
}

/** A command without id and epoch: the link adds both. */
export type CommandBody = Command extends infer C ? (C extends { type: infer T } ? Omit<Extract<Command, { type: T }>, "id" | "epoch"> : never) : never;

export interface Recorder {
  /** A step changed (started or finished). Persisted in order, with its audit row. */
  step(op: RunnableOp, step: StepRecord): void;
  /** Steps added to the plan (recovery). */
  added(op: RunnableOp, steps: StepRecord[]): void;
}

export interface RunnerEnv {
  now(): number;
  world(): PairWorld;
  /** Sends a command to a host's agent; rejects when the agent is not connected or does not answer in time. */
  command(hostId: string, body: CommandBody): Promise<CommandAck>;
  /** Resolves true as soon as the predicate holds on the observed state, false after timeoutMs. */
  waitFor(pred: (w: PairWorld) => boolean, timeoutMs: number): Promise<boolean>;
  recorder: Recorder;
  verifyTimeoutMs: number;
  /** Test hook: called after each step is finished (the crash test kills the process here). */
  afterStep?: (op: RunnableOp, step: StepRecord) => void | Promise<void>;
}

export interface RunResult {
  status: "succeeded" | "failed";
  error: string | null;
}

const iso = (t: number) => new Date(t).toISOString();

function ackSummary(a: CommandAck): Record<string, unknown> {
  return a.ok
    ? { ok: true, id: a.id, agentSeq: a.snapshot.seq, agentEpoch: a.snapshot.epoch, runs: a.runs.length }
    : { ok: false, id: a.id, error: a.error, runs: a.runs.length, ...(a.highestEpoch !== undefined ? { highestEpoch: a.highestEpoch } : {}) };
}

function runEnd(r: DriverRun): number {
  return Date.parse(r.startedAt) + r.durationMs;
}

function describeRun(r: DriverRun): string {
  const how = r.timedOut ? "timed out" : r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`;
  return `${r.kind} ${r.action} (${r.driver}) failed: ${how}${r.stderr ? `: ${r.stderr.trim().slice(0, 200)}` : ""}`;
}

export function describeState(w: PairWorld): string {
  return serverStates(w)
    .map((s) =>
      s.connected
        ? `${s.cfg.name}: ${s.app?.state ?? "absent"}/${s.app?.mode ?? "unknown"}, VIP ${s.vip?.observed ?? "unknown"} on ${s.cfg.hostName}`
        : `${s.cfg.name}: agent of ${s.cfg.hostName} disconnected`,
    )
    .join("; ");
}

/** The end state each kind of operation must reach, for the verify step. */
export function verifyPredicate(op: Pick<RunnableOp, "kind" | "fromServerId" | "toServerId">, step: Pick<StepRecord, "action" | "targetServerId">) {
  return (w: PairWorld): boolean => {
    const ss = serverStates(w);
    const by = (id: string | null) => ss.find((s) => s.cfg.id === id) ?? null;
    const from = by(op.fromServerId);
    const to = by(op.toServerId);
    const vipOff = (s: ServerState | null) => !s || !s.connected || s.vip?.observed !== "enabled";
    const primaryWithVip = (s: ServerState | null) => !!s && isObservedPrimary(s) && s.vip?.observed === "enabled";
    const backupNoVip = (s: ServerState | null) => !!s && s.connected && s.app?.state === "running" && s.app.mode === "backup" && s.vip?.observed !== "enabled";
    if (step.action === "recover_verify") {
      const p = ss.filter((s) => primaryWithVip(s));
      return p.length === 1 && ss.filter((s) => s.connected && s.vip?.observed === "enabled").length === 1;
    }
    switch (op.kind) {
      case "manual_switchover":
        return backupNoVip(from) && primaryWithVip(to);
      case "split_brain_resolution":
        return backupNoVip(from) && vipOff(from);
      case "failover":
        return primaryWithVip(to) && vipOff(from);
      case "disconnect_failover":
        return primaryWithVip(to);
      case "restart":
        return backupNoVip(to);
    }
  };
}

export async function runOperation(env: RunnerEnv, op: RunnableOp): Promise<RunResult> {
  const world = env.world();
  const pair = world.pair;
  const steps = op.steps;

  const start = (s: StepRecord) => {
    s.status = "running";
    s.startedAt = env.now();
    env.recorder.step(op, s);
  };
  const finish = async (s: StepRecord, status: StepStatus, fields: Partial<StepRecord> = {}) => {
    Object.assign(s, fields);
    s.status = status;
    s.startedAt ??= env.now();
    s.finishedAt ??= env.now();
    env.recorder.step(op, s);
    if (env.afterStep) await env.afterStep(op, s);
  };
  const next = (i: number): StepRecord | undefined => steps[i + 1];

  /** Records a VIP step from the runs of the mode command that caused it (its own timing). */
  const vipStepFromAck = async (s: StepRecord, ack: CommandAck | null, modeStepFailed: boolean, server: ServerCfg, want: "enabled" | "disabled") => {
    if (modeStepFailed) return finish(s, "skipped", { error: "not run: the mode change before it failed" });
    const runs = ack ? ack.runs.filter((r) => r.kind === "vip") : [];
    const failed = runs.find((r) => !r.ok);
    const t0 = runs.length ? Date.parse(runs[0].startedAt) : env.now();
    const t1 = runs.length ? Math.max(...runs.map(runEnd)) : env.now();
    const snapshot: AgentSnapshot | null = ack?.ok ? ack.snapshot : null;
    const app = snapshot?.apps.find((a) => a.name === server.appName) ?? null;
    const observed = findVip(snapshot, app, pair.vipAddress)?.observed ?? "unknown";
    if (failed || (ack && !ack.ok)) {
      const err = failed ? describeRun(failed) : ack && !ack.ok ? `${ack.error.code}: ${ack.error.message}` : "no acknowledgement";
      return finish(s, "failed", { startedAt: t0, finishedAt: t1, output: runs, error: err });
    }
    if (!runs.length && observed !== want) {
      return finish(s, "failed", { startedAt: t0, finishedAt: t1, output: runs, error: `the agent ran no VIP action and reports the VIP ${observed}` });
    }
    return finish(s, "succeeded", { startedAt: t0, finishedAt: t1, output: runs, error: runs.length ? null : `VIP already ${want} (no action needed)` });
  };

  /** setMode on a server: the mode step and, when the next step is its VIP step, that one too. Returns ok. */
  const modeChange = async (i: number, server: ServerCfg, mode: "primary" | "backup"): Promise<number> => {
    const s = steps[i];
    const vipAction = mode === "primary" ? "vip_enable" : "vip_disable";
    const n = next(i);
    const paired = n && n.action === vipAction && n.targetServerId === server.id && n.status !== "succeeded" ? n : null;
    start(s);
    let ack: CommandAck | null = null;
    let error: string | null = null;
    try {
      ack = await env.command(server.hostId, { type: "app.setMode", app: server.appName, mode });
      if (!ack.ok) error = `${ack.error.code}: ${ack.error.message}`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const hookRuns = ack ? ack.runs.filter((r) => r.kind !== "vip") : [];
    const vipRuns = ack ? ack.runs.filter((r) => r.kind === "vip") : [];
    // A failure in the VIP script alone leaves the mode change itself done.
    const modeFailed = !!error && !(ack && !ack.ok && ack.error.code === "FAILED" && vipRuns.some((r) => !r.ok) && hookRuns.every((r) => r.ok));
    await finish(s, modeFailed ? "failed" : "succeeded", {
      ack: ack ? ackSummary(ack) : null,
      output: hookRuns,
      error: modeFailed ? error : null,
    });
    if (paired) {
      await vipStepFromAck(paired, ack, modeFailed, server, mode === "primary" ? "enabled" : "disabled");
      return paired.status === "failed" || modeFailed ? -1 : 2;
    }
    return modeFailed ? -1 : 1;
  };

  for (let i = 0; i < steps.length; ) {
    const s = steps[i];
    if (s.status !== "pending" && s.status !== "running") {
      i++;
      continue;
    }
    const server = serverOf(pair, s.targetServerId);
    let advance = 1;
    switch (s.action) {
      case "demote":
      case "promote": {
        if (!server) throw new Error(`step ${s.seq} has no server`);
        advance = await modeChange(i, server, s.action === "promote" ? "primary" : "backup");
        break;
      }
      case "vip_enable":
      case "vip_disable": {
        if (!server) throw new Error(`step ${s.seq} has no server`);
        const st = serverStates(env.world()).find((x) => x.cfg.id === server.id)!;
        if (!st.connected) {
          await finish(s, "skipped", {
            error: `agent of ${server.hostName} is disconnected: the script cannot run there (the VIP may still be enabled on ${server.hostName} until it is back)`,
          });
          break;
        }
        const vipName = st.vip?.name;
        if (!vipName) {
          await finish(s, "failed", { error: `no VIP ${pair.vipAddress} is configured on the agent of ${server.hostName}` });
          advance = -1;
          break;
        }
        start(s);
        let ack: CommandAck | null = null;
        try {
          ack = await env.command(server.hostId, { type: s.action === "vip_enable" ? "vip.enable" : "vip.disable", vip: vipName });
        } catch (e) {
          await finish(s, "failed", { error: e instanceof Error ? e.message : String(e) });
          advance = -1;
          break;
        }
        const runs = ack.runs;
        await finish(s, ack.ok ? "succeeded" : "failed", {
          ack: ackSummary(ack),
          output: runs,
          error: ack.ok ? (runs.length ? null : "VIP already in the wanted state (no action needed)") : `${ack.error.code}: ${ack.error.message}`,
        });
        if (!ack.ok) advance = -1;
        break;
      }
      case "verify":
      case "recover_verify": {
        start(s);
        const ok = await env.waitFor(verifyPredicate(op, s), env.verifyTimeoutMs);
        const found = describeState(env.world());
        await finish(s, ok ? "succeeded" : "failed", {
          output: null,
          ack: { observed: found },
          error: ok ? null : `end state not observed within ${env.verifyTimeoutMs} ms; state found: ${found}`,
        });
        if (!ok) advance = -1;
        break;
      }
      case "restart":
      case "recover_demote":
      case "recover_promote": {
        if (!server) throw new Error(`step ${s.seq} has no server`);
        const st = serverStates(env.world()).find((x) => x.cfg.id === server.id)!;
        if (!st.connected) {
          await finish(s, "skipped", { error: `agent of ${server.hostName} is disconnected` });
          break;
        }
        if (s.action === "restart" && op.kind !== "restart" && st.app?.state === "running") {
          await finish(s, "skipped", { error: `${server.name} is running: no restart needed` });
          break;
        }
        start(s);
        let ack: CommandAck | null = null;
        let error: string | null = null;
        try {
          const body: CommandBody =
            s.action === "restart"
              ? { type: "app.restart", app: server.appName, mode: "backup" }
              : { type: "app.setMode", app: server.appName, mode: s.action === "recover_promote" ? "primary" : "backup" };
          ack = await env.command(server.hostId, body);
          if (!ack.ok) error = `${ack.error.code}: ${ack.error.message}`;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        await finish(s, error ? "failed" : "succeeded", { ack: ack ? ackSummary(ack) : null, output: ack?.runs ?? null, error });
        // A failed restart after a successful failover does not undo the failover.
        if (error && s.action !== "restart") advance = -1;
        if (error && s.action === "restart" && op.kind === "restart") advance = -1;
        break;
      }
    }
    if (advance < 0) {
      const failedStep = [...steps].reverse().find((x) => x.status === "failed")!;
      const error = `step ${failedStep.seq} ${failedStep.action} (${failedStep.target}) failed: ${failedStep.error}`;
      for (const rest of steps) {
        if (rest.status === "pending") await finish(rest, "skipped", { error: `not run: step ${failedStep.seq} failed` });
      }
      if (op.kind === "manual_switchover" && !failedStep.action.startsWith("recover_")) {
        const rec = await recover(env, op, error);
        return { status: "failed", error: `${error}; ${rec}` };
      }
      return { status: "failed", error };
    }
    i += advance;
  }
  return { status: "succeeded", error: null };
}

/**
 * Failure policy of a manual switchover: bring the pair back to exactly one primary holding the VIP.
 * The old primary is re-promoted when it is still running on a connected host; otherwise the other
 * server is promoted. The server not chosen is demoted first (its agent disables its VIP), so the VIP
 * is never enabled on both hosts. Recorded as extra steps of the same operation.
 */
async function recover(env: RunnerEnv, op: RunnableOp, cause: string): Promise<string> {
  const w = env.world();
  const pair = w.pair;
  const ss = serverStates(w);
  const from = ss.find((s) => s.cfg.id === op.fromServerId) ?? null;
  const to = ss.find((s) => s.cfg.id === op.toServerId) ?? null;
  const usable = (s: ServerState | null) => !!s && s.connected && s.app?.state === "running";
  const keep = usable(from) ? from : usable(to) ? to : null;
  if (!keep) return `recovery impossible: no server is running on a connected host (${describeState(w)})`;
  const other = keep === from ? to : from;
  const seq0 = Math.max(...op.steps.map((s) => s.seq));
  const added: StepRecord[] = [];
  const add = (action: StepAction, s: ServerCfg | null, target: string) =>
    added.push({
      seq: seq0 + added.length + 1,
      action,
      targetServerId: s?.id ?? null,
      targetHostId: s?.hostId ?? null,
      target,
      status: "pending",
      startedAt: null,
      finishedAt: null,
      ack: null,
      output: null,
      error: null,
    });
  if (other && usable(other)) add("recover_demote", other.cfg, on(other.cfg));
  add("recover_promote", keep.cfg, `${on(keep.cfg)} (${vipOn(pair, keep.cfg)})`);
  add("recover_verify", null, `${pair.name}: one primary holding the VIP`);
  op.steps.push(...added);
  env.recorder.added(op, added);
  const sub: RunnableOp = { ...op, steps: op.steps };
  // Run only the added steps (the earlier ones are finished or skipped).
  const r = await runOperationSteps(env, sub);
  return r
    ? `recovered: ${keep.cfg.name} is primary with the VIP on ${keep.cfg.hostName}`
    : `recovery after "${cause.slice(0, 80)}" failed too (${describeState(env.world())})`;
}

async function runOperationSteps(env: RunnerEnv, op: RunnableOp): Promise<boolean> {
  // Run as a non-manual kind so that a failure here does not start another recovery.
  const r = await runOperation(env, { ...op, kind: "split_brain_resolution", steps: op.steps }).catch(() => ({ status: "failed" as const }));
  return r.status === "succeeded";
}

export { iso };
