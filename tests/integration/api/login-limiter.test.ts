// The login limiter against real servers: counted in Postgres before the password check, so concurrent
// attempts cannot race past it, shared by every instance on the database, per username + address and per
// address; failed sign-ins reach the audit once per username + address and window, then as a summary.
// Client addresses come from X-Forwarded-For (TRUST_PROXY=1), so that each case has addresses of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connect, type Socket } from "socket.io-client";
import type { AuditSummary, ClientToServerEvents, ServerToClientEvents } from "@/lib/realtime/events";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { ensureNextBuild, startServer, type StartedServer } from "../helpers/server";

const USER_MAX = 5;
const ADDRESS_MAX = 10;

function login(server: StartedServer, username: string, password: string, ip: string) {
  return fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, "x-forwarded-for": ip },
    body: JSON.stringify({ username, password }),
  });
}

async function auditRows(server: StartedServer, query: string): Promise<AuditSummary[]> {
  const r = await fetch(`${server.url}/api/audit?limit=500&${query}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  expect(r.status).toBe(200);
  return (await r.json()).items;
}

const statuses = (rs: Response[]) => rs.reduce<Record<number, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {});

describe("two panel instances on one database (a window of a day: no window ends during the test)", () => {
  let database: TestDatabase;
  let a: StartedServer;
  let b: StartedServer;

  beforeAll(async () => {
    ensureNextBuild();
    database = await createTestDatabase();
    const env = { TRUST_PROXY: "1", LOGIN_RATE_LIMIT: String(USER_MAX), LOGIN_IP_RATE_LIMIT: String(ADDRESS_MAX), LOGIN_RATE_WINDOW: "1d" };
    a = await startServer({ databaseUrl: database.url, env });
    b = await startServer({ databaseUrl: database.url, env: { ...env, SWITCHYARD_CONTROLLER: "off", ADMIN_PASSWORD: a.adminPassword } });
  }, 300_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await database?.drop();
  });

  it(`50 concurrent wrong passwords for one user, spread over both instances: at most ${USER_MAX} are checked, the rest 429`, async () => {
    const ip = "203.0.113.7";
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => login(i % 2 ? b : a, a.adminUsername, `wrong-${i}`, ip)));
    // A 401 is an attempt whose password was checked; a 429 was refused before any check.
    expect(statuses(rs)).toEqual({ 401: USER_MAX, 429: 50 - USER_MAX });
    const refused = rs.find((r) => r.status === 429)!;
    expect(await refused.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Both instances count on the same rows: the right password is refused on either now.
    expect((await login(a, a.adminUsername, a.adminPassword, ip)).status).toBe(429);
    expect((await login(b, b.adminUsername, b.adminPassword, ip)).status).toBe(429);
    // The first failure is in the audit at once, the others wait for the window's summary.
    const rows = await auditRows(a, `action=auth.login&outcome=failure&actor=${a.adminUsername}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ targetId: null, details: { ip, reason: "invalid credentials" } });
  });

  it(`200 made-up usernames from one address: at most ${ADDRESS_MAX} checked, and as many audit rows, not 200`, async () => {
    const ip = "203.0.113.8";
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => login(i % 2 ? b : a, `nobody-${i}`, "guess", ip)));
    expect(statuses(rs)).toEqual({ 401: ADDRESS_MAX, 429: 200 - ADDRESS_MAX });
    const rows = await auditRows(a, `q=${ip}`);
    expect(rows).toHaveLength(ADDRESS_MAX);
    for (const r of rows) expect(r).toMatchObject({ action: "auth.login", outcome: "failure", details: { ip, reason: "invalid credentials" } });
    // Another address is not affected, and a successful sign-in does not use up the budget.
    for (let i = 0; i < ADDRESS_MAX + 2; i++) expect((await login(i % 2 ? b : a, a.adminUsername, a.adminPassword, "203.0.113.9")).status).toBe(200);
  });
});

describe("failed sign-ins are summarised when their window ends (a window of 2 s)", () => {
  let srv: StartedServer;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  const live: AuditSummary[] = [];
  const waiters = new Set<() => void>();

  /** Resolves once the audit rows the server has sent satisfy `done` (each audit:new is an event: no clock). */
  function auditUntil(done: (rows: AuditSummary[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done(live)) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  }

  beforeAll(async () => {
    ensureNextBuild();
    srv = await startServer({ env: { TRUST_PROXY: "1", LOGIN_RATE_LIMIT: String(USER_MAX), LOGIN_IP_RATE_LIMIT: String(ADDRESS_MAX), LOGIN_RATE_WINDOW: "2s" } });
    socket = connect(srv.url, { transports: ["websocket"], reconnection: false, auth: { token: srv.adminToken } });
    socket.on("audit:new", (e) => {
      live.push(e);
      for (const w of [...waiters]) w();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
  }, 300_000);

  afterAll(async () => {
    socket?.disconnect();
    await srv?.stop();
  });

  type Details = { ip: string; reason: string; failures: number; refused: number; scope?: string; from: string; to: string; windowStart?: string };
  const details = (e: AuditSummary) => e.details as Details;
  const from = (ip: string, action: string) => (rows: AuditSummary[]) => rows.filter((e) => e.action === action && details(e).ip === ip);

  // The bursts are fast but may still straddle two windows; the checks hold per window, whatever the split.
  it("one username + address: its first failure at once, the rest of the window in one auth.login_failures row", async () => {
    const ip = "198.51.100.20";
    const rs = await Promise.all(Array.from({ length: 8 }, () => login(srv, "Mallory", "guess", ip)));
    const { 401: checked = 0, 429: refused = 0 } = statuses(rs);
    const firsts = from(ip, "auth.login");
    const summaries = from(ip, "auth.login_failures");
    // Each window: one failure row when its first failure happened; a summary when more than that happened
    // (it counts all of the window's failures, that first one included). Wait until every attempt is accounted for.
    const accounted = (rows: AuditSummary[]) => {
      const summarised = new Set(summaries(rows).map((e) => details(e).from));
      const alone = firsts(rows).filter((e) => !summarised.has(details(e).windowStart!)).length;
      const sum = (k: "failures" | "refused") => summaries(rows).reduce((n, e) => n + details(e)[k], 0);
      return sum("failures") + alone === checked && sum("refused") === refused;
    };
    await auditUntil(accounted);
    expect(checked).toBeGreaterThanOrEqual(USER_MAX);
    for (const e of firsts(live)) expect(e).toMatchObject({ actor: "mallory", outcome: "failure", targetId: null, details: { reason: "invalid credentials" } });
    expect(summaries(live).length).toBeGreaterThanOrEqual(1);
    for (const e of summaries(live)) {
      expect(e).toMatchObject({ actor: "mallory", outcome: "failure", details: { ip, reason: "invalid credentials" } });
      expect(details(e).failures).toBeLessThanOrEqual(USER_MAX); // never more checks than the limit in a window
      expect(Date.parse(details(e).to) - Date.parse(details(e).from)).toBe(2000);
    }
    // At most two rows per window (8 attempts, at most two windows): the first failure and the summary.
    expect(firsts(live).length + summaries(live).length).toBeLessThanOrEqual(4);
    // What the live channel sent is what the audit holds.
    expect((await auditRows(srv, `q=${ip}`)).length).toBe(firsts(live).length + summaries(live).length);
  });

  it("made-up usernames from one address: a failure row per name checked, then one summary of the address", async () => {
    const ip = "198.51.100.21";
    const rs = await Promise.all(Array.from({ length: ADDRESS_MAX + 5 }, (_, i) => login(srv, `made-up-${i}`, "guess", ip)));
    const { 401: checked = 0, 429: refused = 0 } = statuses(rs);
    expect(refused).toBeGreaterThan(0);
    // Only the address budget refuses here (each name is tried once), and every refusal is in an address summary.
    const summaries = from(ip, "auth.login_failures");
    await auditUntil((rows) => summaries(rows).reduce((n, e) => n + details(e).refused, 0) === refused);
    expect(from(ip, "auth.login")(live)).toHaveLength(checked);
    for (const e of summaries(live)) {
      expect(e).toMatchObject({ actor: "anonymous", details: { ip, scope: "address" } });
      expect(details(e).failures).toBeLessThanOrEqual(ADDRESS_MAX);
    }
  });
});
