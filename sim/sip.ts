/** Minimal SIP message parsing and building (RFC 3261 text format), enough for OPTIONS over UDP. */

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
  if ((m = first.match(/^SIP\/2\.0 (\d{3}) (.*)$/))) {
    msg.status = Number(m[1]);
    msg.reason = m[2];
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
