/**
 * Check: two panel instances on ONE database with REALTIME_ADAPTER=postgres. A change made through
 * instance A must reach a browser connected to instance B (audit:new), and each instance's own broadcast
 * must reach its own browser. Exits 1 on failure. Usage: npx tsx bench/multi-instance.ts [postgres|memory] (npm run bench:multi-instance)
 * Needs the production build and the local Postgres (like the integration tests).
 */
import { io as connect, type Socket } from "socket.io-client";
import type { AuditSummary, ClientToServerEvents, ServerToClientEvents } from "../lib/realtime/events";
import { startServer, type StartedServer } from "../tests/integration/helpers/server";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

function until<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

async function main() {
  if (!process.env.SWITCHYARD_TEST_ADMIN_URL && !process.env.DATABASE_URL) process.env.SWITCHYARD_TEST_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";
  const adapter = process.argv[2] ?? "postgres"; // "memory" shows the check can fail: B never sees A's broadcasts
  const env = { REALTIME_ADAPTER: adapter };
  let a: StartedServer | undefined;
  let b: StartedServer | undefined;
  const sockets: Client[] = [];
  try {
    a = await startServer({ env });
    b = await startServer({ env, databaseUrl: a.databaseUrl, adminToken: false });
    const token = a.adminToken!;
    const open = (url: string) => {
      const s: Client = connect(url, { transports: ["websocket"], reconnection: false, auth: { token } });
      sockets.push(s);
      return until(`connect ${url}`, 10_000, new Promise<Client>((resolve, reject) => {
        s.once("connect", () => resolve(s));
        s.once("connect_error", reject);
      }));
    };
    const [onA, onB] = await Promise.all([open(a.url), open(b.url)]);
    const seen = (s: Client, name: string) => new Promise<AuditSummary>((resolve) => s.on("audit:new", (e) => e.details && (e.details as { name?: string }).name === name && resolve(e)));
    const results: Record<string, number> = {};
    for (const [via, target] of [["A", a], ["B", b]] as const) {
      const name = `mi-${via}-${Date.now()}`;
      const t0 = performance.now();
      const gotA = seen(onA, name).then(() => (results[`${via}->browser on A ms`] = +(performance.now() - t0).toFixed(1)));
      const gotB = seen(onB, name).then(() => (results[`${via}->browser on B ms`] = +(performance.now() - t0).toFixed(1)));
      const r = await fetch(`${target.url}/api/hosts`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ name, address: "127.0.0.1", agentUrl: "http://127.0.0.1:9", agentToken: "x".repeat(32) }),
      });
      if (r.status !== 201) throw new Error(`POST /api/hosts via ${via}: ${r.status} ${await r.text()}`);
      await until(`audit:new of ${name} in both browsers`, 10_000, Promise.all([gotA, gotB]));
    }
    console.log(JSON.stringify({ ok: true, adapter, results }));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: (err as Error).message }));
    process.exitCode = 1;
  } finally {
    for (const s of sockets) s.disconnect();
    await b?.stop();
    await a?.stop();
  }
}

void main();
