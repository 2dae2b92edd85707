/**
 * A TCP proxy in front of the test Postgres, to take the database away from one client (a controller)
 * while the test keeps its own connection: `down()` resets every connection and every new one (Postgres
 * stopped, as the client sees it), `blackhole()` keeps them open and forwards nothing (a cut cable),
 * `restore()` forwards again. The database behind it is the real one.
 */
import net from "node:net";

export interface TcpProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url: string;
  down(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(url: string): Promise<TcpProxy> {
  const target = new URL(url);
  const host = target.hostname;
  const port = Number(target.port || 5432);
  let mode: "up" | "down" | "blackhole" = "up";
  const pairs = new Set<{ client: net.Socket; server: net.Socket | null }>();

  const server = net.createServer((client) => {
    if (mode === "down") return void client.destroy();
    const p: { client: net.Socket; server: net.Socket | null } = { client, server: null };
    pairs.add(p);
    client.on("error", () => undefined);
    client.on("close", () => {
      pairs.delete(p);
      p.server?.destroy();
    });
    if (mode === "blackhole") return; // accepted, never answered
    connect(p);
  });

  function connect(p: { client: net.Socket; server: net.Socket | null }) {
    const upstream = net.connect(port, host);
    p.server = upstream;
    upstream.on("error", () => p.client.destroy());
    upstream.on("close", () => p.client.destroy());
    p.client.pipe(upstream);
    upstream.pipe(p.client);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String((server.address() as net.AddressInfo).port);

  const proxy: TcpProxy = {
    url: proxied.toString(),
    down() {
      mode = "down";
      for (const p of pairs) {
        p.client.destroy();
        p.server?.destroy();
      }
      pairs.clear();
    },
    blackhole() {
      mode = "blackhole";
      for (const p of pairs) {
        p.client.unpipe();
        p.server?.unpipe();
        p.client.pause();
        p.server?.pause();
      }
    },
    restore() {
      // Connections held in the blackhole are dropped (their state is unknown): clients reconnect.
      if (mode === "blackhole") {
        for (const p of pairs) {
          p.client.destroy();
          p.server?.destroy();
        }
        pairs.clear();
      }
      mode = "up";
    },
    async close() {
      proxy.down();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
