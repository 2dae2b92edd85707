/**
 * Leadership: a session advisory lock held on a dedicated Postgres connection. The holder increments
 * ControllerLease.epoch once per term and renews the lease row every second through that same
 * connection. A standby waits for the lock on its own connection (pg_advisory_lock): Postgres grants it
 * the moment the leader's session ends, with no polling in between. The lock connection also LISTENs for
 * the controller's notifications.
 *
 * When the database cannot be reached (the lock connection dies, a renewal cannot get through), the
 * leader keeps its term, "detached": failing over a SIP Server must not depend on the panel's database,
 * and it is safe because agents obey only the highest epoch they have seen — a controller elected
 * meanwhile has a higher one, and the agents refuse this one (STALE_EPOCH: the term ends). Every second
 * it reconnects: it takes the lock again and renews the lease row if the row is still its term's, and
 * goes on; if another controller holds the lock, or led meanwhile (the row has moved on), the term ends.
 * A renewal the database refuses (the row is another's) ends the term at once, as before.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { isUnreachable } from "@/lib/db/errors";
import { advanceTerm, beginTerm, expireLease, listenForChanges, renewLease, tryLeaderLock, waitLeaderLock } from "@/lib/queries/lease";

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
  /** The lock connection; null while detached (the database cannot be reached). */
  client: pg.Client | null;
}

export interface LeadershipHooks {
  onAcquire(term: Term): Promise<void>;
  onLose(reason: string): Promise<void>;
  /** The term goes on without the database (reason), or has it again (null): notifications may have been missed. */
  onDetached?(reason: string | null): void;
  onNotify(channel: string, payload: string): void;
  log: { info(m: string, f?: object): void; warn(m: string, f?: object): void };
}

export class Leadership {
  private timer: NodeJS.Timeout | null = null;
  private term: Term | null = null;
  private stopped = false;
  private busy = false;
  /** A standby's connection waiting for the lock (ended by stop()). */
  private waiting: pg.Client | null = null;
  /** Why the term runs without the database, or null. */
  private detachedBy: string | null = null;

  constructor(
    private readonly url: string,
    readonly controllerId: string,
    private readonly hooks: LeadershipHooks,
  ) {}

  get epoch(): number | null {
    return this.term?.epoch ?? null;
  }

  /** The term goes on while the database cannot be reached: why, or null. */
  get detached(): string | null {
    return this.detachedBy;
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
      if (this.term?.client) await this.renew(this.term);
      else if (this.term) await this.reattach(this.term);
      else await this.tryAcquire();
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /** A standby waits for the lock on its connection (granted when the holder's session ends: no polling). */
  private async tryAcquire() {
    const client = new pg.Client({ connectionString: this.url, application_name: "switchyard-controller", connectionTimeoutMillis: 5000, keepAlive: true });
    client.on("error", () => undefined);
    this.waiting = client;
    try {
      await client.connect();
      await waitLeaderLock(client);
      this.waiting = null;
      if (this.stopped) return void (await client.end().catch(() => undefined));
      const term: Term = { ...(await beginTerm(client, this.controllerId, LEASE_TTL_MS)), client };
      await this.attach(term, client);
      this.term = term;
      this.hooks.log.info("controller: leadership acquired", { controllerId: this.controllerId, epoch: term.epoch });
      await this.hooks.onAcquire(term);
    } catch (err) {
      this.waiting = null;
      if (!this.stopped) this.hooks.log.warn("controller: leadership attempt failed", { err: (err as Error).message });
      await client.end().catch(() => undefined);
      if (this.term?.client === client) await this.lose(this.term, "acquire failed");
    }
  }

  /** The term's lock connection: its notifications, and its loss (the term goes on, detached). */
  private async attach(term: Term, client: pg.Client) {
    await listenForChanges(client);
    client.on("notification", (n) => this.hooks.onNotify(n.channel, n.payload ?? ""));
    client.removeAllListeners("error");
    client.on("error", (err) => this.detach(term, client, `lock connection failed: ${err.message}`));
    client.on("end", () => this.detach(term, client, "lock connection ended"));
    term.client = client;
  }

  private async renew(term: Term) {
    const client = term.client!;
    try {
      if (!(await renewLease(client, this.controllerId, term.epoch, LEASE_TTL_MS))) await this.lose(term, "lease row taken by another controller");
    } catch (err) {
      if (isUnreachable(err)) this.detach(term, client, `renewal failed: ${(err as Error).message}`);
      else await this.lose(term, `renewal failed: ${(err as Error).message}`);
    }
  }

  private detach(term: Term, client: pg.Client, reason: string) {
    if (this.term !== term || term.client !== client) return;
    term.client = null;
    client.removeAllListeners("notification");
    client.end().catch(() => undefined);
    this.detachedBy = reason;
    this.hooks.log.warn("controller: the database cannot be reached: the term goes on without it (agents fence by epoch)", { epoch: term.epoch, reason });
    this.hooks.onDetached?.(reason);
  }

  /** Detached: the lock and the lease row again, if the database is back and nobody else led meanwhile. */
  private async reattach(term: Term) {
    const client = new pg.Client({ connectionString: this.url, application_name: "switchyard-controller", connectionTimeoutMillis: 3000, keepAlive: true });
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch {
      await client.end().catch(() => undefined);
      return; // still away
    }
    try {
      if (!(await tryLeaderLock(client))) {
        await client.end().catch(() => undefined);
        return await this.lose(term, "another controller took the leader lock while the database was away");
      }
      if (!(await renewLease(client, this.controllerId, term.epoch, LEASE_TTL_MS))) {
        await client.end().catch(() => undefined);
        return await this.lose(term, "another controller led while the database was away");
      }
      await this.attach(term, client);
      const was = this.detachedBy;
      this.detachedBy = null;
      this.hooks.log.info("controller: the database is back: the term goes on with it", { epoch: term.epoch, detachedBy: was });
      this.hooks.onDetached?.(null);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!isUnreachable(err)) await this.lose(term, `taking the lease back failed: ${(err as Error).message}`);
    }
  }

  private async lose(term: Term, reason: string) {
    if (this.term !== term) return;
    this.term = null;
    this.detachedBy = null;
    this.hooks.log.warn("controller: leadership lost", { epoch: term.epoch, reason });
    await this.hooks.onLose(reason).catch(() => undefined);
    await term.client?.end().catch(() => undefined);
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
    // Detached, the agents' higher epoch is another controller's, elected while this one was away.
    if (!t.client) return this.lose(t, `an agent follows epoch ${above}: another controller leads`);
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
    await this.waiting?.end().catch(() => undefined); // a standby's wait for the lock ends with its connection
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    const t = this.term;
    if (t) {
      if (t.client) await expireLease(t.client, t.epoch).catch(() => undefined);
      await this.lose(t, "stopping");
    }
  }
}
