/**
 * A dedicated Postgres connection for statements that must never queue behind the shared pool (the
 * controller's failover INSERT, its status writes): kept open, never paying a connect, falling back to
 * the pool while it is down. `exec` runs one statement on it.
 */
import pg from "pg";
import { getPool } from "./index";

const REOPEN_MS = 1000;

/** Runs one statement; the result's rowCount is all the callers need. */
export type Exec = (text: string, values: unknown[]) => Promise<{ rowCount: number | null }>;

/** One statement on the shared pool. */
export const poolExec: Exec = (text, values) => getPool().query(text, values);

export class DedicatedConnection {
  private client: pg.Client | null = null;
  private url: string | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly applicationName: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Opens the connection; once lost, it is opened again every REOPEN_MS (the pool serves meanwhile). */
  async open(url: string): Promise<void> {
    this.url = url;
    const c = new pg.Client({ connectionString: url, application_name: this.applicationName, keepAlive: true, query_timeout: 5000, connectionTimeoutMillis: 5000 });
    const lost = () => {
      if (this.client !== c) return;
      this.client = null;
      this.reopenLater();
    };
    c.on("error", (err) => {
      lost();
      this.onError(err);
    });
    c.on("end", lost);
    try {
      await c.connect();
    } catch (err) {
      this.reopenLater();
      throw err;
    }
    if (this.closed) return void c.end().catch(() => undefined);
    this.client = c;
  }

  private reopenLater() {
    if (this.retry || this.closed || !this.url) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.client && !this.closed) this.open(this.url!).catch(() => undefined);
    }, REOPEN_MS);
    this.retry.unref();
  }

  readonly exec: Exec = (text, values) => (this.client ? this.client.query(text, values) : poolExec(text, values));

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
