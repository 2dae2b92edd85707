/**
 * A dedicated Postgres connection for statements that must never queue behind the shared pool (the
 * controller's failover INSERT, its status writes): kept open, never paying a connect, falling back to
 * the pool while it is down. `exec` runs one statement on it.
 */
import pg from "pg";
import { getPool } from "./index";

/** Runs one statement; the result's rowCount is all the callers need. */
export type Exec = (text: string, values: unknown[]) => Promise<{ rowCount: number | null }>;

/** One statement on the shared pool. */
export const poolExec: Exec = (text, values) => getPool().query(text, values);

export class DedicatedConnection {
  private client: pg.Client | null = null;

  constructor(
    private readonly applicationName: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  async open(url: string): Promise<void> {
    const c = new pg.Client({ connectionString: url, application_name: this.applicationName, keepAlive: true, query_timeout: 5000 });
    c.on("error", (err) => {
      if (this.client === c) this.client = null;
      this.onError(err);
    });
    c.on("end", () => {
      if (this.client === c) this.client = null;
    });
    await c.connect();
    this.client = c;
  }

  readonly exec: Exec = (text, values) => (this.client ? this.client.query(text, values) : poolExec(text, values));

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
