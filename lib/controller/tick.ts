/**
 * One cycle for one pair, in the shape of Patroni's ha.py `_run_cycle`: take the pair's world as it is
 * now → decide (pure, with a readable reason) → start at most one operation → publish the view with the
 * reason, keep the alarms, say why nothing was done. Run on every observation that can change the pair
 * (event-driven: no polling), and at the time a decision asked to be woken (grace, hold-down).
 */
import type { Logger } from "@/lib/log";
import type { AlarmBook } from "./alarms";
import type { ControllerMetrics } from "./metrics";
import { decide } from "./decide";
import { CONTROLLER_ACTOR, type PairWorld } from "./model";
import type { Operations } from "./operations";
import type { Writes } from "./writes";

export interface CycleDeps {
  epoch: number;
  now: () => number;
  log: Pick<Logger, "info" | "error">;
  writes: Writes;
  ops: Operations;
  alarms: AlarmBook;
  world(pairId: string): PairWorld | null;
  /** The term has reconciled and may act (before that, ticks only observe and publish). */
  ready(): boolean;
  /** Publishes the pair's view with this status reason. */
  publish(pairId: string, reason: string): void;
  metrics?: ControllerMetrics;
}

export class Cycle {
  private reasons = new Map<string, string>();
  /** The last non-action reason audited per pair (a "decision" row once per change, not per tick). */
  private noted = new Map<string, string>();
  private wakes = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly d: CycleDeps) {}

  /** The reason of the pair's last decision (its view's status line). */
  reason(pairId: string): string {
    return this.reasons.get(pairId) ?? "";
  }

  tick(pairId: string): void {
    if (this.stopped) return;
    const t0 = performance.now();
    const w = this.d.world(pairId);
    if (!w) return;
    const now = this.d.now();
    const d = decide(w, now);
    const before = this.reasons.get(pairId);
    this.reasons.set(pairId, d.reason);
    const act = d.action && this.d.ready() && !w.activeOp;
    // Hot path: start() is synchronous up to its INSERT, so the operation's row is on the wire before the
    // broadcast and the alarm writes below (which wait for it: they would compete for the database).
    const started = act
      ? this.d.ops.start({ pairId, kind: d.action!.kind, fromServerId: d.action!.fromServerId, toServerId: d.action!.toServerId, decision: d.action!.reason, requestedBy: CONTROLLER_ACTOR, reason: null })
      : undefined;
    // start() resolves once the operation's first command is on the wire: deciding and recording, measured.
    started?.then((r) => "started" in r && this.d.metrics?.decided(r.started.kind, (performance.now() - t0) / 1000)).catch((err) => this.d.log.error("controller: could not start an operation", { err, pairId }));
    this.d.publish(pairId, d.reason);
    this.d.alarms.syncPair(pairId, d.alarms, started);
    if (before !== d.reason && (d.fault || d.action)) this.d.log.info("controller: decision", { pair: w.pair.name, reason: d.reason, action: act ? d.action!.kind : null });
    if (act) {
      this.noted.delete(pairId);
      return;
    }
    this.wakeAt(pairId, d.wakeAt, now);
    if (!this.d.ready() || d.action) return;
    if (d.fault && !w.activeOp && this.noted.get(pairId) !== d.reason) {
      // An explained non-action ("maintenance: no action (...)", hold-down, no backup): audited once per change.
      this.noted.set(pairId, d.reason);
      this.d.writes.noAction(pairId, d.reason, this.d.epoch).catch((err) => this.d.log.error("controller: audit of a decision failed", { err }));
    } else if (!d.fault) this.noted.delete(pairId);
  }

  private wakeAt(pairId: string, at: number | null, now: number) {
    clearTimeout(this.wakes.get(pairId));
    this.wakes.delete(pairId);
    // setTimeout holds at most 2^31-1 ms (24.8 days): a later wake ticks early and asks again.
    if (at !== null) this.wakes.set(pairId, setTimeout(() => this.tick(pairId), Math.min(Math.max(0, at - now) + 5, 2 ** 31 - 1)));
  }

  forget(pairId: string) {
    clearTimeout(this.wakes.get(pairId));
    for (const m of [this.wakes, this.reasons, this.noted]) m.delete(pairId);
  }

  stop() {
    this.stopped = true;
    for (const t of this.wakes.values()) clearTimeout(t);
    this.wakes.clear();
  }
}
