/**
 * Leadership: a session advisory lock held on a dedicated Postgres connection. The holder increments
 * ControllerLease.epoch once per term and renews the lease row every second through that same
 * connection; if a renewal fails or the connection dies, it stops acting at once. Standbys retry every
 * second. The lock connection also LISTENs for the controller's notifications.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { advanceTerm, beginTerm, expireLease, listenForChanges, renewLease, tryLeaderLock } from "@/lib/queries/lease";

export { LEADER_LOCK_KEY } from "@/lib/queries/lease";
export const RENEW_MS = 1000;
export const LEASE_TTL_MS = 5000;

export function newControllerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export interface Term {
  epoch: number;
  /** The cluster's identity (the lease row's): agents bind to it. */
  clusterId: string;
  client: pg.Client;
}

export interface LeadershipHooks {
  onAcquire(term: Term): Promise<void>;
  onLose(reason: string): Promise<void>;
  onNotify(channel: string, payload: string): void;
  log: { info(m: string, f?: object): void; warn(m: string, f?: object): void };
}

export class Leadership {
  private timer: NodeJS.Timeout | null = null;
  private term: Term | null = null;
  private stopped = false;
  private busy = false;

  constructor(
    private readonly url: string,
    readonly controllerId: string,
    private readonly hooks: LeadershipHooks,
  ) {}

  get epoch(): number | null {
    return this.term?.epoch ?? null;
  }

  start(): void {
    void this.tick();
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), RENEW_MS);
  }

  private async tick() {
    if (this.stopped || this.busy) return;
    this.busy = true;
    try {
      if (this.term) await this.renew(this.term);
      else await this.tryAcquire();
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  private async tryAcquire() {
    const client = new pg.Client({ connectionString: this.url, application_name: "switchyard-controller", query_timeout: 3000, keepAlive: true });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if (!(await tryLeaderLock(client))) {
        await client.end().catch(() => undefined);
        return;
      }
      const term: Term = { ...(await beginTerm(client, this.controllerId, LEASE_TTL_MS)), client };
      await listenForChanges(client);
      client.on("notification", (n) => this.hooks.onNotify(n.channel, n.payload ?? ""));
      const lost = (why: string) => void this.lose(term, why);
      client.removeAllListeners("error");
      client.on("error", (err) => lost(`lock connection failed: ${err.message}`));
      client.on("end", () => lost("lock connection ended"));
      this.term = term;
      this.hooks.log.info("controller: leadership acquired", { controllerId: this.controllerId, epoch: term.epoch });
      await this.hooks.onAcquire(term);
    } catch (err) {
      this.hooks.log.warn("controller: leadership attempt failed", { err: (err as Error).message });
      await client.end().catch(() => undefined);
      if (this.term?.client === client) await this.lose(this.term, "acquire failed");
    }
  }

  private async renew(term: Term) {
    try {
      if (!(await renewLease(term.client, this.controllerId, term.epoch, LEASE_TTL_MS))) await this.lose(term, "lease row taken by another controller");
    } catch (err) {
      await this.lose(term, `renewal failed: ${(err as Error).message}`);
    }
  }

  private async lose(term: Term, reason: string) {
    if (this.term !== term) return;
    this.term = null;
    this.hooks.log.warn("controller: leadership lost", { epoch: term.epoch, reason });
    await this.hooks.onLose(reason).catch(() => undefined);
    await term.client.end().catch(() => undefined);
  }

  /**
   * An agent has seen an epoch at or above this term's (a forged handshake, or the epochs of a database
   * that was lost): this term cannot command it. Holding the lease, the leader moves its term above that
   * epoch (the lease row first, then a new term with the same lock) instead of being fenced for good.
   */
  async advance(above: number): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    const t = this.term;
    if (!t || this.stopped || above < t.epoch) return;
    this.busy = true;
    try {
      const next = await advanceTerm(t.client, this.controllerId, t.epoch, above);
      if (next === null) return await this.lose(t, "lease row taken by another controller");
      this.hooks.log.warn("controller: an agent has seen a higher epoch than this term's: moving the term above it", { epoch: t.epoch, agentEpoch: above, next });
      await this.hooks.onLose(`epoch advanced to ${next}`);
      t.epoch = next;
      await this.hooks.onAcquire(t);
    } catch (err) {
      await this.lose(t, `advancing the epoch failed: ${(err as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  /** Gives up leadership (releasing the lock with the connection) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    const t = this.term;
    if (t) {
      await expireLease(t.client, t.epoch).catch(() => undefined);
      await this.lose(t, "stopping");
    }
  }
}
