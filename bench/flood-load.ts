/**
 * The web flood of bench/flood.ts, in a process of its own so that the measuring process stays idle.
 * Anonymous, to one path of the panel (default /api/auth/login), until stdin closes or SIGTERM:
 *   - big:  K connections, each sending one large body (Content-Length B MB) streamed from a generator
 *           (one 64 kB buffer, nothing held in memory) as fast as the socket takes it; when its connection
 *           ends (answered, refused or reset) the next body starts after --retry-ms;
 *   - slow: M connections, each declaring a body of --slow-length bytes and sending one byte every
 *           --slow-interval ms; when the server closes one, another opens after --retry-ms.
 * Every request sends `Connection: close`. Prints one JSON line of counters per second and a last one
 * with `"final": true`.
 *
 *   node --import tsx bench/flood-load.ts --url http://127.0.0.1:3000 [--big 6 --big-mb 400 --slow 50 --slow-interval 100]
 */
import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/api/auth/login" },
    big: { type: "string", default: "6" },
    "big-mb": { type: "string", default: "400" },
    slow: { type: "string", default: "50" },
    "slow-interval": { type: "string", default: "100" },
    "slow-length": { type: "string", default: "100000" },
    "retry-ms": { type: "string", default: "100" },
  },
});
if (!values.url) throw new Error("--url is required");
const target = new URL(values.url);
const port = Number(target.port || 80);
const host = target.hostname;
const num = (k: keyof typeof values) => {
  const n = Number(values[k]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${k}: a number >= 0`);
  return n;
};
const BIG = num("big");
const BIG_BYTES = num("big-mb") * 1024 * 1024;
const SLOW = num("slow");
const SLOW_INTERVAL = num("slow-interval");
const SLOW_LENGTH = num("slow-length");
const RETRY_MS = num("retry-ms");

interface Counters {
  started: number;
  /** Answers by HTTP status; "none" = the connection ended without an answer. */
  answers: Record<string, number>;
  /** Body bytes handed to the kernel. */
  bodyBytes: number;
  open: number;
}
const counters = { big: fresh(), slow: fresh() };
function fresh(): Counters {
  return { started: 0, answers: {}, bodyBytes: 0, open: 0 };
}

let stopping = false;
const sockets = new Set<net.Socket>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function* bigBody(total: number): Generator<Buffer> {
  const piece = Buffer.alloc(64 * 1024, "a");
  for (let left = total; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
}

/** One request on a fresh connection; `send` writes the body. Resolves when the connection is gone. */
function request(kind: "big" | "slow", length: number, send: (s: net.Socket, closed: () => boolean) => Promise<void>): Promise<void> {
  const c = counters[kind];
  c.started++;
  c.open++;
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    sockets.add(s);
    let head = "";
    let closed = false;
    s.on("data", (d: Buffer) => {
      if (head.length < 64) head += d.toString("latin1", 0, 64);
    });
    s.on("error", () => undefined);
    s.on("close", () => {
      closed = true;
      sockets.delete(s);
      c.open--;
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? (stopping ? "open at the end" : "none");
      c.answers[status] = (c.answers[status] ?? 0) + 1;
      c.bodyBytes += Math.max(0, s.bytesWritten - headerBytes);
      resolve();
    });
    const headers =
      `POST ${values.path} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${length}\r\nConnection: close\r\n\r\n`;
    const headerBytes = Buffer.byteLength(headers);
    s.once("connect", () => {
      s.write(headers);
      send(s, () => closed).catch(() => undefined);
    });
  });
}

function drainedOrClosed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off("drain", done);
      s.off("close", done);
      resolve();
    };
    s.on("drain", done);
    s.on("close", done);
  });
}

async function bigLoop(): Promise<void> {
  while (!stopping) {
    await request("big", BIG_BYTES, async (s, closed) => {
      for (const chunk of bigBody(BIG_BYTES)) {
        if (closed() || stopping) return;
        if (!s.write(chunk)) await drainedOrClosed(s);
      }
    });
    await sleep(RETRY_MS);
  }
}

async function slowLoop(): Promise<void> {
  while (!stopping) {
    await request("slow", SLOW_LENGTH, async (s, closed) => {
      for (let i = 0; i < SLOW_LENGTH && !closed() && !stopping; i++) {
        s.write("a");
        await sleep(SLOW_INTERVAL);
      }
    });
    await sleep(RETRY_MS);
  }
}

const t0 = Date.now();
const report = (final = false) => process.stdout.write(JSON.stringify({ t: Date.now() - t0, final, ...counters }) + "\n");
const ticker = setInterval(() => report(), 1000);
const loops = [...Array.from({ length: BIG }, bigLoop), ...Array.from({ length: SLOW }, slowLoop)];

const stop = () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  for (const s of sockets) s.destroy();
  void Promise.race([Promise.all(loops), sleep(2000)]).then(() => {
    report(true);
    process.exit(0);
  });
};
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
