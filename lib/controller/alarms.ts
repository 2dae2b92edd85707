/**
 * The alarms the controller keeps active: what decide() wants for each pair (and hostAlarms for each
 * host) compared with what is active; the difference is raised or cleared through Writes, in
 * order, and broadcast. Active alarms are known in memory (loaded at the start of a term), so a change
 * costs no query.
 */
import { alarmKey, loadActiveAlarmKeys, type AlarmSpec } from "@/lib/queries/alarms";
import { publishAlarm } from "@/lib/realtime/publish";
import type { Writes } from "./writes";

export type { AlarmSpec };

/** The alarms about a host's agent link rather than a pair (hostAlarms in decide.ts). */
const HOST_ALARMS = ["host_disconnected", "agent_refused"] as const;

export class AlarmBook {
  private active = new Map<string, { pairId: string | null }>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly writes: Writes,
    private readonly onError: (err: unknown) => void,
  ) {}

  async load() {
    this.active = await loadActiveAlarmKeys();
  }

  /** Active alarms of a pair (shown on its view). */
  countFor(pairId: string): number {
    let n = 0;
    for (const a of this.active.values()) if (a.pairId === pairId) n++;
    return n;
  }

  /** Makes the pair's alarms exactly `want`. Returns true when something changed. `after`: writes wait for it. */
  syncPair(pairId: string, want: AlarmSpec[], after?: Promise<unknown>): boolean {
    const wanted = new Map(want.map((a) => [alarmKey(a), a]));
    const raise = [...wanted].filter(([k]) => !this.active.has(k)).map(([, a]) => a);
    const clear = [...this.active].filter(([k, a]) => a.pairId === pairId && !wanted.has(k)).map(([k]) => k);
    return this.apply(raise, clear, after);
  }

  /** Makes the host alarms (host_disconnected, agent_refused) exactly `want`. */
  syncHosts(want: AlarmSpec[]): boolean {
    const wanted = new Map(want.map((a) => [alarmKey(a), a]));
    const raise = [...wanted].filter(([k]) => !this.active.has(k)).map(([, a]) => a);
    const clear = [...this.active].filter(([k, a]) => a.pairId === null && HOST_ALARMS.some((kind) => k.startsWith(`${kind}:`)) && !wanted.has(k)).map(([k]) => k);
    return this.apply(raise, clear);
  }

  private apply(raise: AlarmSpec[], clear: string[], after?: Promise<unknown>): boolean {
    if (!raise.length && !clear.length) return false;
    for (const a of raise) this.active.set(alarmKey(a), { pairId: a.pairId });
    for (const k of clear) this.active.delete(k);
    // The hot path's operation INSERT goes first: alarm writes would compete with it for the database.
    this.chain = this.chain
      .then(() => after?.catch(() => undefined))
      .then(async () => {
        for (const a of raise) {
          const row = await this.writes.raiseAlarm(a);
          if (row) publishAlarm(row);
        }
        for (const k of clear) for (const row of await this.writes.clearAlarm(k)) publishAlarm(row);
      })
      .catch(this.onError);
    return true;
  }

  settled(): Promise<void> {
    return this.chain;
  }
}
