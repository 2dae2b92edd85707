/**
 * The status writer: the pair and host views every browser sees, and their rows for every panel instance.
 *
 * - A pair's view is broadcast (`pair:state`) only when it changed (timestamps aside) and its PairStatus
 *   row written with the pair's memory; a host's `host:state` only on a meaningful change (link, version,
 *   apps, VIPs) or every HEARTBEAT_REFRESH_MS for its heartbeat.
 * - Rows are written coalesced (PERSIST_DELAY_MS), PERSIST_CHUNK per statement, on the term's own status
 *   connection (never the shared pool); a failed write keeps its items dirty and retries: nothing is lost.
 * - "now primary/backup" (Genesys 00-5150/00-5151) audit rows follow the rows they change.
 */
import type { AgentSnapshot } from "../../protocol/agent";
import type { Exec } from "@/lib/db/connection";
import { isUnreachable } from "@/lib/db/errors";
import { updateHostBeats, upsertHostStatus, upsertPairStatus, type HostBeatRow, type HostStatusRow, type ModeChange } from "@/lib/queries/status";
import { publishHostState, publishPairState } from "@/lib/realtime/publish";
import type { HostView, PairView } from "@/lib/views";
import type { HostCfg, HostObs, PairCfg, PairMemory } from "./model";
import { hostView } from "./view";
import type { Writes } from "./writes";

const PERSIST_DELAY_MS = 50;
/** A heartbeat (lastHeartbeatAt, rttMs) is persisted and re-broadcast at most this often per host. */
export const HEARTBEAT_REFRESH_MS = 5000;
/** Status rows per statement. */
export const PERSIST_CHUNK = 100;
/** After a failed status write, the retry waits this long (the items stay dirty). */
const PERSIST_RETRY_MS = 1000;

/** What the writer reads from the term. */
export interface StatusSource {
  hosts(): Map<string, HostCfg>;
  pairs(): Map<string, PairCfg>;
  obs(hostId: string): HostObs | undefined;
  memory(pairId: string): PairMemory;
}

/** A pair view's identity for "did it change": everything but its timestamps. */
function viewKey(v: PairView): string {
  return JSON.stringify({ ...v, updatedAt: null, servers: v.servers.map((s) => ({ ...s, lastHeartbeatAt: null })) });
}

/** A host view's identity for "did it change": everything but the heartbeat time and the RTT. */
function hostKey(v: HostView): string {
  return JSON.stringify({ ...v, lastHeartbeatAt: null, rttMs: null });
}

export class StatusWriter {
  private published = new Map<string, { view: PairView; key: string; memoryKey: string }>();
  private hostPublished = new Map<string, { key: string; at: number }>();
  private hostPersistedAt = new Map<string, number>();
  /** Hosts with a full HostStatus row written in this term (later ones may be heartbeat-only). */
  private hostWritten = new Set<string>();
  private dirtyPairs = new Set<string>();
  private dirtyHosts = new Set<string>();
  private dirtySnapshots = new Set<string>();
  private modes: ModeChange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly src: StatusSource,
    private readonly io: { exec: Exec; writes: Writes; epoch: number; now: () => number; onError: (err: unknown) => void },
  ) {}

  /** Broadcasts and persists the pair's view if it changed; returns the current view. */
  pair(view: PairView): PairView {
    const key = viewKey(view);
    const memoryKey = JSON.stringify(this.src.memory(view.id));
    const last = this.published.get(view.id);
    if (last && last.key === key) {
      if (last.memoryKey !== memoryKey) {
        last.memoryKey = memoryKey;
        this.dirty(this.dirtyPairs, view.id);
      }
      return last.view;
    }
    this.published.set(view.id, { view, key, memoryKey });
    publishPairState(view);
    this.dirty(this.dirtyPairs, view.id);
    return view;
  }

  /** The host's link or snapshot changed. */
  host(hostId: string, snapshotChanged: boolean) {
    if (snapshotChanged) this.dirtySnapshots.add(hostId);
    this.hostPersistedAt.set(hostId, this.io.now());
    this.dirty(this.dirtyHosts, hostId);
  }

  /** A heartbeat: persisted and re-broadcast at most every HEARTBEAT_REFRESH_MS per host. */
  beat(hostId: string) {
    const now = this.io.now();
    if (now - (this.hostPersistedAt.get(hostId) ?? 0) < HEARTBEAT_REFRESH_MS) return;
    this.hostPersistedAt.set(hostId, now);
    this.dirty(this.dirtyHosts, hostId);
  }

  /** Servers of these pairs whose confirmed mode changed between two snapshots of a host: audited. */
  modesChanged(hostId: string, prev: AgentSnapshot | null, next: AgentSnapshot, pairIds: string[]) {
    for (const a of next.apps) {
      const before = prev?.apps.find((x) => x.name === a.name)?.mode;
      if (a.mode === before || (a.mode !== "primary" && a.mode !== "backup")) continue;
      for (const id of pairIds) {
        const s = this.src.pairs().get(id)?.servers.find((x) => x.hostId === hostId && x.appName === a.name);
        if (s) this.modes.push({ pairId: id, serverId: s.id, serverName: s.name, hostName: s.hostName, mode: a.mode });
      }
    }
    if (this.modes.length) this.schedule();
  }

  /** The last published view of every configured pair (the live channel's snapshot on connect). */
  views(): PairView[] {
    return [...this.src.pairs().keys()].flatMap((id) => this.published.get(id)?.view ?? []);
  }

  /** Forgets pairs and hosts that are no longer configured. */
  prune() {
    const pairs = this.src.pairs();
    const hosts = this.src.hosts();
    for (const id of [...this.published.keys()]) if (!pairs.has(id)) this.published.delete(id);
    for (const id of [...this.hostPublished.keys()]) {
      if (hosts.has(id)) continue;
      for (const m of [this.hostPublished, this.hostPersistedAt]) m.delete(id);
      for (const s of [this.hostWritten, this.dirtyHosts, this.dirtySnapshots]) s.delete(id);
    }
  }

  private dirty(set: Set<string>, id: string) {
    set.add(id);
    this.schedule();
  }

  private schedule(delayMs = PERSIST_DELAY_MS) {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.chain = this.chain.then(() => this.persist()).catch(this.io.onError);
    }, delayMs);
  }

  /** Writes what is pending now and stops (end of the term). */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
    await this.persist().catch(this.io.onError);
  }

  private async persist() {
    const pairs = [...this.dirtyPairs].filter((id) => this.src.pairs().has(id));
    const hosts = [...this.dirtyHosts];
    const snaps = this.dirtySnapshots;
    const modes = this.modes;
    this.dirtyPairs = new Set();
    this.dirtyHosts = new Set();
    this.dirtySnapshots = new Set();
    this.modes = [];
    const pairRows = pairs.flatMap((id) => {
      const view = this.published.get(id)?.view;
      return view ? [{ id, status: view.status, state: { ...view, memory: this.src.memory(id), epoch: this.io.epoch } }] : [];
    });
    const full: HostStatusRow[] = [];
    const beats: HostBeatRow[] = [];
    for (const id of hosts) {
      const o = this.src.obs(id);
      if (!o || !this.src.hosts().has(id)) continue;
      const lastHeartbeatAt = o.lastHeartbeatAt ? new Date(o.lastHeartbeatAt).toISOString() : null;
      if (snaps.has(id) || !this.hostWritten.has(id)) {
        full.push({ id, connected: o.connected, lastHeartbeatAt, rttMs: o.rttMs, agentVersion: o.snapshot?.version ?? null, snapshot: o.snapshot ?? null });
      } else beats.push({ id, connected: o.connected, lastHeartbeatAt, rttMs: o.rttMs });
    }
    try {
      const exec = this.io.exec;
      for (let i = 0; i < pairRows.length; i += PERSIST_CHUNK) await upsertPairStatus(pairRows.slice(i, i + PERSIST_CHUNK), exec);
      for (let i = 0; i < full.length; i += PERSIST_CHUNK) await upsertHostStatus(full.slice(i, i + PERSIST_CHUNK), exec);
      for (let i = 0; i < beats.length; i += PERSIST_CHUNK) await updateHostBeats(beats.slice(i, i + PERSIST_CHUNK), exec);
      for (const r of full) this.hostWritten.add(r.id);
      this.publishHosts(hosts);
      if (modes.length) await this.io.writes.modes(modes.filter((m) => this.src.pairs().has(m.pairId)), this.io.epoch);
    } catch (err) {
      // The live views go on without the database (a panel left open still sees every change).
      if (isUnreachable(err)) this.publishHosts(hosts);
      // Nothing lost: everything of this round is dirty again (a newer state written later is the same rows).
      for (const id of pairs) this.dirtyPairs.add(id);
      for (const id of hosts) this.dirtyHosts.add(id);
      for (const id of snaps) this.dirtySnapshots.add(id);
      this.modes = modes.concat(this.modes);
      this.schedule(PERSIST_RETRY_MS);
      throw err;
    }
  }

  /** host:state on a meaningful change, or the periodic heartbeat refresh. */
  private publishHosts(ids: string[]) {
    const now = this.io.now();
    for (const id of ids) {
      const h = this.src.hosts().get(id);
      if (!h) continue;
      const view = hostView(h, this.src.obs(id));
      const key = hostKey(view);
      const last = this.hostPublished.get(id);
      if (last && last.key === key && now - last.at < HEARTBEAT_REFRESH_MS - 500) continue;
      this.hostPublished.set(id, { key, at: now });
      publishHostState(view);
    }
  }
}
