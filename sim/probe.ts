/**
 * SIP OPTIONS probe over UDP (Node dgram only). The socket is connected to the target, so a reply from any
 * other source address or port is never accepted (the kernel filters it): a server bound to 0.0.0.0 that
 * answers from the wrong address fails this probe, which is the point (see the network notes).
 */
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { header, parseSip, randomToken } from "./sip";

export interface SipProbeOptions {
  host: string;
  port?: number;
  timeoutMs?: number;
  /** Local address to bind (e.g. the client's own address in a lab namespace). */
  localAddress?: string;
  /** Request-URI user part; default "probe". */
  user?: string;
}

export interface SipProbeResult {
  status: number;
  reason: string;
  /** Lower-cased header name → first value. */
  headers: Record<string, string>;
  rttMs: number;
  from: { address: string; port: number };
  raw: string;
}

export class SipProbeError extends Error {
  constructor(
    message: string,
    readonly code: "TIMEOUT" | "SOCKET" | "BAD_REPLY",
  ) {
    super(message);
  }
}

/** Sends one OPTIONS and resolves with the first final response (>= 200) matching its Call-ID and branch. */
export function sipOptions(opts: SipProbeOptions): Promise<SipProbeResult> {
  const port = opts.port ?? 5060;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const sock = dgram.createSocket(isIPv6(opts.host) ? "udp6" : "udp4");
  const callId = `${randomToken(16)}@switchyard-probe`;
  const branch = `z9hG4bK${randomToken(16)}`;
  const t0 = performance.now();
  return new Promise<SipProbeResult>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, res?: SipProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(
      () => done(new SipProbeError(`no SIP reply from ${opts.host}:${port} within ${timeoutMs} ms`, "TIMEOUT")),
      timeoutMs,
    );
    sock.on("error", (e) => done(new SipProbeError(`${opts.host}:${port}: ${e.message}`, "SOCKET")));
    sock.on("message", (buf, rinfo) => {
      const msg = parseSip(buf.toString("utf8"));
      if (!msg || msg.status === undefined) return;
      if (header(msg, "call-id") !== callId) return;
      if (!(header(msg, "via") ?? "").includes(branch)) return;
      if (msg.status < 200) return; // provisional
      const headers: Record<string, string> = {};
      for (const [k, v] of msg.headers) headers[k] = v[0];
      done(null, {
        status: msg.status,
        reason: msg.reason ?? "",
        headers,
        rttMs: performance.now() - t0,
        from: { address: rinfo.address, port: rinfo.port },
        raw: buf.toString("utf8"),
      });
    });
    sock.bind({ address: opts.localAddress, port: 0 }, () => {
      sock.connect(port, opts.host, (err?: Error) => {
        if (err) return done(new SipProbeError(`${opts.host}:${port}: ${err.message}`, "SOCKET"));
        const local = sock.address();
        const hostPart = isIPv6(opts.host) ? `[${opts.host}]` : opts.host;
        const localHost = isIPv6(local.address) ? `[${local.address}]` : local.address;
        const msg =
          [
            `OPTIONS sip:${opts.user ?? "probe"}@${hostPart}:${port} SIP/2.0`,
            `Via: SIP/2.0/UDP ${localHost}:${local.port};branch=${branch};rport`,
            `Max-Forwards: 70`,
            `From: <sip:switchyard@${localHost}>;tag=${randomToken(8)}`,
            `To: <sip:${opts.user ?? "probe"}@${hostPart}>`,
            `Call-ID: ${callId}`,
            `CSeq: 1 OPTIONS`,
            `Contact: <sip:switchyard@${localHost}:${local.port}>`,
            `Accept: application/sdp`,
            `User-Agent: switchyard-probe`,
            `Content-Length: 0`,
          ].join("\r\n") + "\r\n\r\n";
        sock.send(msg, (e) => {
          if (e) done(new SipProbeError(`${opts.host}:${port}: ${e.message}`, "SOCKET"));
        });
      });
    });
  });
}
