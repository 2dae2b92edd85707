/**
 * The notification dispatcher: runs in the web process (server.ts), never in the controller's thread. It
 * sends what the outbox (NotificationDelivery) holds: woken by the outbox trigger's pg_notify, and by a timer
 * for retries and leases that ran out. Several panel instances share the outbox (claims use SKIP LOCKED).
 * A failed attempt is retried after 1 s, 2 s, 4 s ... (capped), until the last attempt fails for good.
 * Nothing is lost across a restart: a delivery stays pending until a send succeeded; one whose sender died
 * mid-send is due again when its claim's lease ends. Receivers dedupe by the delivery's id.
 */
import type pg from "pg";
import { getPool } from "@/lib/db";
import type { Logger } from "@/lib/log";
import { claimDeliveries, listenForDeliveries, markAttemptFailed, markSent, nextDueAt, NOTIFICATION_CHANNEL, pruneDeliveries, type ClaimedDelivery } from "@/lib/queries/notifications";
import { PermanentError } from "./errors";
import { sendDelivery, type SendContext } from "./send";

export interface DispatcherOptions {
  log: Logger;
  /** First retry delay; doubled each attempt. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts before a delivery fails for good. */
  maxAttempts?: number;
  /** Deliveries claimed at once. */
  batch?: number;
  /** How long a claim holds a delivery (longer than any send's timeout). */
  leaseMs?: number;
  /** Look at the outbox at least this often (a notification missed while reconnecting). */
  pollMs?: number;
  /** Sent and failed deliveries older than this are deleted (the log's retention). */
  keepDays?: number;
  /** Links and names in what is sent (PUBLIC_ORIGIN). */
  externalURL?: string;
  send?: (d: ClaimedDelivery, ctx: SendContext) => Promise<void>;
}

export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export class Dispatcher {
  private readonly o: Required<Omit<DispatcherOptions, "externalURL">> & { externalURL: string };
  private stopped = true;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private listener: pg.PoolClient | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  /** The outbox could not be read last time: said once, not every retry. */
  private failing = false;
  private lastPrune = 0;

  constructor(opts: DispatcherOptions) {
    this.o = {
      baseDelayMs: 1000,
      maxDelayMs: 5 * 60_000,
      maxAttempts: 10,
      batch: 20,
      leaseMs: 60_000,
      pollMs: 30_000,
      keepDays: 30,
      externalURL: "",
      send: sendDelivery,
      ...opts,
    };
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listen().catch((err) => {
      this.o.log.warn("notifications: cannot listen for deliveries; retrying", { err: String(err) });
      this.scheduleReconnect();
    });
    this.kick();
  }

  /** Stops listening and waits for the sends under way (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconnect) clearTimeout(this.reconnect);
    this.timer = this.reconnect = null;
    const l = this.listener;
    this.listener = null;
    if (l) {
      l.removeAllListeners("notification");
      l.release(true);
    }
    await this.running;
  }

  /** Look at the outbox now (the trigger's notification, a test's nudge). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(() => {
        if (this.failing) this.o.log.info("notifications: the outbox can be read again");
        this.failing = false;
      })
      .catch((err) => {
        if (!this.failing) this.o.log.warn("notifications: cannot read the outbox; retrying every second", { err: String(err) });
        this.failing = true;
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.arm();
      });
  }

  private async listen() {
    const client = await getPool().connect();
    if (this.stopped) {
      client.release(true);
      return;
    }
    client.on("notification", (n) => {
      if (n.channel === NOTIFICATION_CHANNEL) this.kick();
    });
    client.on("error", (err) => {
      this.o.log.warn("notifications: listening connection lost; reconnecting", { err: String(err) });
      if (this.listener === client) this.listener = null;
      client.release(true);
      this.scheduleReconnect();
    });
    await listenForDeliveries(client);
    this.listener = client;
  }

  private scheduleReconnect() {
    if (this.stopped || this.reconnect) return;
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      this.listen().then(
        () => this.kick(),
        () => this.scheduleReconnect(),
      );
    }, 1000);
    this.reconnect.unref();
  }

  /** The timer: the next due delivery, or the poll. */
  private async arm() {
    if (this.stopped) return;
    let at = this.failing ? Date.now() + 1000 : Date.now() + this.o.pollMs;
    if (!this.failing && Date.now() - this.lastPrune > 3600_000) {
      this.lastPrune = Date.now();
      await pruneDeliveries(this.o.keepDays).catch(() => undefined);
    }
    try {
      const due = await nextDueAt();
      if (due) at = Math.min(at, due.getTime());
    } catch {
      at = Date.now() + 1000;
    }
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private async drain() {
    while (!this.stopped) {
      this.again = false;
      const claimed = await claimDeliveries(this.o.batch, this.o.leaseMs);
      if (!claimed.length) return;
      await Promise.all(claimed.map((d) => this.deliver(d)));
    }
  }

  private async deliver(d: ClaimedDelivery) {
    const ctx: SendContext = { externalURL: this.o.externalURL };
    try {
      if (!d.enabled) throw new PermanentError("the channel is disabled");
      // Every sender has timeouts of its own; this bounds the whole send well inside the claim's lease.
      let guard: NodeJS.Timeout | undefined;
      const limit = Math.floor(this.o.leaseMs / 2);
      await Promise.race([
        this.o.send(d, ctx),
        new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(new Error(`no result within ${limit} ms`)), limit);
        }),
      ]).finally(() => clearTimeout(guard));
      await markSent(d.id);
      this.o.log.info("notification sent", { deliveryId: d.id, event: d.event, channel: d.channelName, type: d.type, attempt: d.attempts });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const last = err instanceof PermanentError || d.attempts >= this.o.maxAttempts;
      const retryAt = last ? null : new Date(Date.now() + retryDelayMs(d.attempts, this.o.baseDelayMs, this.o.maxDelayMs));
      this.o.log.warn(last ? "notification failed" : "notification attempt failed; retrying", { deliveryId: d.id, event: d.event, channel: d.channelName, type: d.type, attempt: d.attempts, error, retryAt });
      await markAttemptFailed(d.id, error, retryAt).catch((e) => this.o.log.warn("notifications: cannot record a failed attempt (retried when its lease ends)", { deliveryId: d.id, err: String(e) }));
    }
  }
}
