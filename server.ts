/**
 * Switchyard's one process: Next (App Router) and socket.io on one HTTP server, plus the controller.
 * Wiring only; each concern lives in lib/. See docs/configuration.md for the environment.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import next from "next";
import { ConfigError, loadConfig, type Config } from "@/lib/config";
import { initDatabase } from "@/lib/db/bootstrap";
import { closeDb } from "@/lib/db";
import { ensureFirstAdmin, firstAdminBox } from "@/lib/auth/bootstrap";
import { startLoginWindowCloser } from "@/lib/auth/rateLimit";
import { purgeExpiredSessions } from "@/lib/auth/session";
import { httpServerOptions, refuseOversizedBody } from "@/lib/http/body-limit";
import { FORWARDED_HEADERS } from "@/lib/http/origin";
import { CLIENT_IP_HEADER, routeOtherMethod } from "@/lib/http/route";
import { log } from "@/lib/log";
import { METRICS_CONTENT_TYPE, metricsText } from "@/lib/metrics";
import { attachRealtime, closeRealtime } from "@/lib/realtime/server";
import { startControllerThread } from "@/lib/controller/thread";
import { Dispatcher } from "@/lib/notifications/dispatcher";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * METRICS_LISTEN: a second listener serving GET /metrics only, without authentication (for a Prometheus
 * on a management network); anything else is 404. The panel's port serves /metrics to a viewer's token.
 */
async function listenMetrics(hostPort: string): Promise<import("node:http").Server> {
  const i = hostPort.lastIndexOf(":");
  const [h, p] = [hostPort.slice(0, i).replace(/^\[|\]$/g, ""), Number(hostPort.slice(i + 1))];
  const server = createServer(httpServerOptions(), (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    metricsText().then(
      (text) => res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : text),
      (err) => {
        log.error("metrics failed", { err });
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics failed; see the server log\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p, h, () => resolve());
  });
  log.info("metrics listening (no authentication)", { url: `http://${hostPort}/metrics` });
  return server;
}

async function main() {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`switchyard: ${err.message}\n(see docs/configuration.md)\n`);
    process.exit(78); // EX_CONFIG
  }
  const dev = cfg.NODE_ENV !== "production";
  const port = cfg.PORT;
  const host = cfg.HOST;
  const started = Date.now();
  const database = await initDatabase({ log });

  const admin = await ensureFirstAdmin();
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  if (admin.created) {
    log.info("first admin created", { username: admin.username, passwordSource: admin.generatedPassword ? "generated" : "ADMIN_PASSWORD" });
    if (admin.generatedPassword) {
      // Deliberately outside the JSON log stream, once, on first start only.
      process.stdout.write("\n" + firstAdminBox(admin.username, admin.generatedPassword, cfg.PUBLIC_ORIGIN ?? `http://${shownHost}:${port}`) + "\n\n");
    }
  }
  purgeExpiredSessions().catch((err) => log.warn("session purge failed", { err }));
  // The login limiter's windows that are over: summarised into the audit, then deleted (lib/auth/rateLimit.ts).
  const loginWindows = startLoginWindowCloser({ log });

  const app = next({ dev, hostname: shownHost, port, dir: process.cwd() });
  await app.prepare();
  const handle = app.getRequestHandler();

  // Request and header timeouts and the body limit: lib/http/body-limit.ts.
  const httpServer = createServer(httpServerOptions(), (req: IncomingMessage, res: ServerResponse) => {
    const t0 = process.hrtime.bigint();
    const method = req.method;
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    req.headers["x-request-id"] = requestId;
    // The route wrapper's rate limiter keys on this; a client-sent value is always overwritten.
    req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? "unknown";
    // Without a trusted proxy in front, forwarded headers are the client's own words: drop them, so that
    // neither Next (which builds the request URL's scheme from X-Forwarded-Proto) nor the Origin check
    // and the cookie's Secure flag (lib/http/origin.ts, lib/auth/cookies.ts) can be steered by them.
    if (!cfg.TRUST_PROXY) for (const h of FORWARDED_HEADERS) delete req.headers[h];
    // An API request with a method Next does not route reaches its route's 405 (lib/http/route.ts).
    routeOtherMethod(req);
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const path = (req.url ?? "").split("?")[0];
      const fields = {
        requestId,
        method,
        path,
        status: res.statusCode,
        durationMs: Number((process.hrtime.bigint() - t0) / 1000n) / 1000,
      };
      if (path.startsWith("/_next/") || path === "/favicon.ico") log.debug("http", fields);
      else if (res.statusCode >= 500) log.error("http", fields);
      else log.info("http", fields);
    });
    if (refuseOversizedBody(req, res)) return;
    handle(req, res).catch((err) => {
      log.error("request handler failed", { requestId, err });
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: { code: "internal", message: "internal error; see the server log" } }));
      }
    });
  });

  attachRealtime(httpServer, { log });
  // The controller runs in a thread of its own (own event loop and database pool): web traffic can
  // neither delay nor prevent a failover. SWITCHYARD_CONTROLLER=off: this instance serves UI and API only.
  // It connects as the runtime role, like the web side (appUrl; DATABASE_URL's owner is for migrations).
  const controller = cfg.SWITCHYARD_CONTROLLER === "off" ? null : startControllerThread({ log, databaseUrl: database.appUrl });
  if (!controller) log.info("controller: disabled in this process (SWITCHYARD_CONTROLLER=off)");
  // Notifications go out from here (the web side), never from the controller's thread (lib/notifications).
  const notifications = new Dispatcher({ log, externalURL: cfg.PUBLIC_ORIGIN ?? "" });
  await notifications.start();

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(port, host, () => resolve());
  });
  const metricsServer = cfg.METRICS_LISTEN ? await listenMetrics(cfg.METRICS_LISTEN) : null;
  const addr = httpServer.address();
  const actualPort = typeof addr === "object" && addr ? addr.port : port;
  log.info("switchyard listening", {
    url: `http://${shownHost}:${actualPort}`,
    host,
    port: actualPort,
    mode: dev ? "development" : "production",
    database: database.embedded ? "embedded" : "external",
    startupMs: Date.now() - started,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    try {
      // Stop accepting, close live sockets, then idle keep-alive connections.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      metricsServer?.close();
      await closeRealtime();
      httpServer.closeIdleConnections();
      await controller?.stop();
      await notifications.stop();
      await loginWindows.stop();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      httpServer.closeAllConnections();
      await app.close().catch(() => undefined);
      await closeDb();
      await database.stop();
      log.info("stopped");
      process.exit(0);
    } catch (err) {
      log.error("shutdown failed", { err });
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  log.error("start-up failed", { err });
  process.exit(1);
});
