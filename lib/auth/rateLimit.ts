/**
 * The login limiter lives in the database (lib/queries/login-throttle.ts: counted before the password
 * check, shared by every panel instance). This module runs its housekeeping in each panel process: every
 * window (at most a minute apart, at least a second), the windows that are over are summarised into the
 * audit and deleted. Instances running it together each take different rows (SKIP LOCKED).
 */
import type { Logger } from "@/lib/log";
import { closeLoginWindows } from "@/lib/queries/login-throttle";
import { loginRateLimit } from "./config";

export function startLoginWindowCloser({ log }: { log: Logger }): { stop(): Promise<void> } {
  const every = Math.min(60_000, Math.max(1_000, loginRateLimit().windowMs));
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= closeLoginWindows(loginRateLimit().addressMax)
      .then((n) => {
        if (n) log.info("login limiter: windows closed", { summaries: n });
      })
      .catch((err) => log.warn("login limiter: closing windows failed (retried next time)", { err }))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, every);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
