/**
 * What a step handler works with: the live world of its pair, the agent command channel, an
 * event-driven wait on the observed state, and the recording of its step (in order, off the hot path).
 */
import type { Command, CommandAck, DriverRun } from "../../../protocol/agent";
import type { OperationRecord, PairCfg, PairWorld, StepRecord, StepStatus } from "../model";

/** A command without id and epoch: the agent link adds both. */
export type CommandBody = Command extends infer C ? (C extends { type: infer T } ? Omit<Extract<Command, { type: T }>, "id" | "epoch"> : never) : never;

export interface StepEnv {
  now(): number;
  /** The pair's world right now (a fresh snapshot on every call). */
  world(): PairWorld;
  /** Sends a command to a host's agent; rejects when the agent is not connected or does not answer in time. */
  command(hostId: string, body: CommandBody): Promise<CommandAck>;
  /** Resolves true as soon as the predicate holds on the observed state, false after timeoutMs. */
  waitFor(pred: (w: PairWorld) => boolean, timeoutMs: number): Promise<boolean>;
  verifyTimeoutMs: number;
  /** A step started or finished: recorded (row + audit) in order, never in front of the next command. */
  record(step: StepRecord): void;
  /** Steps appended to the plan (a failed switchover's recovery). */
  added(steps: StepRecord[]): void;
  /** Injected by tests only: called after each finished step (the crash test kills the process here). */
  afterStep?: (step: StepRecord) => void | Promise<void>;
}

export class StepContext {
  readonly pair: PairCfg;
  constructor(
    readonly env: StepEnv,
    readonly op: OperationRecord,
  ) {
    this.pair = env.world().pair;
  }

  start(s: StepRecord) {
    s.status = "running";
    s.startedAt = this.env.now();
    this.env.record(s);
  }

  async finish(s: StepRecord, status: StepStatus, fields: Partial<StepRecord> = {}) {
    Object.assign(s, fields);
    s.status = status;
    s.startedAt ??= this.env.now();
    s.finishedAt ??= this.env.now();
    this.env.record(s);
    if (this.env.afterStep) await this.env.afterStep(s);
  }
}

/**
 * A step handler runs `op.steps[i]` (and may finish the step after it that its command caused: the VIP
 * step of a mode change). Returns how many steps it finished, or FAILED.
 */
export type StepHandler = (ctx: StepContext, i: number) => Promise<number>;
export const FAILED = -1;

export function ackSummary(a: CommandAck): Record<string, unknown> {
  return a.ok
    ? { ok: true, id: a.id, agentSeq: a.snapshot.seq, agentEpoch: a.snapshot.epoch, runs: a.runs.length }
    : { ok: false, id: a.id, error: a.error, runs: a.runs.length, ...(a.highestEpoch !== undefined ? { highestEpoch: a.highestEpoch } : {}) };
}

export function ackError(a: CommandAck): string | null {
  return a.ok ? null : `${a.error.code}: ${a.error.message}`;
}

export function describeRun(r: DriverRun): string {
  const how = r.timedOut ? "timed out" : r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`;
  return `${r.kind} ${r.action} (${r.driver}) failed: ${how}${r.stderr ? `: ${r.stderr.trim().slice(0, 200)}` : ""}`;
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
