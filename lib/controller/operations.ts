/**
 * Operations: the one way anything is done to a pair. Every operation, whatever asked for it, starts
 * through `start()`: the pair must be free (one operation per pair: in memory here, and in the database
 * by the Operation's unique activeKey), its steps are planned, ONE statement records it (a new row, or
 * the claim of a pending request written by another panel instance), and its steps run at once.
 *
 *   decide() → tick → start(automatic)                 (insert, on the hot-path connection)
 *   API of this process → requestSwitchover → start     (insert + `operation.requested`, one transaction)
 *   API of another instance → pending row + pg_notify → onPendingNotify → requestSwitchover → start (claim)
 *
 * On a new term, reconcile() resumes or fails whatever a previous leader left unfinished.
 */
import { randomUUID } from "node:crypto";
import { claimOperation, loadAutoFailovers, MAX_RECENT_FAILOVERS, type AutoFailoverTimes, loadLastFinished, loadPendingOperation, loadUnfinishedOperations, operationView } from "@/lib/queries/operations";
import type { Exec } from "@/lib/db/connection";
import type { OperationView, Preflight } from "@/lib/views";
import type { CommandAck } from "../../protocol/agent";
import { AUTOMATIC_FAILOVERS, type OperationParams, type ActiveOp, type FinishedOp, type OperationKindName, type OperationRecord, type PairWorld, type StepRecord, serverStates, waitAtMost } from "./model";
import { operationKindPhrase } from "@/lib/operation-kinds";
import { planSteps } from "./plan";
import { describeFailedChecks, requestOf, type OperatorRequest } from "./preflight";
import type { ControllerMetrics } from "./metrics";
import { OperationRecorder } from "./record";
import { runOperation, describeState, type CommandBody } from "./steps";
import { stateSummary } from "./view";
import type { Writes } from "./writes";

export const VERIFY_TIMEOUT_MS = 3000;
const DAY_MS = 24 * 3600_000;
/** A switchover request not started within this long after it was made is refused at takeover. */
export const STALE_REQUEST_MS = 60_000;

export interface StartIntent {
  pairId: string;
  kind: OperationKindName;
  fromServerId: string | null;
  toServerId: string | null;
  params?: OperationParams;
  /** The controller's readable decision (recorded on the operation). */
  decision: string;
  requestedBy: string;
  reason: string | null;
  /** A person's or a script's request: its audit row names the server it makes primary and what happens. */
  request?: { target: { id: string; name: string; hostName: string } | null; effect: string | null };
  /** The pending row of a request written by another panel instance: claimed instead of inserted. */
  pending?: OperationRecord;
}

export type RequestResult =
  | { kind: "accepted"; operation: OperationView }
  /** The live preflight failed (nothing written). */
  | { kind: "refused"; pairName: string; preflight: Preflight }
  /** Another operation holds the pair. */
  | { kind: "busy"; pairName: string; operationId: string | null; operationKind: string | null }
  | { kind: "not_found" };

export interface OperationsDeps {
  epoch: number;
  now: () => number;
  log: { info(m: string, f?: object): void; error(m: string, f?: object): void };
  /** Every record, to the database or (while it cannot be reached) the journal. */
  writes: Writes;
  /** The term's hot-path connection (the statement in front of the first command). */
  hot: Exec;
  world(pairId: string): PairWorld | null;
  preflight(pairId: string, req: OperatorRequest, confirmMaintenance: boolean): Preflight;
  command(hostId: string, body: CommandBody): Promise<CommandAck>;
  /** Something about the pair's operations changed (started, finished): tick it. */
  changed(pairId: string): void;
  /** Injected by tests only (see StepEnv.afterStep). */
  afterStep?: (step: StepRecord, settled: () => Promise<void>) => void | Promise<void>;
  metrics?: ControllerMetrics;
}

interface Running {
  op: OperationRecord;
  recorder: OperationRecorder;
  done: Promise<void>;
}

interface Waiter {
  pairId: string;
  pred: (w: PairWorld) => boolean;
  resolve: (ok: boolean) => void;
}

export class Operations {
  private running = new Map<string, Running>();
  /** Pairs whose operation is being recorded (between the decision or request and its row). */
  private starting = new Map<string, { id: string; kind: OperationKindName; requestedBy: string; createdAt: number }>();
  private lastFinished = new Map<string, FinishedOp>();
  private autoFailovers = new Map<string, AutoFailoverTimes>();
  private waiters = new Set<Waiter>();
  private stopped = false;

  constructor(private readonly d: OperationsDeps) {}

  async load() {
    [this.lastFinished, this.autoFailovers] = await Promise.all([loadLastFinished(), loadAutoFailovers()]);
  }

  /** The operation holding the pair in this term (running, or being recorded). */
  active(pairId: string): ActiveOp | null {
    const r = this.running.get(pairId);
    if (r) return { id: r.op.id, kind: r.op.kind, status: "running", createdAt: r.op.createdAt, requestedBy: r.op.requestedBy };
    const s = this.starting.get(pairId);
    return s ? { ...s, status: "pending" } : null;
  }

  lastFinishedOf(pairId: string): FinishedOp | null {
    return this.lastFinished.get(pairId) ?? null;
  }

  /** Where the pair's hold-down counts from: its last automatic failover, unless an operator cleared it since. */
  lastAutoFailoverOf(pairId: string): number | null {
    return this.autoFailovers.get(pairId)?.holdDownFrom ?? null;
  }

  /** The pair's automatic failovers: the last one and those of the last 24 h (newest first), as of `now`. */
  failoversOf(pairId: string, now: number): { last: number | null; recent: number[] } {
    const t = this.autoFailovers.get(pairId);
    return { last: t?.last ?? null, recent: (t?.recent ?? []).filter((x) => x > now - DAY_MS) };
  }

  isRunning(pairId: string): boolean {
    return this.running.has(pairId);
  }

  /** The one start path. Resolves once the first command is on the wire (or with why nothing started). */
  async start(intent: StartIntent): Promise<{ started: OperationRecord } | { busy: string | null }> {
    const busy = this.active(intent.pairId);
    if (busy) return { busy: busy.id };
    const w = this.d.world(intent.pairId)!;
    const params = intent.params ?? {};
    const steps = planSteps(intent.kind, w.pair, intent.fromServerId, intent.toServerId, params);
    const id = intent.pending?.id ?? randomUUID();
    this.starting.set(intent.pairId, { id, kind: intent.kind, requestedBy: intent.requestedBy, createdAt: this.d.now() });
    const t0 = performance.now();
    let op: OperationRecord | null = null;
    try {
      const row = { id, pairId: intent.pairId, kind: intent.kind, status: "running" as const, requestedBy: intent.requestedBy, reason: intent.reason, decision: intent.decision, fromServerId: intent.fromServerId, toServerId: intent.toServerId, params, epoch: this.d.epoch, steps };
      if (intent.pending) op = await claimOperation(intent.pending, { epoch: this.d.epoch, fromServerId: intent.fromServerId, toServerId: intent.toServerId, params, decision: intent.decision, steps }, this.d.hot);
      else if (intent.request) op = await this.d.writes.insertRequested(row, intent.request);
      else op = await this.d.writes.insertOperation(row, this.d.hot); // the hot path: sent synchronously up to here
    } finally {
      this.starting.delete(intent.pairId);
    }
    if (!op) return { busy: null };
    if (AUTOMATIC_FAILOVERS.includes(op.kind)) {
      const t = this.autoFailovers.get(op.pairId);
      this.autoFailovers.set(op.pairId, { last: op.createdAt, recent: [op.createdAt, ...(t?.recent ?? [])].slice(0, MAX_RECENT_FAILOVERS), holdDownFrom: op.createdAt });
    }
    this.d.log.info("controller: operation started", { pairId: op.pairId, kind: op.kind, operationId: op.id, decision: op.decision, epoch: this.d.epoch, recordMs: +(performance.now() - t0).toFixed(2) });
    if (this.stopped) return { started: op }; // leadership ended meanwhile: the next leader reconciles it
    this.run(op, intent.pending || intent.request ? "operation.started" : "operation.decided", intent.request || intent.pending ? {} : { action: op.kind, fromServerId: op.fromServerId, toServerId: op.toServerId });
    return { started: op };
  }

  /**
   * What a person asks — a manual switchover or an override — from this process's API, or as a pending row
   * written by another instance: the live preflight (the direction the requester saw, the maintenance
   * confirmation), then start() of exactly the operation the preflight describes.
   */
  async request(pairId: string, req: { actor: string; reason: string | null; request: OperatorRequest; confirmMaintenance?: boolean; pending?: OperationRecord }): Promise<RequestResult> {
    const w = this.d.world(pairId);
    if (!w) {
      if (req.pending) await this.fail(req.pending, "the pair is not configured (anymore)", null);
      return { kind: "not_found" };
    }
    const busy = this.active(pairId);
    if (busy) return { kind: "busy", pairName: w.pair.name, operationId: busy.id, operationKind: busy.kind };
    const preflight = this.d.preflight(pairId, req.request, !!req.confirmMaintenance);
    const intent = preflight.intent;
    if (!preflight.ok || !intent) {
      if (req.pending) await this.fail(req.pending, `preflight failed when starting: ${describeFailedChecks(preflight)} (state found: ${describeState(w)})`, w);
      return { kind: "refused", pairName: w.pair.name, preflight };
    }
    const what = operationKindPhrase(intent.kind);
    const r = await this.start({
      pairId,
      kind: intent.kind,
      fromServerId: intent.fromServerId,
      toServerId: intent.toServerId,
      params: { ...intent.params, ...(req.confirmMaintenance && w.pair.maintenance ? { confirmMaintenance: true } : {}) },
      decision: `${what} requested by ${req.actor}${req.reason ? ` (${req.reason})` : ""}: ${preflight.effect ?? ""}`.trim(),
      requestedBy: req.actor,
      reason: req.reason,
      request: req.pending ? undefined : { target: preflight.target, effect: preflight.effect },
      pending: req.pending,
    });
    if ("busy" in r) return { kind: "busy", pairName: w.pair.name, operationId: r.busy, operationKind: this.active(pairId)?.kind ?? null };
    return { kind: "accepted", operation: operationView(r.started) };
  }

  /** The Operation trigger announced a row: a pending request from another instance is claimed. */
  async onPendingNotify(id: string) {
    if ([...this.running.values()].some((r) => r.op.id === id) || [...this.starting.values()].some((s) => s.id === id)) return; // ours
    const op = await loadPendingOperation(id);
    if (!op || this.stopped) return;
    await this.requestPending(op);
  }

  /** A pending row: the request it stands for, started (or failed with why) by this leader. */
  private async requestPending(op: OperationRecord) {
    const request = requestOf(op);
    if (!request) return this.fail(op, `a pending ${op.kind} cannot be started by request`, this.d.world(op.pairId));
    await this.request(op.pairId, { actor: op.requestedBy, reason: op.reason, request, confirmMaintenance: !!op.params.confirmMaintenance, pending: op });
  }

  private run(op: OperationRecord, event: "operation.decided" | "operation.started" | "operation.reconciled", details: Record<string, unknown>) {
    const pairId = op.pairId;
    const recorder = new OperationRecorder(op, this.d.writes, this.d.epoch, (err) => this.d.log.error("controller: recording an operation failed", { err, operationId: op.id }));
    const before = stateSummary(this.d.world(pairId)!);
    const entry: Running = { op, recorder, done: Promise.resolve() };
    this.running.set(pairId, entry);
    const afterStep = this.d.afterStep;
    entry.done = (async () => {
      let result: { status: "succeeded" | "failed"; error: string | null };
      try {
        result = await runOperation(
          {
            now: this.d.now,
            world: () => this.d.world(pairId)!,
            command: (hostId, body) => (this.stopped ? Promise.reject(new Error("controller stopped (leadership lost)")) : this.d.command(hostId, body)),
            waitFor: (pred, timeoutMs) => this.waitFor(pairId, pred, timeoutMs),
            verifyTimeoutMs: VERIFY_TIMEOUT_MS,
            record: (s) => recorder.step(s),
            added: (steps) => recorder.added(steps),
            afterStep: afterStep && ((s) => afterStep(s, () => recorder.settled())),
          },
          op,
        );
      } catch (err) {
        result = { status: "failed", error: `internal error: ${(err as Error).message}` };
        this.d.log.error("controller: operation crashed", { err, operationId: op.id });
      }
      if (this.stopped && result.status === "failed") {
        this.running.delete(pairId); // leadership lost mid-operation: the next leader reconciles it
        return;
      }
      await recorder.finish(result.status, result.error, { before, after: stateSummary(this.d.world(pairId)!) });
      this.d.log.info("controller: operation finished", { operationId: op.id, kind: op.kind, status: result.status, error: result.error });
      this.running.delete(pairId);
      this.lastFinished.set(pairId, { id: op.id, kind: op.kind, status: result.status, error: result.error, finishedAt: this.d.now() });
      this.d.metrics?.operationFinished(op, result.status, this.d.now());
      const held = this.autoFailovers.get(pairId);
      if (op.kind === "clear_holddown" && result.status === "succeeded" && held) held.holdDownFrom = null;
      this.d.changed(pairId);
    })();
    // runOperation ran synchronously up to its first agent command, which is on the wire now: the audit
    // row of the decision and the broadcast follow it.
    recorder.event(event, details);
    this.d.changed(pairId);
  }

  /** Marks an operation failed without running it (stale at takeover, refused when claimed). */
  private async fail(op: OperationRecord, error: string, w: PairWorld | null) {
    const state = w ? stateSummary(w) : null;
    const recorder = new OperationRecorder(op, this.d.writes, this.d.epoch, (err) => this.d.log.error("controller: recording an operation failed", { err, operationId: op.id }));
    await recorder.finish("failed", error, { before: state, after: state }, "not run");
  }

  /** Resolves true as soon as `pred` holds for the pair (checked on every change), false after timeoutMs. */
  private waitFor(pairId: string, pred: (w: PairWorld) => boolean, timeoutMs: number): Promise<boolean> {
    const w = this.d.world(pairId);
    if (w && pred(w)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = { pairId, pred, resolve: (ok) => (clearTimeout(t), resolve(ok)) };
      const t = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** The pair's world changed: wake the waits it satisfies. */
  wake(pairId: string) {
    for (const wt of [...this.waiters]) {
      if (wt.pairId !== pairId) continue;
      const w = this.d.world(pairId);
      if (w && wt.pred(w)) {
        this.waiters.delete(wt);
        wt.resolve(true);
      }
    }
  }

  /**
   * On takeover: every pending or running operation is resumed from its persisted steps (all idempotent)
   * against the observed state, or failed with the state found. Nothing stays running forever.
   */
  /** Requests made while the term could not hear them (the database was away): started now. */
  async takePending() {
    for (const op of await loadUnfinishedOperations()) if (op.status === "pending") await this.onPendingNotify(op.id);
  }

  async reconcile() {
    for (const op of await loadUnfinishedOperations()) {
      const w = this.d.world(op.pairId);
      const found = w ? describeState(w) : "pair not configured";
      const late = this.d.now() - op.createdAt > STALE_REQUEST_MS;
      const why = `reconciled by epoch ${this.d.epoch}:`;
      if (!w) await this.fail(op, `${why} ${found}`, null);
      else if (op.status === "pending" && late) await this.fail(op, `${why} request not started within ${STALE_REQUEST_MS / 1000} s (no controller was active); state found: ${found}`, w);
      else if (op.status === "pending") await this.requestPending(op);
      else if (requestOf(op) && op.steps.every((s) => s.status === "pending") && late)
        // Accepted by a leader that stopped before its first command: as late as a stale pending request.
        await this.fail(op, `${why} request not started within ${STALE_REQUEST_MS / 1000} s (its controller stopped before the first step); state found: ${found}`, w);
      else if (op.steps.length === 0) await this.fail(op, `${why} the operation had no recorded steps; state found: ${found}`, w);
      else {
        const done = op.steps.filter((s) => s.status === "succeeded" || s.status === "skipped").map((s) => `${s.seq} ${s.action}`);
        this.d.log.info("controller: resuming an operation left unfinished", { operationId: op.id, kind: op.kind, previousEpoch: op.epoch, epoch: this.d.epoch, done, found });
        for (const s of op.steps) if (s.status === "running") s.status = "pending";
        this.run(op, "operation.reconciled", { previousEpoch: op.epoch, stepsDone: done, stateFound: found });
      }
    }
  }

  /** Ends the term: waits (bounded) for running operations to stop at their next command, and their records. */
  async stop() {
    this.stopped = true;
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
    await waitAtMost(Promise.all([...this.running.values()].map((r) => r.done)), 3000);
  }
}

