/**
 * A panel server process for the lab that can be killed, stopped and restarted (the fault campaign,
 * lab/chaos.ts): the real server.ts on the production build, started with the integration tests' helper
 * (tests/integration/helpers/server.ts, startServer) on a fixed port, database and admin password, so that
 * a restart is the same panel as before (the API token made at the first start stays valid).
 *
 * startServer runs the tsx CLI, which runs server.ts in a child node process: signals go to that child
 * (the real server, with the controller thread), found in /proc.
 */
import { readFileSync } from "node:fs";
import { freePort, startServer, type StartedServer } from "../tests/integration/helpers/server";
import { sleep } from "./harness";

export interface PanelOptions {
  databaseUrl: string;
  /** Extra environment (LOG_LEVEL, ...). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class LabPanel {
  private srv!: StartedServer;
  private port = 0;
  private password = "";
  adminToken = "";
  url = "";
  /** Everything the servers printed, over every start (a killed one's output is kept). */
  private logs: string[] = [];

  private constructor(private readonly opts: PanelOptions) {}

  static async start(opts: PanelOptions): Promise<LabPanel> {
    const p = new LabPanel(opts);
    p.port = await freePort();
    p.srv = await startServer({ databaseUrl: opts.databaseUrl, env: { PORT: String(p.port), ...opts.env }, timeoutMs: opts.timeoutMs ?? 120_000 });
    p.password = p.srv.adminPassword;
    p.adminToken = p.srv.adminToken!;
    p.url = p.srv.url;
    return p;
  }

  /** The node process running server.ts (the tsx CLI's child), or the CLI itself if it has none. */
  serverPid(): number {
    let pid = this.srv.process.pid!;
    for (let i = 0; i < 4; i++) {
      const c = children(pid);
      if (!c.length) break;
      pid = c[0]!;
    }
    return pid;
  }

  running(): boolean {
    return this.srv.process.exitCode === null && this.srv.process.signalCode === null;
  }

  signal(sig: "SIGSTOP" | "SIGCONT"): void {
    process.kill(this.serverPid(), sig);
  }

  /** SIGKILL of the server (and of the tsx CLI around it); resolves once both are gone. */
  async kill(): Promise<void> {
    const real = this.serverPid();
    const cli = this.srv.process.pid!;
    for (const pid of [real, cli]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 200 && (alive(real) || this.running()); i++) await sleep(10);
    this.logs.push(this.srv.output());
  }

  /** Starts the same panel again (same port, database, admin) and waits until /api/health says db ok. */
  async restart(): Promise<void> {
    this.srv = await startServer({
      databaseUrl: this.opts.databaseUrl,
      adminToken: false,
      env: { PORT: String(this.port), ADMIN_PASSWORD: this.password, ...this.opts.env },
      timeoutMs: this.opts.timeoutMs ?? 120_000,
    });
  }

  output(): string {
    return [...this.logs, this.srv.output()].join("\n--- panel restarted ---\n");
  }

  async stop(): Promise<void> {
    try {
      process.kill(this.serverPid(), "SIGCONT");
    } catch {
      /* gone */
    }
    if (this.running()) await this.srv.stop().catch(() => undefined);
    const real = this.serverPid();
    if (alive(real)) process.kill(real, "SIGKILL");
  }
}
