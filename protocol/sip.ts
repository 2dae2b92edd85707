/**
 * SIP over UDP, as much of it as Switchyard speaks: the RFC 3261 text format (parse, build an OPTIONS
 * request, build a response) and a one-shot OPTIONS client.
 *
 * Shared by the agent (its `sip` health probe), the simulated SIP Server (sim/: it answers OPTIONS), the
 * lab prober (lab/probe.ts) and the tests. Like everything in protocol/, it imports Node built-ins only
 * (and at most zod): the agent bundle and a bare `node --import tsx` inside a lab namespace both load it.
 */
import dgram from "node:dgram";
import { isIPv6 } from "node:net";

export interface SipMessage {
  /** Request: method and uri set; response: status and reason set. */
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  /** Header names lower-cased (compact forms expanded); values in order of appearance. */
  headers: Map<string, string[]>;
  body: string;
}

const compact: Record<string, string> = {
  v: "via",
  f: "from",
  t: "to",
  i: "call-id",
  m: "contact",
  l: "content-length",
  c: "content-type",
  k: "supported",
};

/** Parses a SIP request or response; null when the text is not one. */
export function parseSip(text: string): SipMessage | null {
  const sep = text.indexOf("\r\n\r\n");
  const head = sep >= 0 ? text.slice(0, sep) : text;
  const body = sep >= 0 ? text.slice(sep + 4) : "";
  // Unfold continuation lines.
  const lines = head.split("\r\n").reduce<string[]>((acc, l) => {
    if (/^[ \t]/.test(l) && acc.length > 0) acc[acc.length - 1] += " " + l.trim();
    else acc.push(l);
    return acc;
  }, []);
  const first = lines.shift();
  if (!first) return null;
  const msg: SipMessage = { headers: new Map(), body };
  let m: RegExpMatchArray | null;
  if ((m = first.match(/^SIP\/2\.0 (\d{3})(?: (.*))?$/))) {
    msg.status = Number(m[1]);
    msg.reason = m[2] ?? "";
  } else if ((m = first.match(/^([A-Z]+) (\S+) SIP\/2\.0$/))) {
    msg.method = m[1];
    msg.uri = m[2];
  } else return null;
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i <= 0) return null;
    let key = l.slice(0, i).trim().toLowerCase();
    key = compact[key] ?? key;
    const value = l.slice(i + 1).trim();
    // Via may carry several comma-separated values; keep them as separate entries.
    const values = key === "via" ? value.split(/,(?=\s*SIP\/)/i).map((v) => v.trim()) : [value];
    msg.headers.set(key, [...(msg.headers.get(key) ?? []), ...values]);
  }
  return msg;
}

/** The first value of a header (name case-insensitive, long form). */
export function header(msg: SipMessage, name: string): string | undefined {
  return msg.headers.get(name.toLowerCase())?.[0];
}

export function randomToken(n = 10) {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let s = "";
  for (let i = 0; i < n; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

/**
 * Builds a response to `req`: Via, From, Call-ID, CSeq echoed; To echoed with a tag added when missing.
 * `source` fills `received`/`rport` on the top Via (RFC 3261 18.2.1, RFC 3581).
 */
export function buildResponse(
  req: SipMessage,
  status: number,
  reason: string,
  extra: [string, string][],
  source?: { address: string; port: number },
  toTag = randomToken(),
): string {
  const vias = [...(req.headers.get("via") ?? [])];
  if (source && vias.length > 0) {
    let top = vias[0];
    if (/;rport(?=;|$)/.test(top)) top = top.replace(/;rport(?=;|$)/, `;rport=${source.port}`);
    const sentBy = top.match(/^SIP\/2\.0\/\w+\s+([^;:\s]+)/)?.[1];
    if (sentBy !== source.address && !/;received=/.test(top)) top += `;received=${source.address}`;
    vias[0] = top;
  }
  const to = header(req, "to") ?? "";
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of vias) lines.push(`Via: ${v}`);
  lines.push(`From: ${header(req, "from") ?? ""}`);
  lines.push(`To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`);
  lines.push(`Call-ID: ${header(req, "call-id") ?? ""}`);
  lines.push(`CSeq: ${header(req, "cseq") ?? ""}`);
  for (const [k, v] of extra) lines.push(`${k}: ${v}`);
  lines.push("Content-Length: 0");
  return lines.join("\r\n") + "\r\n\r\n";
}

export interface OptionsRequest {
  text: string;
  callId: string;
  /** The Via branch (starts with the RFC 3261 magic cookie z9hG4bK). */
  branch: string;
}

const hostPart = (h: string) => (isIPv6(h) ? `[${h}]` : h);

/** An OPTIONS request from `local` (our socket's address and port: Via, Contact) to `target`. */
export function buildOptions(o: {
  target: { host: string; port: number };
  local: { host: string; port: number };
  /** Request-URI user part; default "probe". */
  user?: string;
  cseq?: number;
  callId?: string;
  userAgent?: string;
}): OptionsRequest {
  const callId = o.callId ?? `${randomToken(16)}@switchyard`;
  const branch = `z9hG4bK${randomToken(16)}`;
  const user = o.user ?? "probe";
  const to = hostPart(o.target.host);
  const from = hostPart(o.local.host);
  const text =
    [
      `OPTIONS sip:${user}@${to}:${o.target.port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from}:${o.local.port};branch=${branch};rport`,
      `Max-Forwards: 70`,
      `From: <sip:switchyard@${from}>;tag=${randomToken(8)}`,
      `To: <sip:${user}@${to}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${o.cseq ?? 1} OPTIONS`,
      `Contact: <sip:switchyard@${from}:${o.local.port}>`,
      `Accept: application/sdp`,
      `User-Agent: ${o.userAgent ?? "switchyard-probe"}`,
      `Content-Length: 0`,
    ].join("\r\n") + "\r\n\r\n";
  return { text, callId, branch };
}

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

/**
 * Sends one OPTIONS over UDP and resolves with the first final response (>= 200) matching its Call-ID and
 * branch. The socket is connected to the target, so a reply from any other source address or port is never
 * accepted (the kernel filters it): a server bound to 0.0.0.0 that answers from the wrong address fails
 * this probe, which is the point (see the network notes).
 */
export function sipOptions(opts: SipProbeOptions): Promise<SipProbeResult> {
  const port = opts.port ?? 5060;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const sock = dgram.createSocket(isIPv6(opts.host) ? "udp6" : "udp4");
  const t0 = performance.now();
  return new Promise<SipProbeResult>((resolve, reject) => {
    let settled = false;
    let req: OptionsRequest | null = null;
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
      if (!req || !msg || msg.status === undefined) return;
      if (header(msg, "call-id") !== req.callId) return;
      if (!(header(msg, "via") ?? "").includes(req.branch)) return;
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
        req = buildOptions({ target: { host: opts.host, port }, local: { host: local.address, port: local.port }, user: opts.user });
        sock.send(req.text, (e) => {
          if (e) done(new SipProbeError(`${opts.host}:${port}: ${e.message}`, "SOCKET"));
        });
      });
    });
  });
}
