/**
 * The in-process handle of the active controller, for the API routes of the same process.
 *
 * Next loads the route handlers as a module graph of its own (a separate instance of lib/controller), so
 * the handle lives on globalThis under a registered symbol, and everything that crosses it is plain data
 * (no classes, no errors to `instanceof`): the route side turns results into its own HTTP errors.
 *
 * The handle is set only while this process holds the leadership (and its term is ready); it is cleared
 * the moment the term ends. Without it (a standby instance, or SWITCHYARD_CONTROLLER=off) the API falls
 * back to the database path: Operation pending + pg_notify, claimed by the leader with an idempotent
 * UPDATE ... WHERE status = 'pending'.
 */
import type { OperationView, PairView, Preflight } from "../views";

export interface LocalPreflight {
  pairName: string;
  preflight: Preflight;
}

export type LocalSwitchoverResult =
  | { kind: "accepted"; operation: OperationView }
  /** Preflight failed on the live state (nothing written). */
  | { kind: "refused"; pairName: string; preflight: Preflight }
  /** Another operation holds the pair (in memory or the database's unique activeKey). */
  | { kind: "busy"; pairName: string; operationId: string | null }
  | { kind: "not_found" };

export interface LocalController {
  readonly controllerId: string;
  readonly epoch: number;
  /** Preflight from the live observed state; null when the pair is unknown to the controller. */
  preflight(pairId: string): LocalPreflight | null;
  /**
   * Preflight on the live state, then one transaction: the Operation (already claimed: running, this
   * epoch, its planned steps) and its `operation.requested` audit row; after the commit the operation is
   * started at once, before this promise resolves.
   */
  requestSwitchover(pairId: string, input: { reason: string | null; actor: string; toServerId?: string }): Promise<LocalSwitchoverResult>;
  /** The last published view of every configured pair (the socket.io snapshot at connect; no query). */
  pairViews?(): PairView[];
}

const KEY = Symbol.for("switchyard.controller.local");
type Global = typeof globalThis & { [KEY]?: LocalController };

export function getLocalController(): LocalController | null {
  return (globalThis as Global)[KEY] ?? null;
}

export function setLocalController(c: LocalController): void {
  (globalThis as Global)[KEY] = c;
}

/** Clears the handle if it is still `c` (another controller of the same process may hold it now). */
export function clearLocalController(c: LocalController): void {
  const g = globalThis as Global;
  if (g[KEY] === c) g[KEY] = undefined;
}
