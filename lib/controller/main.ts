/**
 * A controller on its own, without the web panel (`npm run controller`): for operators who want the
 * controller apart from the web servers. It needs DATABASE_URL (the panel's database; migrations are the
 * panel's job). Panels that run beside it set SWITCHYARD_CONTROLLER=off, or keep theirs as standbys:
 * exactly one controller leads, whichever process it runs in.
 */
import { ConfigError, loadConfig } from "@/lib/config";
import { log } from "@/lib/log";
import { closeDb } from "@/lib/db";
import { runtimeUrlFor } from "@/lib/db/roles";
import { runController } from "./index";

function databaseUrlOrExit(): string {
  try {
    const url = loadConfig().DATABASE_URL;
    if (url) return url;
    process.stderr.write("switchyard controller: DATABASE_URL is required (the panel's database)\n");
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`switchyard controller: ${err.message}\n`);
  }
  process.exit(78); // EX_CONFIG
}
const databaseUrl = await runtimeUrlFor(databaseUrlOrExit(), { appUrl: loadConfig().DATABASE_APP_URL, log });
const handle = runController({ log, databaseUrl });
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("controller: stopping", { signal });
  await handle.stop();
  await closeDb();
  process.exit(0);
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
