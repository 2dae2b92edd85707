/**
 * The controller's leadership lease (one row, id 1) and the session advisory lock that guards it. The
 * lock and the lease's writes run on the would-be leader's own connection (`client`): the lock lives and
 * dies with that session. See lib/controller/leader.ts.
 */
import type pg from "pg";
import { db } from "@/lib/db";

export const LEADER_LOCK_KEY = 727_000_100;

/**
 * Every statement on the lock connection but the lock wait itself gives up after this long: a database
 * that does not answer (cut off) is seen within it (the connection has no timeout of its own, so that a
 * standby can wait for the lock as long as it takes).
 */
export const LEASE_QUERY_TIMEOUT_MS = 3000;

function q<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.Client, text: string, values: unknown[] = []) {
  return client.query<R>({ text, values, query_timeout: LEASE_QUERY_TIMEOUT_MS } as pg.QueryConfig);
}

/** Takes the leader lock if free; true when this session holds it now. */
export async function tryLeaderLock(client: pg.Client): Promise<boolean> {
  const r = await q<{ ok: boolean }>(client, "SELECT pg_try_advisory_lock($1) AS ok", [LEADER_LOCK_KEY]);
  return r.rows[0]?.ok === true;
}

/**
 * Waits for the leader lock (a standby): granted the moment the holder's session ends — a leader that
 * stops, dies or loses its connection — with no polling in between. Ends with an error if the connection
 * does; ending the client (a stop) cancels the wait.
 */
export async function waitLeaderLock(client: pg.Client): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1)", [LEADER_LOCK_KEY]);
}

/**
 * A new term: the lease row held by `holder`, its epoch one higher than any before. Returns the epoch and
 * the cluster's identity (created with the row, never changed: agents bind to it).
 */
export async function beginTerm(client: pg.Client, holder: string, ttlMs: number): Promise<{ epoch: number; clusterId: string }> {
  const r = await q<{ epoch: number; clusterId: string }>(client, 
    `INSERT INTO "ControllerLease" (id, holder, epoch, "renewedAt", "expiresAt")
     VALUES (1, $1, 1, now(), now() + make_interval(secs => $2::double precision))
     ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, epoch = "ControllerLease".epoch + 1,
       "renewedAt" = now(), "expiresAt" = EXCLUDED."expiresAt"
     RETURNING epoch, "clusterId"`,
    [holder, ttlMs / 1000],
  );
  return r.rows[0];
}

/**
 * The holder of term `epoch` moves its term above `above` (an agent has seen a higher epoch: forged, or
 * left by a lost database). Returns the new epoch, or null when the row is no longer this term's.
 */
export async function advanceTerm(client: pg.Client, holder: string, epoch: number, above: number): Promise<number | null> {
  const r = await q<{ epoch: number }>(client, 
    `UPDATE "ControllerLease" SET epoch = GREATEST(epoch, $3::int) + 1 WHERE id = 1 AND holder = $1 AND epoch = $2 RETURNING epoch`,
    [holder, epoch, above],
  );
  return r.rows[0]?.epoch ?? null;
}

/** Renews the lease; false when the row is no longer this holder's term. */
export async function renewLease(client: pg.Client, holder: string, epoch: number, ttlMs: number): Promise<boolean> {
  const r = await q(client, 
    `UPDATE "ControllerLease" SET "renewedAt" = now(), "expiresAt" = now() + make_interval(secs => $3::double precision)
     WHERE id = 1 AND holder = $1 AND epoch = $2`,
    [holder, epoch, ttlMs / 1000],
  );
  return r.rowCount === 1;
}

/** Ends the term's lease at once (a clean hand-over: standbys need not wait for it to expire). */
export async function expireLease(client: pg.Client, epoch: number): Promise<void> {
  await q(client, `UPDATE "ControllerLease" SET "expiresAt" = now() WHERE id = 1 AND epoch = $1`, [epoch]);
}

/** Some controller holds a current lease (someone will run a requested operation). */
export async function isLeaseAlive(): Promise<boolean> {
  const r = await db.$queryRaw<{ alive: boolean }[]>`SELECT ("expiresAt" > now()) AS alive FROM "ControllerLease" WHERE id = 1`;
  return !!r[0]?.alive;
}

/** The channels the Operation and configuration triggers notify (migration *_controller_triggers). */
export const CONTROLLER_CHANNELS = ["switchyard_operations", "switchyard_config"] as const;

/** The leader hears the triggers' notifications on its lock connection: no polling loops. */
export async function listenForChanges(client: pg.Client): Promise<void> {
  for (const ch of CONTROLLER_CHANNELS) await q(client, `LISTEN ${ch}`);
}
