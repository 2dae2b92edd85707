/** Receivers and a dispatcher for the notification tests (each started by the test, stopped after). */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { db } from "@/lib/db";
import { Dispatcher, type DispatcherOptions } from "@/lib/notifications/dispatcher";
import type { Logger } from "@/lib/log";

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** An HTTP receiver: records every POST; `answer` chooses the status of each (default 200). */
export async function startReceiver(answer: (r: Omit<Received, "status">, n: number) => number | Promise<number> = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const r = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      const status = await answer(r, received.length);
      received.push({ ...r, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const noop = () => {};
export const silentLog: Logger = { debug: noop, info: noop, warn: noop, error: (m, f) => console.error(m, f), child: () => silentLog };

export async function startDispatcher(o: Partial<DispatcherOptions> = {}): Promise<Dispatcher> {
  const d = new Dispatcher({ log: silentLog, baseDelayMs: 100, maxDelayMs: 1000, ...o });
  await d.start();
  return d;
}

/** Removes every channel (and so their rules and deliveries). */
export async function clearNotifications() {
  await db.notificationChannel.deleteMany({});
}
