/**
 * socket.io on the panel's HTTP server. Every socket authenticates at connect from the session cookie or
 * an API token (`auth.token` or `Authorization: Bearer`); unauthenticated connections are refused.
 * Sockets join `pairs` and `role:<role>` and get a `pairs:snapshot`; `pair:subscribe` joins `pair:<id>`.
 * One instance (the default, REALTIME_ADAPTER=memory): broadcasts are delivered in-process, never waiting
 * for the database. Several panel instances on one database: REALTIME_ADAPTER=postgres, and
 * @socket.io/postgres-adapter relays broadcasts through Postgres on its OWN small pool (never the Prisma
 * pool, so a broadcast never queues behind transactions).
 */
import type { Server as HttpServer } from "node:http";
import { Server as SocketIOServer } from "socket.io";
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import { BroadcastChannel } from "node:worker_threads";
import { livePairViews, localControllerState } from "@/lib/controller/client";
import { authenticateCredentials, bearerFrom } from "@/lib/auth/principal";
import { config } from "@/lib/config";
import { runtimeDatabaseUrl } from "@/lib/db";
import { canRead } from "@/lib/auth/roles";
import { isAllowedOrigin } from "@/lib/http/origin";
import type { Logger } from "@/lib/log";
import { listPairViews, pairExists } from "@/lib/queries/pairs";
import { tableExists } from "@/lib/queries/schema";
import {
  type Ack,
  credentialRoom,
  PairSubscription,
  pairRoom,
  ROOM_PAIRS,
  roleRoom,
  userRoom,
} from "./events";
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from "./events";
import { REALTIME_CHANNEL, type Broadcast } from "./publish";

export type RealtimeServer = SocketIOServer<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** This process's socket.io server and its subscription to the realtime channel (publish.ts). */
let current: { io: RealtimeServer; channel: BroadcastChannel } | null = null;

/** Table the Postgres adapter uses for payloads over 8000 bytes (created by a migration). */
export const ADAPTER_TABLE = "socket_io_attachments";
/** Connections of the adapter's own pool: one held for LISTEN, the rest for pg_notify / attachments. */
export const ADAPTER_POOL_MAX = 3;

const POOL_KEY = Symbol.for("switchyard.realtime.pool");
type PoolHolder = Record<symbol, pg.Pool | undefined>;

function fail(code: string, message: string): Ack {
  return { ok: false, error: { code, message } };
}

export function attachRealtime(httpServer: HttpServer, deps: { log: Logger }): RealtimeServer {
  const log = deps.log.child({ component: "realtime" });
  const io: RealtimeServer = new SocketIOServer(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next's dev HMR socket) to their own handlers.
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });

  if (config().REALTIME_ADAPTER === "postgres") {
    try {
      const url = runtimeDatabaseUrl(); // the runtime role, like the panel's pool
      if (!url) throw new Error("DATABASE_URL is not set");
      const pool = new pg.Pool({ connectionString: url, max: ADAPTER_POOL_MAX, application_name: "switchyard-realtime", keepAlive: true });
      pool.on("error", (err) => log.warn("realtime: adapter pool connection lost", { err: err.message }));
      (globalThis as unknown as PoolHolder)[POOL_KEY] = pool;
      io.adapter(
        createAdapter(pool, {
          tableName: ADAPTER_TABLE,
          errorHandler: (err) => log.warn("postgres adapter error", { err: err.message }),
        }),
      );
      log.info("realtime: postgres adapter on, own pool (broadcasts reach every panel instance)", { poolMax: ADAPTER_POOL_MAX });
      tableExists(pool, ADAPTER_TABLE)
        .then((present) => present || log.warn(`realtime: table ${ADAPTER_TABLE} is missing; broadcasts over 8 kB will fail`))
        .catch(() => undefined);
    } catch (err) {
      log.warn("realtime: postgres adapter unavailable; using the in-memory adapter (single instance only)", { err });
    }
  } else {
    log.info("realtime: in-memory adapter (single panel instance; REALTIME_ADAPTER=postgres for several)");
  }

  io.use(async (socket, next) => {
    try {
      const headers = socket.handshake.headers;
      const authToken = typeof socket.handshake.auth?.token === "string" ? socket.handshake.auth.token : null;
      const bearer = authToken ?? bearerFrom(headers.authorization);
      const a = await authenticateCredentials({ cookieHeader: headers.cookie, bearer });
      if (!a.principal || !canRead(a.principal)) return next(new Error("unauthenticated"));
      if (a.via === "cookie" && headers.origin) {
        const h = new Headers();
        for (const [k, v] of Object.entries(headers)) if (typeof v === "string") h.set(k, v);
        if (!isAllowedOrigin(headers.origin, h)) return next(new Error("origin not allowed"));
      }
      const p = a.principal;
      socket.data = { userId: p.userId, username: p.username, role: p.role, kind: p.kind, credentialId: p.credentialId };
      next();
    } catch (err) {
      log.error("socket authentication failed", { err });
      next(new Error("authentication unavailable"));
    }
  });

  io.on("connection", (socket) => {
    const d = socket.data;
    void socket.join([ROOM_PAIRS, roleRoom(d.role), credentialRoom(d.kind, d.credentialId), userRoom(d.userId)]);
    log.debug("socket connected", { socketId: socket.id, username: d.username, role: d.role });

    // The local leader serves the snapshot from its live views (no query); otherwise PairStatus.
    livePairViews()
      .then((live) => live ?? listPairViews())
      .then((views) => socket.emit("pairs:snapshot", views))
      .catch((err) => log.warn("pairs snapshot failed", { err }));
    localControllerState()
      .then((state) => state && socket.emit("controller:state", state))
      .catch((err) => log.warn("controller state failed", { err }));

    socket.on("pair:subscribe", async (msg, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = PairSubscription.safeParse(msg);
      if (!parsed.success) return reply(fail("invalid_input", parsed.error.issues[0].message));
      try {
        if (!(await pairExists(parsed.data.pairId))) return reply(fail("not_found", "pair not found"));
        await socket.join(pairRoom(parsed.data.pairId));
        reply({ ok: true });
      } catch (err) {
        log.error("pair:subscribe failed", { err });
        reply(fail("internal", "internal error"));
      }
    });

    socket.on("pair:unsubscribe", async (msg, ack) => {
      const reply = typeof ack === "function" ? ack : () => undefined;
      const parsed = PairSubscription.safeParse(msg);
      if (!parsed.success) return reply(fail("invalid_input", parsed.error.issues[0].message));
      await socket.leave(pairRoom(parsed.data.pairId));
      reply({ ok: true });
    });

    socket.on("disconnect", (reason) => log.debug("socket disconnected", { socketId: socket.id, reason }));
  });

  // Everything published in this process (any thread, any module graph) reaches the rooms from here.
  const channel = new BroadcastChannel(REALTIME_CHANNEL);
  channel.unref();
  channel.onmessage = (e) => {
    const m = (e as { data: unknown }).data as Broadcast;
    if ("disconnect" in m) io.in(m.disconnect).disconnectSockets(true);
    else (io.to(m.rooms).emit as (event: string, payload: unknown) => boolean)(m.event, m.payload);
  };
  current = { io, channel };
  return io;
}

/** Closes every socket and the adapter; detaches the global io. */
export async function closeRealtime(): Promise<void> {
  if (!current) return;
  const { io, channel } = current;
  current = null;
  channel.close();
  // Only this instance's sockets: with the Postgres adapter, io.disconnectSockets would reach every instance.
  io.local.disconnectSockets(true);
  // io.close() would also close the HTTP server, which the caller owns: close the engine and adapter only.
  io.engine.close();
  await io.of("/").adapter.close?.();
  const holder = globalThis as unknown as PoolHolder;
  const pool = holder[POOL_KEY];
  holder[POOL_KEY] = undefined;
  await pool?.end().catch(() => undefined);
}
