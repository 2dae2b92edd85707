/**
 * The login limiter's statements (table LoginThrottle), shared by every panel instance through the
 * database. Windows are fixed, LOGIN_RATE_WINDOW long, aligned on the Unix epoch by the database's clock
 * (so instances with skewed clocks agree). Per window, one row counts a client address's attempts across
 * usernames (username ""), and one row per username + address.
 *
 * An attempt is counted BEFORE its password is checked, by one atomic statement (countLoginAttempt): N
 * concurrent attempts get N distinct counts, so at most the limit of them reach the password check. A
 * successful sign-in takes its attempt back; failures are counted as well, for the audit summary written
 * when the window ends (closeLoginWindows).
 */
import { db } from "@/lib/db";
import { audited, type AuditFn, type Tx } from "./tx";

export interface LoginLimits {
  /** Attempts per username + address per window. */
  userMax: number;
  /** Attempts per address per window, across usernames. */
  addressMax: number;
  windowMs: number;
}

export interface LoginAttempt {
  ip: string;
  /** Lower-cased. */
  username: string;
  windowStart: Date;
}

export type LoginGate = LoginAttempt & {
  allowed: boolean;
  /** The address's attempts in this window, this one included. */
  addressAttempts: number;
  /** The username + address's attempts, this one included; null when the address's budget refused it first. */
  userAttempts: number | null;
  /** Seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
};

/**
 * Counts one attempt and says whether it may go on to the password check: one statement. The address's
 * row is counted first; the username's row only while the address is within its budget (a spray of made-up
 * names from one address stops adding rows once the address is refused).
 */
export async function countLoginAttempt(ip: string, username: string, limits: LoginLimits): Promise<LoginGate> {
  const user = username.toLowerCase();
  const ms = limits.windowMs;
  const [row] = await db.$queryRaw<{ windowStart: Date; addressAttempts: number; userAttempts: number | null; retryAfterSeconds: number }[]>`
    WITH w AS (
      SELECT timestamptz 'epoch' + interval '1 millisecond' * (floor(extract(epoch FROM statement_timestamp()) * 1000 / ${ms}::bigint) * ${ms}::bigint) AS start
    ), address AS (
      INSERT INTO "LoginThrottle" ("ip", "username", "windowStart", "windowEnd", "attempts")
      SELECT ${ip}::text, '', w.start, w.start + interval '1 millisecond' * ${ms}::bigint, 1 FROM w
      ON CONFLICT ("ip", "username", "windowStart") DO UPDATE SET "attempts" = "LoginThrottle"."attempts" + 1
      RETURNING "attempts", "windowStart", "windowEnd"
    ), named AS (
      INSERT INTO "LoginThrottle" ("ip", "username", "windowStart", "windowEnd", "attempts")
      SELECT ${ip}::text, ${user}::text, address."windowStart", address."windowEnd", 1 FROM address WHERE address."attempts" <= ${limits.addressMax}::int
      ON CONFLICT ("ip", "username", "windowStart") DO UPDATE SET "attempts" = "LoginThrottle"."attempts" + 1
      RETURNING "attempts"
    )
    SELECT address."windowStart",
           address."attempts" AS "addressAttempts",
           named."attempts" AS "userAttempts",
           greatest(1, ceil(extract(epoch FROM address."windowEnd" - statement_timestamp())))::int AS "retryAfterSeconds"
      FROM address LEFT JOIN named ON true`;
  const allowed = row.addressAttempts <= limits.addressMax && row.userAttempts !== null && row.userAttempts <= limits.userMax;
  return { ip, username: user, allowed, ...row };
}

/** A wrong username or password: counted on both rows. Returns the username + address's failures in this window. */
export async function countLoginFailure(tx: Tx, a: LoginAttempt): Promise<number> {
  const rows = await tx.$queryRaw<{ username: string; failures: number }[]>`
    UPDATE "LoginThrottle" SET "failures" = "failures" + 1
     WHERE "ip" = ${a.ip} AND "username" IN ('', ${a.username}) AND "windowStart" = ${a.windowStart}
    RETURNING "username", "failures"`;
  return rows.find((r) => r.username !== "")?.failures ?? 1;
}

/** A successful sign-in does not count against either limit: its attempt is taken back. */
export async function takeBackLoginAttempt(tx: Tx, a: LoginAttempt): Promise<void> {
  await tx.$executeRaw`
    UPDATE "LoginThrottle" SET "attempts" = greatest(0, "attempts" - 1)
     WHERE "ip" = ${a.ip} AND "username" IN ('', ${a.username}) AND "windowStart" = ${a.windowStart}`;
}

interface ClosedRow {
  ip: string;
  username: string;
  windowStart: Date;
  windowEnd: Date;
  attempts: number;
  failures: number;
}

/** Rows summarised and deleted per transaction. */
const CLOSE_BATCH = 200;

/**
 * Ends every window that is over: its rows are deleted and, in the same transaction, summarised in the
 * audit as `auth.login_failures` — for a username + address when more happened than the first failure
 * (already audited when it happened): more failures, or attempts refused (429); for an address when its
 * own budget was exceeded. Any instance may run it; rows are claimed with SKIP LOCKED, so each window is
 * summarised once. Returns the number of summaries written.
 */
export async function closeLoginWindows(addressMax: number): Promise<number> {
  let written = 0;
  for (;;) {
    const { rows, summaries } = await audited(async (tx, audit) => {
      const closed = await tx.$queryRaw<ClosedRow[]>`
        DELETE FROM "LoginThrottle" WHERE ctid IN (
          SELECT ctid FROM "LoginThrottle" WHERE "windowEnd" <= statement_timestamp() ORDER BY "windowEnd" LIMIT ${CLOSE_BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING "ip", "username", "windowStart", "windowEnd", "attempts", "failures"`;
      let n = 0;
      for (const r of closed) if (await summarise(audit, r, addressMax)) n++;
      return { rows: closed.length, summaries: n };
    });
    written += summaries;
    if (rows < CLOSE_BATCH) return written;
  }
}

async function summarise(audit: AuditFn, r: ClosedRow, addressMax: number): Promise<boolean> {
  // Attempts that were neither a failure nor taken back by a success were refused (429) without a check.
  const refused = Math.max(0, r.attempts - r.failures);
  const window = { from: r.windowStart.toISOString(), to: r.windowEnd.toISOString() };
  if (r.username !== "") {
    if (r.failures <= 1 && refused === 0) return false;
    await audit({
      actor: r.username,
      action: "auth.login_failures",
      targetType: "user",
      outcome: "failure",
      details: { ip: r.ip, reason: "invalid credentials", failures: r.failures, refused, ...window },
    });
    return true;
  }
  if (r.attempts <= addressMax) return false;
  await audit({
    actor: "anonymous",
    action: "auth.login_failures",
    outcome: "failure",
    details: { ip: r.ip, scope: "address", reason: "too many sign-in attempts from this address", failures: r.failures, refused, ...window },
  });
  return true;
}

