/**
 * systemd's notification protocol (sd_notify(3)) for the agent's unit (`Type=notify`, `WatchdogSec=`):
 * READY=1 once the agent listens, WATCHDOG=1 every half of WATCHDOG_USEC while its event loop runs (a hung
 * agent stops pinging and systemd restarts it; the applications keep running: KillMode=process), and
 * STOPPING=1 on shutdown.
 *
 * Why a program and not a socket of our own: the protocol is a datagram on a unix socket, which Node cannot
 * send without a native addon, and a native addon would break the one-file agent (dist/agent.mjs, Node
 * only). So the agent runs systemd's own `systemd-notify` — an argv, no shell, nothing from the network —
 * with `--pid` naming the agent, and the unit allows notifications from its processes (NotifyAccess=all).
 * READY=1 is sent three times, 200 ms apart (idempotent): a notification whose sender has exited before
 * systemd reads it may not be attributed to the unit. Without NOTIFY_SOCKET (not under systemd) nothing
 * is sent.
 */
import { execFile } from "node:child_process";
import { log } from "../lib/log";

export class SystemdNotifier {
  private watchdog: NodeJS.Timeout | null = null;
  private readonly enabled = !!process.env.NOTIFY_SOCKET;

  private readonly program = "systemd-notify";

  /** The watchdog interval systemd asks for (half of WATCHDOG_USEC), or null. */
  static watchdogMs(env: Record<string, string | undefined> = process.env, pid = process.pid): number | null {
    const usec = Number(env.WATCHDOG_USEC);
    if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
    if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
    return Math.max(50, Math.floor(usec / 1000 / 2));
  }

  ready(status: string) {
    if (!this.enabled) return;
    for (let i = 0; i < 3; i++) setTimeout(() => this.send(["--ready", `STATUS=${status}`]), i * 200).unref();
    const every = SystemdNotifier.watchdogMs();
    if (every !== null) {
      this.watchdog = setInterval(() => this.send(["WATCHDOG=1"]), every);
      this.watchdog.unref();
      log.info("systemd watchdog: pinging", { everyMs: every });
    }
  }

  stopping() {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (this.enabled) this.send(["STOPPING=1"]);
  }

  private send(args: string[]) {
    execFile(this.program, [`--pid=${process.pid}`, ...args], { timeout: 2000 }, (err) => {
      if (err) log.warn("systemd notification failed", { program: this.program, args: args[0], error: err.message });
    });
  }
}
