// Issue 13: request bodies are bounded before anything reads them, and slow requests do not hold the
// server forever. Against the real server process (server.ts, production build) over raw TCP, so that
// the test controls exactly what is sent and sees when the server closes the connection.
import { createServer } from "node:http";
import net from "node:net";
import { connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as login from "@/app/api/auth/login/route";
import { httpServerOptions, MAX_BODY_BYTES, refuseOversizedBody } from "@/lib/http/body-limit";
import { query } from "../helpers/db";
import { startServer, type StartedServer } from "../helpers/server";

const REQUEST_TIMEOUT_MS = 2000;
const TOO_LARGE = { error: { code: "payload_too_large", message: "request body over 256 kB" } };

/** The server of the current describe block: default timeouts for the body tests, short ones for the timeout tests. */
let srv: StartedServer;

function serverWith(env: Record<string, string>) {
  beforeAll(async () => {
    srv = await startServer({ env });
  });
  afterAll(async () => {
    await srv?.stop();
  });
}

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server ended or reset the connection (within `closeWaitMs` after the answer). */
  closedByServer: boolean;
  /** Body bytes the client managed to hand to its kernel before the connection closed. */
  bytesSent: number;
}

/**
 * One request over a fresh TCP connection: writes `head`, then whatever `send` writes (it stops when the
 * connection closes), reads one response, then waits up to `closeWaitMs` for the server to close.
 */
function exchange(
  head: string,
  send: (write: (b: string | Buffer) => Promise<boolean>) => Promise<void> = async () => {},
  closeWaitMs = 3000,
  port = srv.port,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let raw = Buffer.alloc(0);
    let closed = false;
    let bytesSent = 0;
    let parsed: Omit<Exchange, "closedByServer" | "bytesSent"> | null = null;
    const overall = setTimeout(() => finish(new Error(`no complete response within 15 s; got ${JSON.stringify(raw.toString().slice(0, 300))}`)), 15_000);
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      clearTimeout(overall);
      clearTimeout(closeTimer);
      s.destroy();
      if (err) reject(err);
      else resolve({ ...parsed!, closedByServer: closed, bytesSent });
    };
    const tryParse = () => {
      if (parsed) return;
      const end = raw.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = raw.subarray(0, end).toString().split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      let body = raw.subarray(end + 4);
      if (headers["transfer-encoding"] === "chunked") {
        const text = body.toString();
        if (!text.endsWith("0\r\n\r\n")) return;
        let out = "";
        for (let i = 0; ; ) {
          const eol = text.indexOf("\r\n", i);
          const n = parseInt(text.slice(i, eol), 16);
          if (!n) break;
          out += text.slice(eol + 2, eol + 2 + n);
          i = eol + 2 + n + 2;
        }
        body = Buffer.from(out);
      } else {
        const len = Number(headers["content-length"] ?? 0);
        if (body.length < len) return;
        body = body.subarray(0, len);
      }
      parsed = { status: Number(lines[0]!.split(" ")[1]), headers, body: body.toString() };
      if (closed) finish();
      else closeTimer = setTimeout(() => finish(), closeWaitMs);
    };
    s.on("data", (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      tryParse();
    });
    const onClosed = () => {
      if (closed) return;
      closed = true;
      if (parsed) finish();
      else if (raw.length === 0) finish(new Error("the server closed the connection without an answer"));
    };
    s.on("end", onClosed);
    s.on("close", onClosed);
    s.on("error", () => onClosed());
    const write = (b: string | Buffer) =>
      new Promise<boolean>((res) => {
        if (closed || s.destroyed) return res(false);
        const ok = s.write(b, (err) => {
          if (!err) bytesSent += typeof b === "string" ? Buffer.byteLength(b) : b.length;
          if (!ok) res(!err);
        });
        if (ok) res(true);
      });
    s.on("connect", () => {
      s.write(head);
      send(write).catch(() => undefined);
    });
  });
}

const post = (path: string, headers: Record<string, string | number>, port = srv.port) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
  Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") +
  "\r\n";

/** Writes `total` bytes of body in 64 kB pieces (chunked encoding when asked) until done or the connection closes. */
function body(total: number, chunked: boolean) {
  return async (write: (b: string | Buffer) => Promise<boolean>) => {
    const piece = Buffer.alloc(64 * 1024, "a");
    for (let sent = 0; sent < total; sent += piece.length) {
      const b = piece.subarray(0, Math.min(piece.length, total - sent));
      if (!(await write(chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]) : b))) return;
    }
    if (chunked) await write("0\r\n\r\n");
  };
}

async function healthy(): Promise<void> {
  const r = await fetch(`${srv.url}/api/health`);
  expect(r.status).toBe(200);
  expect((await r.json()).db).toBe("ok");
}

describe("bounded request bodies (server.ts guard + the route wrapper)", () => {
  // Default timeouts (30 s): a connection closed within the tests' 3 s was closed by the guard.
  serverWith({});

  it("Content-Length over the limit: 413 with the one error shape at once, connection closed, body never read", async () => {
    // Headers only: a server that waits for the body before answering never answers this.
    const r = await exchange(post("/api/auth/login", { "Content-Length": 400 * 1024 * 1024 }));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual(TOO_LARGE);
    expect(r.headers.connection).toBe("close");
    expect(r.closedByServer).toBe(true);
    await healthy();
  });

  it("Content-Length over the limit while the client streams 400 MB: 413, and the client gets only a few MB out", async () => {
    const r = await exchange(post("/api/auth/login", { "Content-Length": 400 * 1024 * 1024 }), body(400 * 1024 * 1024, false));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual(TOO_LARGE);
    expect(r.closedByServer).toBe(true);
    // What fits into the two kernels' socket buffers, not the body.
    expect(r.bytesSent).toBeLessThan(32 * 1024 * 1024);
    await healthy();
  });

  it("a chunked 2 MB body is cut at the limit: 413 and the connection closed", async () => {
    const r = await exchange(post("/api/auth/login", { "Transfer-Encoding": "chunked" }), body(2 * 1024 * 1024, true));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual(TOO_LARGE);
    expect(r.closedByServer).toBe(true);
    await healthy();
  });

  it("a chunked body that the route answers without reading (401) is not drained: the connection is closed", async () => {
    const r = await exchange(post("/api/pairs", { "Transfer-Encoding": "chunked" }), body(8 * 1024 * 1024, true));
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.code).toBe("unauthenticated");
    expect(r.closedByServer).toBe(true);
    await healthy();
  });

  it("a 200 kB body still reaches the route: a login with a 200 kB username gets its 400, not 413", async () => {
    const payload = JSON.stringify({ username: "u".repeat(200 * 1024), password: "x" });
    const r = await exchange(post("/api/auth/login", { "Content-Length": Buffer.byteLength(payload) }) + payload, undefined, 1000);
    expect(r.status, r.body).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: "invalid_input", field: "username" });
    expect(r.closedByServer).toBe(false); // an ordinary exchange keeps its connection
  });

  it("exactly the limit, chunked, still reaches the route (the counter is not off by a chunk)", async () => {
    const prefix = '{"username":"';
    const suffix = '","password":"x"}';
    const payload = prefix + "u".repeat(MAX_BODY_BYTES - prefix.length - suffix.length) + suffix;
    expect(Buffer.byteLength(payload)).toBe(MAX_BODY_BYTES);
    const r = await exchange(post("/api/auth/login", { "Transfer-Encoding": "chunked" }), async (write) => {
      for (let i = 0; i < payload.length; i += 50_000) {
        const part = payload.slice(i, i + 50_000);
        await write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
      }
      await write("0\r\n\r\n");
    }, 0);
    expect(r.status, r.body).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: "invalid_input", field: "username" });
  });
});

describe("request timeouts (HTTP_REQUEST_TIMEOUT, here 2 s)", () => {
  serverWith({ HTTP_REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms`, HTTP_HEADERS_TIMEOUT: "1s" });

  it("a body trickling in (a byte every 100 ms) is answered 408 and its connection closed", async () => {
    const started = Date.now();
    const r = await exchange(post("/api/auth/login", { "Content-Length": 1000 }), async (write) => {
      for (let i = 0; i < 1000 && (await write("a")); i++) await new Promise((res) => setTimeout(res, 100));
    });
    expect(r.status).toBe(408);
    expect(r.closedByServer).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    await healthy();
  });

  it("socket.io long-polling stays connected well past the request timeout", async () => {
    const s = connect(srv.url, { transports: ["polling"], reconnection: false, auth: { token: srv.adminToken! } });
    const events: string[] = [];
    s.on("disconnect", (reason) => events.push(`disconnect: ${reason}`));
    s.on("connect_error", (e) => events.push(`connect_error: ${e.message}`));
    try {
      await new Promise<void>((res, rej) => {
        s.once("connect", () => res());
        s.once("connect_error", rej);
      });
      // A polling GET is held open by the server until there is something to send (up to pingInterval, 10 s).
      await new Promise((res) => setTimeout(res, 3 * REQUEST_TIMEOUT_MS));
      expect(events).toEqual([]);
      expect(s.connected).toBe(true);
      expect(s.io.engine.transport.name).toBe("polling");
    } finally {
      s.close();
    }
  });

  it("a streamed response read slowly for longer than the request timeout is not cut (audit export)", async () => {
    const rows = 60_000;
    await query(
      srv.databaseUrl,
      `INSERT INTO "AuditEvent" (actor, action, outcome, details, "prevHash", hash)
       SELECT 'flood-test', 'note', 'info', jsonb_build_object('text', repeat('x', 200)), md5(g::text), md5(g::text) || md5((g + 1)::text)
       FROM generate_series(1, ${rows}) g`,
    );
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect(srv.port, "127.0.0.1", () =>
        s.write(`GET /api/audit/export?format=csv HTTP/1.0\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${srv.adminToken}\r\n\r\n`),
      );
      let got = "";
      // Read a little, then nothing for 1.5 × the request timeout, then the rest.
      s.once("data", (d) => {
        got += d;
        s.pause();
        setTimeout(() => s.resume(), 1.5 * REQUEST_TIMEOUT_MS);
        s.on("data", (more) => (got += more));
      });
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });
    expect(text.split("\r\n")[0]).toContain(" 200 ");
    // HTTP/1.0: no chunk framing in the way. More than the two socket buffers hold (≤ 10 MB here): the
    // response was still being written during the pause.
    expect(text.length).toBeGreaterThan(12 * 1024 * 1024);
    expect(text.match(/,flood-test,note,/g)?.length).toBe(rows);
  });
});

describe("the route wrapper reads a body with a byte counter (in process, no server.ts in front)", () => {
  it("an endless chunked body: 413 after reading just past the limit, the rest never pulled", async () => {
    let pulled = 0;
    const piece = new Uint8Array(16 * 1024).fill(97);
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += piece.length;
        c.enqueue(piece);
      },
    });
    const req = new Request("http://panel.test/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "x-switchyard-client-ip": "127.0.0.1" },
      body: endless,
      duplex: "half",
    } as RequestInit);
    const res = await login.POST(req, { params: Promise.resolve({}) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
    // The stream's own read-ahead (its high-water mark) aside, nothing beyond the limit was pulled.
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 4 * piece.length);
  });

  it("a declared Content-Length over the limit: 413 without reading the body at all", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1;
        c.enqueue(new Uint8Array(1024));
      },
    });
    const req = new Request("http://panel.test/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024), "x-switchyard-client-ip": "127.0.0.1" },
      body,
      duplex: "half",
    } as RequestInit);
    const res = await login.POST(req, { params: Promise.resolve({}) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(TOO_LARGE);
    expect(pulled).toBeLessThanOrEqual(1); // at most the stream's own first pull on construction
  });
});

describe("the guard on its own, in front of a reader that does not enforce the limit", () => {
  it("a chunked body passing the limit stops being delivered and is answered 413 by the guard", async () => {
    let delivered = 0;
    const server = createServer(httpServerOptions(), (req, res) => {
      if (refuseOversizedBody(req, res)) return;
      req.on("data", (d: Buffer) => (delivered += d.length)); // reads everything, answers nothing
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await exchange(post("/anything", { "Transfer-Encoding": "chunked" }, port), body(4 * 1024 * 1024, true), 3000, port);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toEqual(TOO_LARGE);
      expect(r.closedByServer).toBe(true);
      // Delivery stops with the chunk that passes the limit (the parser hands over at most 64 kB at a time).
      expect(delivered).toBeGreaterThan(MAX_BODY_BYTES);
      expect(delivered).toBeLessThanOrEqual(MAX_BODY_BYTES + 64 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
