/**
 * The records of one running operation, written in order through the controller's Writes: its
 * decision, each step (row + audit), steps appended by a recovery, the final status. Broadcast live.
 *
 * The runner sends its next agent command in the same tick as the acknowledgement that finished a step, so
 * every write starts no earlier than the next macrotask (setImmediate): no database work, not even
 * Prisma's synchronous query building, ever sits in front of that command.
 */
import { operationView } from "@/lib/queries/operations";
import { publishOperation } from "@/lib/realtime/publish";
import type { OperationRecord, StepRecord } from "./model";
import type { StateSummary } from "./view";
import type { Writes } from "./writes";

export class OperationRecorder {
  private chain: Promise<unknown> = Promise.resolve();
  /** The latest state of each step not yet written: a write superseded before it starts is skipped. */
  private latest = new Map<number, StepRecord>();
  private publishQueued = false;

  constructor(
    private readonly op: OperationRecord,
    private readonly writes: Writes,
    private readonly epoch: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  private enqueue(fn: () => Promise<unknown>): Promise<void> {
    const next = this.chain.then(() => new Promise<void>((r) => setImmediate(r))).then(fn);
    this.chain = next.catch(this.onError);
    return this.chain.then(() => undefined);
  }

  event(action: "operation.decided" | "operation.started" | "operation.reconciled", details: Record<string, unknown>): void {
    void this.enqueue(() => this.writes.operationEvent(this.op, action, { ...details, epoch: this.epoch, operationId: this.op.id }));
  }

  step(s: StepRecord): void {
    const snap = { ...s, output: s.output ? [...s.output] : null };
    this.latest.set(snap.seq, snap);
    this.publishSoon();
    void this.enqueue(async () => {
      // "running" then "succeeded" of the same step queued behind other writes: write the latter only.
      // (A "running" row is informational: reconciliation re-runs running steps, all idempotent.)
      if (this.latest.get(snap.seq) !== snap) return;
      this.latest.delete(snap.seq);
      await this.writes.step(this.op, snap, this.epoch);
    });
  }

  added(steps: StepRecord[]): void {
    void this.enqueue(() => this.writes.addedSteps(this.op, steps));
  }

  /** The live operation view, a tick later (coalesced): never in front of the next agent command. */
  private publishSoon() {
    if (this.publishQueued) return;
    this.publishQueued = true;
    setImmediate(() => {
      this.publishQueued = false;
      publishOperation(operationView(this.op));
    });
  }

  /** Final status and `operation.finished`; resolves after the commit (and everything queued before). */
  finish(status: "succeeded" | "failed", error: string | null, states: { before: StateSummary | null; after: StateSummary | null }, skipReason?: string): Promise<void> {
    const op = this.op;
    // The operation ended now, not when its queued records reach the database.
    const finishedAt = Date.now();
    return this.enqueue(async () => {
      await this.writes.finish(op, { status, error, finishedAt, epoch: this.epoch, ...states, skipReason });
      op.status = status;
      op.error = error;
      op.finishedAt = finishedAt;
      if (skipReason) for (const s of op.steps) if (s.status === "pending" || s.status === "running") Object.assign(s, { status: "skipped", error: skipReason });
      publishOperation(operationView(op));
    });
  }

  settled(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
