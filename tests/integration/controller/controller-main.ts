/**
 * A controller in a process of its own (for the crash test): `tsx controller-main.ts`, DATABASE_URL set.
 * CRASH_AFTER_STEP=<action>: the process kills itself (SIGKILL) right after that step succeeded and its
 * records were written — a test hook injected here, not a switch in production code.
 */
import { runController } from "@/lib/controller";
import { log } from "@/lib/log";

const crashAfter = process.env.CRASH_AFTER_STEP;
const c = runController({
  log,
  databaseUrl: process.env.DATABASE_URL!,
  afterStep: crashAfter
    ? async (step, settled) => {
        if (step.action !== crashAfter || step.status !== "succeeded") return;
        await settled();
        log.warn("test: crash after step", { step: step.action });
        process.kill(process.pid, "SIGKILL");
      }
    : undefined,
});
const stop = async () => {
  await c.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
