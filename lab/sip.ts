/**
 * Minimal SIP over UDP for the lab prober: build an OPTIONS request, parse a response.
 * Pure functions, node built-ins only (the prober runs inside a network namespace with plain Node + tsx).
 */
import { randomBytes } from "node:crypto";

export interface OptionsRequest {
  text: string;
  callId: string;
  cseq: number;
  branch: string;
}

export function buildOptions(opts: {
  target: { host: string; port: number };
  local: { host: string; port: number };
  cseq: number;
  callId?: string;
}): OptionsRequest {
  const branch = "z9hG4bK-" + randomBytes(6).toString("hex");
  const callId = opts.callId ?? randomBytes(8).toString("hex") + "@switchyard-lab";
  const uri = `sip:${opts.target.host}:${opts.target.port}`;
  const tag = randomBytes(4).toString("hex");
  const text =
    `OPTIONS ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${opts.local.host}:${opts.local.port};branch=${branch};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:probe@${opts.local.host}>;tag=${tag}\r\n` +
    `To: <${uri}>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: ${opts.cseq} OPTIONS\r\n` +
    `Contact: <sip:probe@${opts.local.host}:${opts.local.port}>\r\n` +
    `Accept: application/sdp\r\n` +
    `User-Agent: switchyard-lab-probe\r\n` +
    `Content-Length: 0\r\n\r\n`;
  return { text, callId, cseq: opts.cseq, branch };
}

export interface SipResponse {
  status: number;
  reason: string;
  /** Header names lower-cased; the first value of each header. */
  headers: Record<string, string>;
  callId: string | null;
  cseq: number | null;
}

/** Parses a SIP response; null when the datagram is not a SIP/2.0 response. */
export function parseResponse(buf: Buffer | string): SipResponse | null {
  const text = typeof buf === "string" ? buf : buf.toString("utf8");
  const headEnd = text.indexOf("\r\n\r\n");
  const head = headEnd >= 0 ? text.slice(0, headEnd) : text;
  const lines = head.split(/\r?\n/);
  const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(lines[0] ?? "");
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    if (!(k in headers)) headers[k] = line.slice(i + 1).trim();
  }
  const callId = headers["call-id"] ?? headers["i"] ?? null;
  const cseqM = /^(\d+)\s+\w+/.exec(headers["cseq"] ?? "");
  return { status: Number(m[1]), reason: m[2] ?? "", headers, callId, cseq: cseqM ? Number(cseqM[1]) : null };
}
