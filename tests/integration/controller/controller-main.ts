/** A controller in a process of its own (for the crash test): `tsx controller-main.ts`, DATABASE_URL set. */
import { startController } from "@/lib/controller";
import { log } from "@/lib/log";

const c = await startController({ io: null, log });
const stop = async () => {
  await c.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
