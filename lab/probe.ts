/**
 * Switchyard lab prober: SIP OPTIONS over a *connected* UDP socket, so that a reply from any address other
 * than the one probed (e.g. a server bound to 0.0.0.0 answering from the host address instead of the VIP)
 * is dropped by the kernel and counts as no answer. Run it inside the client namespace:
 *
 *   ip netns exec syl-client node_modules/.bin/tsx lab/probe.ts once  --target 198.18.0.100:5060
 *   ip netns exec syl-client node_modules/.bin/tsx lab/probe.ts until --target 198.18.0.100:5060 --host host2
 *   ip netns exec syl-client node_modules/.bin/tsx lab/probe.ts watch --target 198.18.0.100:5060
 *   ip netns exec syl-client node_modules/.bin/tsx lab/probe.ts serve      (JSON lines on stdin/stdout)
 *
 * once:  one OPTIONS (retransmitted every --retransmit ms until --timeout); prints the result as JSON;
 *        exit 0 when the answer is --expect-status (default 200) [from --expect-host], 1 otherwise.
 * until: a new OPTIONS every --interval ms until the first reply with --status (default 200) from --host;
 *        bounded by --max-ms and --max-probes; prints {"event":"started"} then the result with the absolute
 *        time of that first matching reply (ms since the epoch, sub-ms precision, same clock in every
 *        namespace), so a caller can compute "action -> first 200 from host2". Exit 0 when matched.
 * watch: probes every --interval ms and prints one line per change of (host, status), bounded by --max-ms.
 * serve: reads commands {"id":..,"cmd":"once"|"until",...same options as the flags, camelCase} one per
 *        line; answers {"id":..,"event":"started"} (until only) and {"id":..,"result":{..}} or
 *        {"id":..,"error":".."}. Commands run concurrently. Ends on stdin EOF.
 *
 * Times: every timestamp is performance.timeOrigin + performance.now() (ms since the epoch, fractional).
 */
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import { z } from "zod";
import { buildOptions, header, parseSip } from "../protocol/sip";

export const now = (): number => performance.timeOrigin + performance.now();

const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "an IPv4 address");
const hostPort = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/, "ADDRESS:PORT, e.g. 198.18.0.100:5060")
  .transform((s) => {
    const [host, port] = s.split(":");
    return { host: host!, port: Number(port) };
  });

export interface Target {
  host: string;
  port: number;
}

export interface ProbeResult {
  target: string;
  answered: boolean;
  status: number | null;
  reason: string | null;
  /** Value of the header naming the answering host (X-Switchyard-Host by default). */
  host: string | null;
  role: string | null;
  /** Source address of the reply (always the target: the socket is connected). */
  from: string | null;
  latencyMs: number | null;
  sentAt: number;
  receivedAt: number | null;
  error: string | null;
}

export interface UntilResult {
  target: string;
  matched: boolean;
  want: { status: number; host: string | null };
  startedAt: number;
  /** Absolute time (ms since epoch) of the first matching reply. */
  matchedAt: number | null;
  /** Round-trip time of the matching probe. */
  matchLatencyMs: number | null;
  probesSent: number;
  replies: number;
  /** Replies counted by "host status". */
  byAnswer: Record<string, number>;
  /** Each change of (host, status) seen, with its time. */
  transitions: { at: number; host: string | null; status: number | null }[];
  error: string | null;
}

export interface ProberOptions {
  /** Local address to bind (the client's address); default: let the kernel choose. */
  bind?: string;
  hostHeader?: string;
  roleHeader?: string;
}

type Waiter = (res: SipResponse, at: number, from: string) => void;

/** A final response as the prober uses it: status, reason, and a header by its lower-cased name. */
interface SipResponse {
  status: number;
  reason: string;
  header: (name: string) => string | null;
}

/** A SIP response with a Call-ID; null for anything else. */
function response(datagram: Buffer): (SipResponse & { callId: string }) | null {
  const m = parseSip(datagram.toString("utf8"));
  const callId = m && header(m, "call-id");
  if (!m || m.status === undefined || !callId) return null;
  return { status: m.status, reason: m.reason ?? "", callId, header: (n) => header(m, n) ?? null };
}

/** One connected UDP socket per target; replies dispatched by Call-ID. */
class Channel {
  private sock: dgram.Socket;
  private waiters = new Map<string, Waiter>();
  private cseq = 1;
  local = { host: "0.0.0.0", port: 0 };
  private constructor(
    readonly target: Target,
    sock: dgram.Socket,
  ) {
    this.sock = sock;
    sock.on("message", (msg, rinfo) => {
      const at = now();
      const res = response(msg);
      if (!res) return;
      const w = this.waiters.get(res.callId);
      if (w) w(res, at, rinfo.address);
    });
  }
  static async open(target: Target, bind?: string): Promise<Channel> {
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind({ port: 0, address: bind }, () => {
        sock.off("error", reject);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.connect(target.port, target.host, () => {
        sock.off("error", reject);
        resolve();
      });
    });
    // ICMP port unreachable etc. arrive as socket errors on a connected socket: they are not fatal here.
    sock.on("error", () => {});
    const ch = new Channel(target, sock);
    const a = sock.address();
    ch.local = { host: bind ?? (a.address === "0.0.0.0" ? target.host : a.address), port: a.port };
    return ch;
  }
  /** Sends one OPTIONS with a fresh Call-ID; returns its id. */
  send(onReply: Waiter): { callId: string; sentAt: number; resend: () => void; done: () => void } {
    const req = buildOptions({ target: this.target, local: this.local, cseq: this.cseq++, userAgent: "switchyard-lab-probe" });
    this.waiters.set(req.callId, onReply);
    const buf = Buffer.from(req.text);
    const resend = () => this.sock.send(buf, (err) => void err);
    const sentAt = now();
    resend();
    return { callId: req.callId, sentAt, resend, done: () => this.waiters.delete(req.callId) };
  }
  close(): void {
    try {
      this.sock.close();
    } catch {
      /* already closed */
    }
  }
}

export class Prober {
  private channels = new Map<string, Promise<Channel>>();
  private hostHeader: string;
  private roleHeader: string;
  constructor(private opts: ProberOptions = {}) {
    this.hostHeader = (opts.hostHeader ?? "X-Switchyard-Host").toLowerCase();
    this.roleHeader = (opts.roleHeader ?? "X-Switchyard-Role").toLowerCase();
  }

  private channel(t: Target): Promise<Channel> {
    const key = `${t.host}:${t.port}`;
    let ch = this.channels.get(key);
    if (!ch) {
      ch = Channel.open(t, this.opts.bind);
      this.channels.set(key, ch);
      ch.catch(() => this.channels.delete(key));
    }
    return ch;
  }

  /** One OPTIONS, retransmitted every retransmitMs until an answer or timeoutMs. */
  async once(t: Target, timeoutMs = 1000, retransmitMs = 100): Promise<ProbeResult> {
    const ch = await this.channel(t);
    const target = `${t.host}:${t.port}`;
    return new Promise<ProbeResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let rt: NodeJS.Timeout | undefined;
      const s = ch.send((res, at, from) => {
        clearTimeout(timer);
        clearInterval(rt);
        s.done();
        resolve({
          target,
          answered: true,
          status: res.status,
          reason: res.reason,
          host: res.header(this.hostHeader),
          role: res.header(this.roleHeader),
          from,
          latencyMs: round(at - s.sentAt),
          sentAt: s.sentAt,
          receivedAt: at,
          error: from === t.host ? null : `reply from ${from}, not ${t.host}`,
        });
      });
      rt = setInterval(s.resend, retransmitMs);
      timer = setTimeout(() => {
        clearInterval(rt);
        s.done();
        resolve({
          target,
          answered: false,
          status: null,
          reason: null,
          host: null,
          role: null,
          from: null,
          latencyMs: null,
          sentAt: s.sentAt,
          receivedAt: null,
          error: `no answer from ${target} within ${timeoutMs} ms`,
        });
      }, timeoutMs);
    });
  }

  /**
   * Probes every intervalMs (a fresh OPTIONS each time, never waiting for the previous one) until the first
   * reply with `status` from `host` (any host when null). `onStarted` runs once the first probe is out.
   */
  async until(
    t: Target,
    want: { status?: number; host?: string | null },
    limits: { intervalMs?: number; maxMs?: number; maxProbes?: number } = {},
    onStarted?: (at: number) => void,
  ): Promise<UntilResult> {
    const ch = await this.channel(t);
    const status = want.status ?? 200;
    const host = want.host ?? null;
    const intervalMs = limits.intervalMs ?? 2;
    const maxMs = limits.maxMs ?? 10_000;
    const maxProbes = limits.maxProbes ?? 20_000;
    const out: UntilResult = {
      target: `${t.host}:${t.port}`,
      matched: false,
      want: { status, host },
      startedAt: now(),
      matchedAt: null,
      matchLatencyMs: null,
      probesSent: 0,
      replies: 0,
      byAnswer: {},
      transitions: [],
      error: null,
    };
    return new Promise<UntilResult>((resolve) => {
      const pending: { done: () => void }[] = [];
      let last = "";
      let finished = false;
      let tick: NodeJS.Timeout | undefined;
      let deadline: NodeJS.Timeout | undefined;
      const finish = (err: string | null) => {
        if (finished) return;
        finished = true;
        clearInterval(tick);
        clearTimeout(deadline);
        // Late replies to earlier probes are simply ignored from now on.
        for (const p of pending) p.done();
        out.error = err;
        resolve(out);
      };
      const fire = () => {
        if (finished) return;
        if (out.probesSent >= maxProbes) return finish(`no match after ${out.probesSent} probes`);
        out.probesSent++;
        const s = ch.send((res, at) => {
          if (finished) return;
          out.replies++;
          const h = res.header(this.hostHeader);
          const key = `${h ?? "?"} ${res.status}`;
          out.byAnswer[key] = (out.byAnswer[key] ?? 0) + 1;
          if (key !== last) {
            last = key;
            out.transitions.push({ at, host: h, status: res.status });
          }
          if (res.status === status && (host === null || h === host)) {
            out.matched = true;
            out.matchedAt = at;
            out.matchLatencyMs = round(at - s.sentAt);
            finish(null);
          }
        });
        pending.push(s);
        if (pending.length > 5000) pending.splice(0, 1000).forEach((p) => p.done());
      };
      fire();
      onStarted?.(out.startedAt);
      tick = setInterval(fire, intervalMs);
      deadline = setTimeout(() => finish(`no match within ${maxMs} ms`), maxMs);
    });
  }

  close(): void {
    for (const ch of this.channels.values()) ch.then((c) => c.close()).catch(() => {});
    this.channels.clear();
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

// ---------------------------------------------------------------- command line and serve mode

const OnceArgs = z.object({
  target: hostPort,
  timeoutMs: z.coerce.number().int().min(10).max(60_000).default(1000),
  retransmitMs: z.coerce.number().int().min(5).max(10_000).default(100),
  expectStatus: z.coerce.number().int().min(100).max(699).default(200),
  expectHost: z.string().min(1).max(64).optional(),
});
const UntilArgs = z.object({
  target: hostPort,
  status: z.coerce.number().int().min(100).max(699).default(200),
  host: z.string().min(1).max(64).optional(),
  intervalMs: z.coerce.number().min(0.5).max(10_000).default(2),
  maxMs: z.coerce.number().int().min(10).max(120_000).default(10_000),
  maxProbes: z.coerce.number().int().min(1).max(200_000).default(20_000),
});
const WatchArgs = z.object({
  target: hostPort,
  intervalMs: z.coerce.number().min(1).max(60_000).default(100),
  maxMs: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  timeoutMs: z.coerce.number().int().min(10).max(60_000).default(500),
});
const ServeCommand = z.discriminatedUnion("cmd", [
  OnceArgs.extend({ cmd: z.literal("once"), id: z.union([z.string(), z.number()]) }),
  UntilArgs.extend({ cmd: z.literal("until"), id: z.union([z.string(), z.number()]) }),
]);

function fail(msg: string): never {
  process.stderr.write(JSON.stringify({ level: "error", msg }) + "\n");
  process.exit(2);
}

function parsed<T extends z.ZodType>(schema: T, v: unknown): z.infer<T> {
  const r = schema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0]!;
    fail(`invalid option --${String(i.path[0] ?? "?").replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}: ${i.message}`);
  }
  return r.data;
}

const print = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: "string" },
      bind: { type: "string" },
      "host-header": { type: "string" },
      "role-header": { type: "string" },
      timeout: { type: "string" },
      retransmit: { type: "string" },
      "expect-status": { type: "string" },
      "expect-host": { type: "string" },
      status: { type: "string" },
      host: { type: "string" },
      interval: { type: "string" },
      "max-ms": { type: "string" },
      "max-probes": { type: "string" },
    },
  });
  const mode = positionals[0] ?? "once";
  if (values.bind !== undefined && !ipv4.safeParse(values.bind).success) fail("invalid option --bind: an IPv4 address");
  const prober = new Prober({ bind: values.bind, hostHeader: values["host-header"], roleHeader: values["role-header"] });
  try {
    if (mode === "once") {
      const a = parsed(OnceArgs, {
        target: values.target,
        timeoutMs: values.timeout,
        retransmitMs: values.retransmit,
        expectStatus: values["expect-status"],
        expectHost: values["expect-host"],
      });
      const r = await prober.once(a.target, a.timeoutMs, a.retransmitMs);
      print(r);
      return r.status === a.expectStatus && (a.expectHost === undefined || r.host === a.expectHost) ? 0 : 1;
    }
    if (mode === "until") {
      const a = parsed(UntilArgs, {
        target: values.target,
        status: values.status,
        host: values.host,
        intervalMs: values.interval,
        maxMs: values["max-ms"],
        maxProbes: values["max-probes"],
      });
      const r = await prober.until(a.target, { status: a.status, host: a.host ?? null }, a, (at) =>
        print({ event: "started", at }),
      );
      print(r);
      return r.matched ? 0 : 1;
    }
    if (mode === "watch") {
      const a = parsed(WatchArgs, { target: values.target, intervalMs: values.interval, maxMs: values["max-ms"], timeoutMs: values.timeout });
      const end = now() + a.maxMs;
      let last = "";
      let stop = false;
      process.once("SIGINT", () => (stop = true));
      process.once("SIGTERM", () => (stop = true));
      while (!stop && now() < end) {
        const r = await prober.once(a.target, a.timeoutMs, Math.min(100, a.timeoutMs));
        const key = r.answered ? `${r.host} ${r.status}` : "no answer";
        if (key !== last) {
          last = key;
          print({ at: new Date(r.receivedAt ?? r.sentAt).toISOString(), answer: key, latencyMs: r.latencyMs, error: r.error });
        }
        await new Promise((res) => setTimeout(res, a.intervalMs));
      }
      return 0;
    }
    if (mode === "serve") {
      const rl = createInterface({ input: process.stdin });
      const running = new Set<Promise<void>>();
      for await (const line of rl) {
        if (!line.trim()) continue;
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          print({ id: null, error: "command is not JSON" });
          continue;
        }
        const c = ServeCommand.safeParse(raw);
        if (!c.success) {
          const i = c.error.issues[0]!;
          print({ id: (raw as { id?: unknown })?.id ?? null, error: `invalid field ${i.path.join(".") || "cmd"}: ${i.message}` });
          continue;
        }
        const cmd = c.data;
        const p = (async () => {
          try {
            if (cmd.cmd === "once") {
              print({ id: cmd.id, result: await prober.once(cmd.target, cmd.timeoutMs, cmd.retransmitMs) });
            } else {
              const r = await prober.until(cmd.target, { status: cmd.status, host: cmd.host ?? null }, cmd, (at) =>
                print({ id: cmd.id, event: "started", at }),
              );
              print({ id: cmd.id, result: r });
            }
          } catch (e) {
            print({ id: cmd.id, error: (e as Error).message });
          }
        })();
        running.add(p);
        void p.finally(() => running.delete(p));
      }
      await Promise.all(running);
      return 0;
    }
    fail(`unknown mode '${mode}' (once, until, watch, serve)`);
  } finally {
    prober.close();
  }
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => fail((e as Error).message),
  );
}
