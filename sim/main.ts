/**
 * switchyard-sim: a simulated SIP Server. A real UDP SIP endpoint answering OPTIONS with 200 OK when primary
 * and 503 Service Unavailable when backup, plus an HTTP control endpoint (the mode hook).
 *
 *   --host-name NAME           name reported in X-Switchyard-Host (default: os.hostname())
 *   --listen ADDR:PORT         UDP SIP listener; repeatable (own address and the VIP: binding to an absent
 *                              VIP needs sysctl net.ipv4.ip_nonlocal_bind=1)
 *   --control 127.0.0.1:PORT   HTTP control: GET /mode, PUT /mode {"mode":"primary"|"backup"}, GET /health
 *   --mode primary|backup      initial mode (default backup)
 *
 * Prints one JSON line {"event":"ready",...} on stdout once every socket is bound. Node built-ins only.
 */
import dgram from "node:dgram";
import http from "node:http";
import { isIPv6 } from "node:net";
import { buildResponse, parseSip } from "../protocol/sip";

import { parseArgs, type Mode, type Opts } from "./main.parse";

const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");

async function main() {
  let opts: Opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`switchyard-sim: ${(e as Error).message}\n`);
    process.exit(2);
  }
  let mode: Mode = opts.mode;
  const startedAt = new Date().toISOString();

  const sockets = await Promise.all(
    opts.listen.map(
      (l) =>
        new Promise<{ sock: dgram.Socket; addr: string }>((resolve, reject) => {
          const sock = dgram.createSocket({ type: isIPv6(l.address) ? "udp6" : "udp4" });
          sock.once("error", reject);
          sock.on("message", (buf, rinfo) => {
            const req = parseSip(buf.toString("utf8"));
            if (!req || !req.method) return;
            if (req.method === "ACK") return;
            const extra: [string, string][] = [
              ["Server", "switchyard-sim"],
              ["X-Switchyard-Host", opts.hostName],
              ["X-Switchyard-Role", mode],
              ["Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"],
            ];
            let resp: string;
            if (req.method !== "OPTIONS") resp = buildResponse(req, 501, "Not Implemented", extra, rinfo);
            else if (mode === "primary") resp = buildResponse(req, 200, "OK", [...extra, ["Accept", "application/sdp"]], rinfo);
            else resp = buildResponse(req, 503, "Service Unavailable", [...extra, ["Retry-After", "5"]], rinfo);
            sock.send(resp, rinfo.port, rinfo.address);
          });
          sock.bind(l.port, l.address, () => {
            sock.off("error", reject);
            sock.on("error", (e) => out({ event: "socket-error", error: e.message }));
            const a = sock.address();
            resolve({ sock, addr: `${a.address}:${a.port}` });
          });
        }),
    ),
  ).catch((e: Error) => {
    process.stderr.write(`switchyard-sim: cannot bind: ${e.message}\n`);
    process.exit(1);
  });

  let controlAddr: string | null = null;
  if (opts.control) {
    const srv = http.createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const url = (req.url ?? "/").split("?")[0];
      if (url === "/health" && req.method === "GET")
        return send(200, { ok: true, host: opts.hostName, mode, pid: process.pid, startedAt });
      if (url !== "/mode") return send(404, { error: "not found" });
      if (req.method === "GET") return send(200, { mode });
      if (req.method !== "PUT" && req.method !== "POST") return send(405, { error: "method not allowed" });
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => {
        body += c;
        if (body.length > 4096) req.destroy();
      });
      req.on("end", () => {
        let m: unknown;
        try {
          m = (JSON.parse(body) as { mode?: unknown }).mode;
        } catch {
          return send(400, { error: "body must be JSON {\"mode\":\"primary\"|\"backup\"}" });
        }
        if (m !== "primary" && m !== "backup") return send(400, { error: "mode: expected primary or backup" });
        const previous = mode;
        mode = m;
        send(200, { mode }); // answer first: the agent's promotion waits for this reply, not for our log line
        out({ event: "mode", mode, previous });
      });
    });
    // The agent keeps one connection open for its mode hook (no TCP handshake on a failover): do not close
    // idle connections after Node's default 5 s.
    srv.keepAliveTimeout = 0;
    srv.headersTimeout = 10_000;
    srv.requestTimeout = 10_000;
    await new Promise<void>((resolve) => {
      srv.once("error", (e) => {
        process.stderr.write(`switchyard-sim: control: ${e.message}\n`);
        process.exit(1);
      });
      srv.listen(opts.control!.port, opts.control!.address, () => {
        const a = srv.address() as { address: string; port: number };
        controlAddr = `${a.address}:${a.port}`;
        resolve();
      });
    });
  }

  out({ event: "ready", host: opts.hostName, mode, pid: process.pid, sip: sockets.map((s) => s.addr), control: controlAddr });
  const stop = () => {
    out({ event: "exit" });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
